"""The recordings' command: `recordings move`, between this host's folder and the database."""

from __future__ import annotations

import datetime as dt

import click
from flask import current_app
from flask.cli import AppGroup

from ivr.db import get_db
from ivr.messages import audio_store

recordings_cli = AppGroup("recordings", help="The copies of callers' voice messages.")


@recordings_cli.command("move")
@click.option("--to", "to", type=click.Choice(audio_store.KINDS), required=True, help="Where the copies go.")
def move(to: str) -> None:
    """Move every message's copy to the database or to this host's folder (IVR_DATA_DIR/recordings),
    each read back and compared before the old copy is deleted; safe to run while calls come in, and
    again. Then set IVR_RECORDINGS_STORE to the same, so that new copies go there too."""
    line = audio_store.for_line(current_app.config, get_db())
    done = line.move(to, dt.datetime.now(dt.UTC))
    click.echo(f"{done.moved} moved to {line.stores[to]}, {done.already} there already")
    if done.missing:
        shown = ", ".join(str(message_id) for message_id in done.missing[:20])
        more = f" and {len(done.missing) - 20} more" if len(done.missing) > 20 else ""
        click.echo(
            f"{len(done.missing)} could not be read where their message says (messages {shown}{more}): "
            "left as they are; a folder's copies are read on the host that has them",
            err=True,
        )
        raise SystemExit(1)
    if audio_store.kind_for(current_app.config) != to:
        click.echo(f"New copies still go to the {line.keeping.kind}: set IVR_RECORDINGS_STORE={to}.")
