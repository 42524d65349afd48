"""The IVR's call flows, assembled from one module per branch."""

from __future__ import annotations

from ivr.flows import account, main, orders, people, questions, voicemail
from ivr.flows.nodes import Flow

BRANCHES = (main, account, orders, people, questions, voicemail)


def build_flow() -> Flow:
    nodes = {}
    for branch in BRANCHES:
        for node in branch.NODES:
            nodes.setdefault(node.id, []).append(node)
    duplicates = sorted(node_id for node_id, found in nodes.items() if len(found) > 1)
    from ivr.errors import FlowError

    if duplicates:
        raise FlowError(f"node ids declared twice: {', '.join(duplicates)}")
    return Flow(
        nodes={node_id: found[0] for node_id, found in nodes.items()},
        start="greeting",
        main_menu="main_menu",
        on_failures="after_failures",
        goodbye="goodbye",
        commands=main.COMMANDS,
    )


def handler_prompts() -> set[str]:
    return set().union(*(getattr(branch, "HANDLER_PROMPTS", set()) for branch in BRANCHES))


def handler_phrases() -> set[str]:
    """Phrase lists handlers read from the catalog (not options' or commands')."""
    return set().union(*(getattr(branch, "HANDLER_PHRASES", set()) for branch in BRANCHES))
