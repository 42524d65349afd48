"""The background work's commands: `worker` and `insights rollup`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from ivr.db import get_db


@click.command("worker")
@click.option("--once", is_flag=True, help="Do what is due now, then stop.")
@click.option(
    "--threads",
    type=click.IntRange(1, 64),
    default=None,
    help="Messages transcribed side by side (default: IVR_WORKER_THREADS, or one per core); copies and sends have threads of their own.",
)
def worker(once: bool, threads: int | None) -> None:
    """Copy recordings, transcribe them and apply audio retention, in the background."""
    from ivr.worker import Worker

    work = Worker(get_db(), current_app.config, threads, current_app.extensions.get("ivr.catalog"))
    if once:
        click.echo(f"{work.run_once()} jobs done")
    else:
        work.run_forever()


insights_cli = AppGroup("insights", help="The supervisors' insights: their daily aggregates.")


@insights_cli.command("rollup")
def insights_rollup() -> None:
    """Summarise every ended call not yet in the day rows (the worker does this as calls end)."""
    import datetime as dt

    from ivr.insights import rollup

    total, now = 0, dt.datetime.now(dt.UTC)
    while True:
        with get_db().transaction() as session:
            done = rollup.roll_up(session, current_app.config, now, rollup.BATCH)
        if not done:
            break
        total += done
    click.echo(f"{total} calls summarised")
