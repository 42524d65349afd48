"""The `flows` group: `flows check|graph`."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from ivr.cli.checks import flow_problems, sound_flow
from ivr.flows.check import commands_summary

flows_cli = AppGroup("flows", help="The call flows.")


@flows_cli.command("check")
def flows_check() -> None:
    """Check the flows: transitions, keys, commands, and every prompt and its {values} in every language."""
    found = flow_problems()
    for problem in found:
        click.echo(problem, err=True)
    if found:
        click.echo(f"{len(found)} problem(s): callers would hear these as errors.", err=True)
        sys.exit(1)
    engine = current_app.extensions["ivr.engine"]
    languages = ", ".join(sorted(engine.catalog.languages))
    click.echo(f"flows OK: {len(engine.flow.nodes)} nodes, prompts complete in {languages}")
    click.echo("at every prompt:")
    click.echo("\n".join(commands_summary(engine.flow)))


@flows_cli.command("graph")
@sound_flow
@click.option("--branch", default=None, metavar="NAME", help="Draw only this branch (main, orders...); all by default.")
@click.option("--format", "form", type=click.Choice(["mermaid", "dot", "svg"]), default="mermaid", show_default=True,
              help="svg is drawn by Graphviz's dot (Debian's graphviz).")  # fmt: skip
def flows_graph(branch: str | None, form: str) -> None:
    """Print a diagram of the flows: nodes, options, handler exits, retries, failure paths, commands."""
    from ivr.flows import graph

    engine = current_app.extensions["ivr.engine"]
    try:
        drawn = graph.diagram(engine.flow, branch, engine.max_retries)
        if form == "svg":
            click.echo(graph.svg(drawn).decode(), nl=False)
        elif form == "dot":
            click.echo(graph.dot(drawn).source, nl=False)
        else:
            click.echo(graph.mermaid(drawn), nl=False)
    except graph.GraphError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
