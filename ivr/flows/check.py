"""Flow validation (run when the app starts and by `flows check`) and the Mermaid diagram.

Both read the same node data through `transitions`, so the diagram is always the flow that runs.
"""

from __future__ import annotations

from ivr.flows.engine import MAIN_MENU_KEY, REPEAT_KEY
from ivr.flows.nodes import Choose, Flow, Handler, Hangup, Menu, Message, NumberEntry, Record, Transfer, transitions
from ivr.prompts import Catalog

# Prompts and phrase lists the engine itself uses, whatever the flow.
ENGINE_PROMPTS = {"apology", "no_input", "no_match"}
ENGINE_PHRASES = {"repeat", "main_menu"}


def problems(flow: Flow, catalog: Catalog, handler_prompts: set[str] = frozenset()) -> list[str]:
    """Everything wrong with `flow` against `catalog`; empty when the flow can run."""
    found: list[str] = []
    for role, node_id in (("start", flow.start), ("main menu", flow.main_menu), ("on failures", flow.on_failures)):
        if node_id not in flow.nodes:
            found.append(f"the {role} node {node_id!r} does not exist")
    prompt_ids = set(ENGINE_PROMPTS) | set(handler_prompts)
    phrase_names = set(ENGINE_PHRASES)
    for node in flow.nodes.values():
        for label, target in transitions(node):
            if target not in flow.nodes:
                found.append(f"{node.id}: {label or 'next'} goes to {target!r}, which does not exist")
        prompt = getattr(node, "prompt", None)
        if prompt:
            prompt_ids.add(prompt)
        for extra in ("help", "footer", "announce"):
            if getattr(node, extra, None):
                prompt_ids.add(getattr(node, extra))
        if isinstance(node, Menu):
            found += _menu_problems(node)
            prompt_ids.update(node.announcements())
            phrase_names.update(option.name for option in node.options)
    found += [f"{node_id}: no path from {flow.start!r} reaches it" for node_id in sorted(_unreachable(flow))]
    found += catalog.missing(prompt_ids, phrase_names)
    return found


def _menu_problems(menu: Menu) -> list[str]:
    found = []
    keys = [option.key for option in menu.options]
    names = [option.name for option in menu.options]
    for key in sorted({k for k in keys if keys.count(k) > 1}):
        found.append(f"{menu.id}: key {key!r} is used twice")
    for name in sorted({n for n in names if names.count(n) > 1}):
        found.append(f"{menu.id}: option {name!r} is declared twice")
    for key in keys:
        if key in (REPEAT_KEY, MAIN_MENU_KEY):
            found.append(f"{menu.id}: key {key!r} is reserved (* repeats, 9 is the main menu everywhere)")
        elif len(key) != 1 or key not in "0123456789#":
            found.append(f"{menu.id}: key {key!r} is not a single phone key")
    return found


def _unreachable(flow: Flow) -> set[str]:
    # The main menu and the failure node are reachable from every waiting node.
    seen: set[str] = set()
    todo = [flow.start, flow.main_menu, flow.on_failures]
    while todo:
        node_id = todo.pop()
        if node_id in seen or node_id not in flow.nodes:
            continue
        seen.add(node_id)
        todo.extend(target for _, target in transitions(flow.nodes[node_id]))
    return set(flow.nodes) - seen


_SHAPES = {
    Menu: ('{{"{0}"}}', "menu"),
    Choose: ('{{"{0}"}}', "choices found for the call"),
    NumberEntry: ('[/"{0}"/]', "number"),
    Message: ('("{0}")', "message"),
    Handler: ('[["{0}"]]', "handler"),
    Transfer: ('[("{0}")]', "transfer"),
    Record: ('[("{0}")]', "record"),
    Hangup: ('(["{0}"])', "hang up"),
}


def mermaid(flow: Flow) -> str:
    """A Mermaid flowchart of every node and transition."""
    lines = ["flowchart TD"]
    for node in flow.nodes.values():
        shape, kind = _SHAPES[type(node)]
        lines.append(f"    {node.id}{shape.format(f'{node.id}<br/><i>{kind}</i>')}")
    for node in flow.nodes.values():
        for label, target in transitions(node):
            arrow = f' -- "{label}" --> ' if label else " --> "
            lines.append(f"    {node.id}{arrow}{target}")
    return "\n".join(lines) + "\n"
