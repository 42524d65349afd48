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
    """Load the demo customers and orders (safe to run again)."""
    from ivr.knowledge.entries import load_demo
    from ivr.seed import load_demo_data

    with get_db().transaction() as session:
        load_demo_data(session)
        added, updated = load_demo(session)
    click.echo(f"demo data loaded: 3 customers, 5 orders, {added + updated} questions")
