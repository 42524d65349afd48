"""The experiments' commands, for whoever runs the line from a shell or a deploy script:
`experiments list`, `experiments start`, `experiments stop ID` (the same checks as the page's)."""

from __future__ import annotations

import datetime as dt

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from ivr import experiments
from ivr.db import get_db
from ivr.models import Experiment, as_utc


@click.group("experiments")
def experiments_cli() -> None:
    """A variant of a prompt or a knowledge-base answer for a share of callers (ivr/experiments.py)."""


@experiments_cli.command("list")
@with_appcontext
def list_experiments() -> None:
    """Every experiment, the newest first (its figures: the insights page or API)."""
    hours = current_app.extensions["ivr.hours"]
    with get_db().reading() as session:
        found = session.scalars(select(Experiment).order_by(Experiment.id.desc())).all()
        if not found:
            click.echo("No experiment has run.")
        for e in found:
            ended = f"ended {hours.local(as_utc(e.ended_at)):%Y-%m-%d %H:%M}" if e.ended_at else "running"
            click.echo(f"{e.id:>4}  {e.kind:6}  {e.language:6}  {e.target:24}  {e.share:>3}%  "
                       f"from {hours.local(as_utc(e.started_at)):%Y-%m-%d %H:%M}  {ended}  {e.text!r}")  # fmt: skip


@experiments_cli.command("start")
@click.option("--prompt", "target", help="the prompt's id (prompts/<language>.yaml)")
@click.option("--answer", "slug", help="the knowledge-base answer's name (its slug)")
@click.option("--language", default="en-US", show_default=True)
@click.option("--share", required=True, help="the percentage of callers who hear the variant (1 to 99)")
@click.option("--text", required=True, help="what the variant says (the same {values} as the original)")
@with_appcontext
def start_experiment(target: str | None, slug: str | None, language: str, share: str, text: str) -> None:
    """Start a variant of one prompt (--prompt) or one answer (--answer)."""
    if bool(target) == bool(slug):
        raise click.UsageError("Name one prompt (--prompt ID) or one answer (--answer SLUG).")
    kind, name = ("prompt", target) if target else ("answer", slug)
    try:
        with get_db().transaction() as session:
            started = experiments.start(session, current_app.extensions["ivr.catalog"], kind, language, str(name),
                                        text, share, "command line", dt.datetime.now(dt.UTC))  # fmt: skip
            click.echo(f"experiment {started.id} started: {started.share}% of callers in {language} hear the variant")
    except experiments.ExperimentError as error:
        raise click.ClickException(str(error)) from None


@experiments_cli.command("stop")
@click.argument("experiment_id", type=int)
@with_appcontext
def stop_experiment(experiment_id: int) -> None:
    """Stop one: every caller hears the original again."""
    try:
        with get_db().transaction() as session:
            experiments.stop(session, experiment_id, dt.datetime.now(dt.UTC))
    except experiments.ExperimentError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"experiment {experiment_id} stopped")
