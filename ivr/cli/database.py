"""The database's commands: `db upgrade` and `seed`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from ivr.db import get_db, one_at_a_time, upgrade

db_cli = AppGroup("db", help="The database schema.")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Create the database, or bring it to the latest schema."""
    upgrade(current_app.config["DATABASE_URL"])
    click.echo(f"database is up to date: {get_db().engine.url.render_as_string(hide_password=True)}")


@click.command("seed")
@click.option("--if-new", is_flag=True, help="Only into a new database (make run): otherwise leave it as it is.")
@with_appcontext
def seed(if_new: bool) -> None:
    """Load the demo customers, orders, questions and products, or bring their dates to today; never
    over a line's own data (customers, orders, questions or products the demo does not have)."""
    from ivr.seed import is_new, load_demo_line, own_data

    with one_at_a_time(current_app.config["DATABASE_URL"], "seed"), get_db().transaction() as session:
        if if_new and not is_new(session):
            click.echo(
                "The database has data: the demo is not loaded again (flask --app wsgi seed brings its dates to today)."
            )
            return
        if found := own_data(session):
            click.echo(f"Not loading the demo: this database holds a line's own data ({', '.join(found)}).", err=True)
            raise SystemExit(1)
        loaded = load_demo_line(session)
    click.echo(f"demo data loaded: {loaded}")
