"""The database's commands: `db upgrade` and `seed`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from ivr.db import get_db, upgrade

db_cli = AppGroup("db", help="The database schema.")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Create the database, or bring it to the latest schema."""
    upgrade(current_app.config["DATABASE_URL"])
    click.echo(f"database is up to date: {get_db().engine.url.render_as_string(hide_password=True)}")


@click.command("seed")
def seed() -> None:
    """Load the demo customers, orders, questions and products (safe to run again)."""
    from ivr.seed import load_demo_line

    with get_db().transaction() as session:
        loaded = load_demo_line(session)
    click.echo(f"demo data loaded: {loaded}")
