"""The versions' command: `versions`, each version of the line callers heard and what it changed."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from ivr.db import get_db
from ivr.models import InsightVersion, LineVersion, as_utc

PARTS = ("flow", "prompts", "knowledge")


@click.command("versions")
@with_appcontext
def versions() -> None:
    """Each version of the line callers heard (ivr/versions.py), the newest first: when it was first
    heard, what changed from the version before it in the same language, and its calls so far
    (those the worker has summarised)."""
    hours = current_app.extensions["ivr.hours"]
    with get_db().reading() as session:
        heard = session.scalars(select(LineVersion).order_by(LineVersion.first_heard, LineVersion.id)).all()
        counts = {
            version: (int(calls or 0), int(helped or 0), int(yes or 0), int(no or 0))
            for version, calls, helped, yes, no in session.execute(
                select(InsightVersion.version, func.sum(InsightVersion.calls), func.sum(InsightVersion.helped),
                       func.sum(InsightVersion.survey_yes), func.sum(InsightVersion.survey_no))
                .group_by(InsightVersion.version)
            )
        }  # fmt: skip
    if not heard:
        click.echo("No call has been answered yet.")
        return
    before: dict[str, LineVersion] = {}
    lines = []
    for version in heard:
        earlier = before.get(version.language)
        changed = [part for part in PARTS if earlier is not None and getattr(earlier, part) != getattr(version, part)]
        what = "first" if earlier is None else (", ".join(changed) + " changed" if changed else "the same parts")
        calls, helped, yes, no = counts.get(version.id, (0, 0, 0, 0))
        when = hours.local(as_utc(version.first_heard))
        lines.append(f"{version.id}  {version.language:6}  {when:%Y-%m-%d %H:%M}  {calls:>6} calls  {helped:>6} helped"
                     f"  solved {yes}/{yes + no}  {what}")  # fmt: skip
        before[version.language] = version
    click.echo(f"{'version':12}  {'lang':6}  {'first heard':16}  (newest first; times in {hours.zone})")
    for line in reversed(lines):
        click.echo(line)
