"""The IVR's call flows, assembled from one module per branch."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

from ivr.flows.nodes import Flow

# One module per branch, imported when the flow is built (not when ivr.flows is), so that a branch
# that does not import is a line from `flows check`, not a traceback from every command.
BRANCH_NAMES = (
    "language",
    "main",
    "account",
    "callback",
    "orders",
    "products",
    "people",
    "problems",
    "questions",
    "survey",
    "texts",
    "voicemail",
)


def branches() -> tuple[ModuleType, ...]:
    return tuple(importlib.import_module(f"ivr.flows.{name}") for name in BRANCH_NAMES)


def __getattr__(name: str) -> Any:
    if name == "BRANCHES":
        return branches()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_flow() -> Flow:
    nodes = {}
    for branch in branches():
        for node in branch.NODES:
            nodes.setdefault(node.id, []).append(node)
    duplicates = sorted(node_id for node_id, found in nodes.items() if len(found) > 1)
    from ivr.errors import FlowError

    if duplicates:
        raise FlowError(f"node ids declared twice: {', '.join(duplicates)}")
    return Flow(
        nodes={node_id: found[0] for node_id, found in nodes.items()},
        start="language_start",
        main_menu="main_menu",
        on_failures="after_failures",
        goodbye="goodbye",
        commands=importlib.import_module("ivr.flows.main").COMMANDS,
    )


def handler_prompts() -> dict[str, set[str]]:
    """The prompts handlers say, with the {values} each gets (every branch's HANDLER_PROMPTS)."""
    from ivr.spoken import VALUE_PROMPTS

    declared: dict[str, set[str]] = {prompt_id: set(values) for prompt_id, values in VALUE_PROMPTS.items()}
    for branch in branches():
        for prompt_id, values in getattr(branch, "HANDLER_PROMPTS", {}).items():
            declared.setdefault(prompt_id, set()).update(values)
    return declared


def places() -> dict[str, str]:
    """The file each node is declared in ("" the flow itself, "commands" its commands), as the
    first word of each problem `flows check` finds."""
    from ivr.prompts import shown

    found = {node.id: shown(Path(str(branch.__file__))) for branch in branches() for node in branch.NODES}
    return found | {"": shown(Path(__file__)), "commands": shown(Path(__file__).with_name("main.py"))}


def handler_phrases() -> set[str]:
    """Phrase lists handlers read from the catalog (not options' or commands')."""
    return set().union(*(getattr(branch, "HANDLER_PHRASES", set()) for branch in branches()))
