"""The `faq` group: `faq import|asked|export`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from ivr.db import get_db

faq_cli = AppGroup("faq", help="The questions knowledge base.")


@faq_cli.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def faq_import(path: Path) -> None:
    """Add or update knowledge-base entries from a YAML file (by language and slug; nothing is deleted).

    An entry is in its own `language:`, else the file's top-level `language:`, else en-US."""
    from ivr.knowledge.entries import FaqFileError, import_entries, read_file

    try:
        entries = read_file(path)
    except FaqFileError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    with get_db().transaction() as session:
        added, updated = import_entries(session, entries)
    click.echo(f"{path}: {added} added, {updated} updated")


@faq_cli.command("asked")
@click.option("--days", default=30, show_default=True, help="How far back to look.")
def faq_asked(days: int) -> None:
    """What callers asked: answers given and whether they helped, questions that found nothing."""
    import datetime as dt

    from ivr.knowledge.entries import asked_report

    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    with get_db().reading() as session:
        click.echo(asked_report(session, since), nl=False)


@faq_cli.command("export")
@click.option("--language", metavar="CODE", help="Only the entries in this language (e.g. fi-FI).")
def faq_export(language: str | None) -> None:
    """Print every knowledge-base entry, with its language, as YAML (the form `faq import` reads)."""
    from ivr.knowledge.entries import export_entries, language_error

    if language is not None and (wrong := language_error(language)) is not None:
        click.echo(f"error: {wrong}", err=True)
        sys.exit(1)
    with get_db().reading() as session:
        click.echo(export_entries(session, language), nl=False)
