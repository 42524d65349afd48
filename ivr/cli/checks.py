"""What several command modules share: the flow's problems, and refusing a command on a broken flow."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import click
from flask import current_app


def flow_problems() -> list[str]:
    """What is wrong with the flow and the prompts as this app loaded them (empty when sound)."""
    return list(current_app.extensions.get("ivr.flow_problems", []))


def refuse_broken_flow() -> None:
    """For a command that needs a flow that holds together: with a broken one, print the problems
    as `flows check` does, and exit 1."""
    found = flow_problems()
    if found:
        for problem in found:
            click.echo(f"error: {problem}", err=True)
        click.echo(f"{len(found)} problem(s) with the call flow; `flows check` lists them too.", err=True)
        sys.exit(1)


def sound_flow(command: Callable[..., Any]) -> Callable[..., Any]:
    """The command runs only on a flow that holds together (refuse_broken_flow)."""

    @functools.wraps(command)
    def checked(*args: Any, **kwargs: Any) -> Any:
        refuse_broken_flow()
        return command(*args, **kwargs)

    return checked
