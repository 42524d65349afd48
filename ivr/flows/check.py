"""Flow validation (run when the app starts and by `flows check`).

It reads the node data through `transitions`, as the diagrams do (ivr/flows/graph.py), so what is
checked is what is drawn and what runs.
"""

from __future__ import annotations

from ivr.flows.nodes import BUILT_IN_COMMANDS, Choose, Flow, Menu, transitions
from ivr.prompts import Catalog

# Prompts the engine itself uses, whatever the flow.
ENGINE_PROMPTS = {"apology", "no_input", "no_match", "no_input_again", "no_match_again"}
PHONE_KEYS = "0123456789*#"


def problems(
    flow: Flow, catalog: Catalog, handler_prompts: set[str] = frozenset(), handler_phrases: set[str] = frozenset()
) -> list[str]:
    """Everything wrong with `flow` against `catalog`; empty when the flow can run."""
    found: list[str] = []
    roles = (("start", flow.start), ("main menu", flow.main_menu), ("on failures", flow.on_failures),
             ("goodbye", flow.goodbye))  # fmt: skip
    for role, node_id in roles:
        if node_id not in flow.nodes:
            found.append(f"the {role} node {node_id!r} does not exist")
    found += _command_problems(flow)
    prompt_ids = set(ENGINE_PROMPTS) | set(handler_prompts)
    phrase_names = {command.name for command in flow.commands} | set(handler_phrases)
    command_keys = {command.key for command in flow.commands if command.key}
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
            found += _menu_problems(node, command_keys)
            prompt_ids.update(node.announcements())
            phrase_names.update(option.name for option in node.options)
            if node.understands and not isinstance(flow.nodes.get(node.understands), Menu):
                found.append(f"{node.id}: understands the options of {node.understands!r}, which is not a menu")
        if isinstance(node, Choose):
            phrase_names.update(option.name for option in node.also)
            found += [f"{node.id}: {o.name!r} has key {o.key!r}; fixed answers beside choices are said only"
                      for o in node.also if o.key]  # fmt: skip
    found += [f"{node_id}: no path from {flow.start!r} reaches it" for node_id in sorted(_unreachable(flow))]
    found += catalog.missing(prompt_ids, phrase_names)
    return found


def _command_problems(flow: Flow) -> list[str]:
    found = []
    names = [command.name for command in flow.commands]
    keys = [command.key for command in flow.commands if command.key]
    found += [f"command {n!r} is declared twice" for n in sorted({n for n in names if names.count(n) > 1})]
    found += [f"key {k!r} is given to two commands" for k in sorted({k for k in keys if keys.count(k) > 1})]
    for command in flow.commands:
        if command.key and (len(command.key) != 1 or command.key not in PHONE_KEYS):
            found.append(f"command {command.name!r}: key {command.key!r} is not a single phone key")
        if command.goto is None and command.name not in BUILT_IN_COMMANDS:
            found.append(f"command {command.name!r} leads nowhere (only {', '.join(BUILT_IN_COMMANDS)} need no node)")
        elif command.goto is not None and command.goto not in flow.nodes:
            found.append(f"command {command.name!r} goes to {command.goto!r}, which does not exist")
    return found


def _menu_problems(menu: Menu, command_keys: set[str]) -> list[str]:
    found = []
    keys = [option.key for option in menu.options if option.key]
    names = [option.name for option in menu.options]
    for key in sorted({k for k in keys if keys.count(k) > 1}):
        found.append(f"{menu.id}: key {key!r} is used twice")
    for name in sorted({n for n in names if names.count(n) > 1}):
        found.append(f"{menu.id}: option {name!r} is declared twice")
    for key in keys:
        if key in command_keys:
            found.append(f"{menu.id}: key {key!r} is reserved (a command that works at every prompt has it)")
        elif len(key) != 1 or key not in PHONE_KEYS:
            found.append(f"{menu.id}: key {key!r} is not a single phone key")
    return found


def commands_summary(flow: Flow) -> list[str]:
    """One line per command that works at every prompt: its key, its name, where it leads."""
    lines = []
    for command in flow.commands:
        key = f"{command.key} / " if command.key else ""
        where = f"-> {command.goto}" if command.goto else "(at the same prompt)"
        lines.append(f"  {key}{command.name} {where}")
    return lines


def _unreachable(flow: Flow) -> set[str]:
    # The main menu, the failure node, the goodbye and every command's node are reachable from
    # every waiting node.
    seen: set[str] = set()
    todo = [flow.start, flow.main_menu, flow.on_failures, flow.goodbye, *(c.goto for c in flow.commands if c.goto)]
    while todo:
        node_id = todo.pop()
        if node_id in seen or node_id not in flow.nodes:
            continue
        seen.add(node_id)
        todo.extend(target for _, target in transitions(flow.nodes[node_id]))
    return set(flow.nodes) - seen
