"""The `products` group: `products import FILE` and `products export`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from ivr.db import get_db

products_cli = AppGroup("products", help="The product directory.")
FORMATS = click.Choice(["yaml", "csv"])


@products_cli.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format", "file_format", type=FORMATS, help="The file's form, when its name does not say (.yaml, .csv)."
)
def products_import(path: Path, file_format: str | None) -> None:
    """Add or update products from a YAML or CSV file (by code; nothing is deleted: a product no
    longer sold is imported as discontinued). A file with any bad row imports nothing."""
    from ivr.products.catalogue import CatalogueError, read
    from ivr.products.store import import_catalogue

    try:
        catalogue = read(path, file_format)
        with get_db().transaction() as session:
            done = import_catalogue(session, catalogue, current_app.config["CURRENCY"])
    except CatalogueError as error:
        for problem in error.problems:
            click.echo(f"error: {path}: {problem}", err=True)
        click.echo(f"{path}: nothing imported ({len(error.problems)} problems)", err=True)
        sys.exit(1)
    click.echo(f"{path}: {done.added} products added, {done.updated} updated, {done.categories} categories")


@products_cli.command("export")
@click.option("--format", "file_format", type=FORMATS, default="yaml", show_default=True)
def products_export(file_format: str) -> None:
    """Print every product and category in the form `products import` reads."""
    from ivr.products.catalogue import to_csv, to_yaml
    from ivr.products.store import export_catalogue

    with get_db().reading() as session:
        catalogue = export_catalogue(session, current_app.config["CURRENCY"])
    click.echo((to_csv if file_format == "csv" else to_yaml)(catalogue), nl=False)
