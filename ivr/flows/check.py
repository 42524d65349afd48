"""Flow validation (run when the app starts and by `flows check`).

It reads the node data through `transitions`, as the diagrams do (ivr/flows/graph.py), so what is
checked is what is drawn and what runs.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from pathlib import Path

from ivr.errors import FlowError, PromptError
from ivr.flows.nodes import BUILT_IN_COMMANDS, Choose, Flow, Menu, NumberEntry, transitions
from ivr.prompts import Catalog

# Prompts the engine itself uses, whatever the flow.
ENGINE_PROMPTS = {"apology", "no_input", "no_match", "no_input_again", "no_match_again"}
PHONE_KEYS = "0123456789*#"
# Commands every flow offers at every prompt: callers count on them wherever they are.
REQUIRED_COMMANDS = {
    "agent": "a person, from anywhere in the call",
    "main_menu": "back to the start",
    "repeat": "hear it again",
    "help": "what can be said here",
}


def problems(
    flow: Flow,
    catalog: Catalog,
    handler_prompts: Mapping[str, AbstractSet[str]] | AbstractSet[str] = frozenset(),
    handler_phrases: AbstractSet[str] = frozenset(),
    places: Mapping[str, str] | None = None,
) -> list[str]:
    """Everything wrong with `flow` against `catalog`, a line each; empty when the flow can run.

    `handler_prompts`: the prompts handlers say, with the {values} each gets. `places`: the file
    each node (and "" the flow itself, "commands" its commands) is declared in, to start each line."""
    places = places or {}
    supplied = handler_prompts if isinstance(handler_prompts, Mapping) else {p: set() for p in handler_prompts}

    def at(node_id: str, text: str) -> str:
        return f"{places[node_id]}: {text}" if node_id in places else text

    found: list[str] = []
    roles = (("start", flow.start), ("main menu", flow.main_menu), ("on failures", flow.on_failures),
             ("goodbye", flow.goodbye))  # fmt: skip
    for role, node_id in roles:
        if node_id not in flow.nodes:
            found.append(at("", f"the {role} node {node_id!r} does not exist"))
    found += [at("commands", problem) for problem in _command_problems(flow)]
    # Who says each prompt, and the values they give it.
    sayers: dict[str, list[tuple[str, AbstractSet[str]]]] = {p: [("the engine", set())] for p in ENGINE_PROMPTS}
    for prompt_id, values in supplied.items():
        sayers.setdefault(prompt_id, []).append(("no handler", values))
    phrase_names = {command.name for command in flow.commands} | set(handler_phrases)
    command_keys = {command.key for command in flow.commands if command.key}
    for node in flow.nodes.values():
        for label, target in transitions(node):
            if target not in flow.nodes:
                found.append(at(node.id, f"{node.id}: {label or 'next'} goes to {target!r}, which does not exist"))
        said = [getattr(node, part, None) for part in ("prompt", "help", "footer", "spoken")]
        said += node.announcements() if isinstance(node, Menu) else []
        for prompt_id in filter(None, said):
            sayers.setdefault(prompt_id, []).append((f"node {node.id}", set()))
        if isinstance(node, Choose):
            sayers.setdefault(node.announce, []).append((f"node {node.id}", {"label", "key"}))
        if isinstance(node, Menu):
            found += [at(node.id, problem) for problem in _menu_problems(node, command_keys)]
            phrase_names.update(option.name for option in node.options)
            if node.keys_as and not isinstance(flow.nodes.get(node.keys_as), NumberEntry):
                found.append(
                    at(node.id, f"{node.id}: takes typed numbers as {node.keys_as!r}, which is not a number entry")
                )
            if node.understands and not isinstance(flow.nodes.get(node.understands), Menu):
                found.append(
                    at(node.id, f"{node.id}: understands the options of {node.understands!r}, which is not a menu")
                )
        if isinstance(node, Choose):
            phrase_names.update(option.name for option in node.also)
            found += [at(node.id, f"{node.id}: {o.name!r} has key {o.key!r}; fixed answers beside choices are said only")
                      for o in node.also if o.key]  # fmt: skip
    found += [
        at(node_id, f"{node_id}: no path from {flow.start!r} reaches it") for node_id in sorted(_unreachable(flow))
    ]
    found += catalog.missing(set(sayers), phrase_names)
    found += _value_problems(catalog, sayers)
    found += [problem for language in sorted(catalog.languages) for problem in catalog.plural_problems(language)]
    return found


def load_checked(defaults: dict[str, str]) -> tuple[Flow | None, Catalog | None, list[str]]:
    """The flow and the prompt catalogs, with every problem found in them as one line each.

    Nothing here raises: a catalog that is not YAML, a flow module that does not import, or a flow
    that does not hold together all become lines naming the file, for `flows check` and start-up."""
    from ivr.prompts import shown

    flow = catalog = None
    found: list[str] = []
    try:
        catalog = Catalog.load(defaults=defaults)
    except PromptError as problem:
        found.append(str(problem))
    try:
        from ivr import flows

        flow = flows.build_flow()
        if catalog is not None:
            found += problems(flow, catalog, flows.handler_prompts(), flows.handler_phrases(), flows.places())
    except FlowError as problem:
        found.append(f"{shown(Path(__file__).with_name('__init__.py'))}: {problem}")
    except SyntaxError as problem:
        found.append(f"{shown(Path(problem.filename or '?'))}: line {problem.lineno}: {problem.msg}")
    except Exception as problem:  # a flow module that fails as it is imported or built
        frame = traceback.extract_tb(problem.__traceback__)[-1]
        found.append(f"{shown(Path(frame.filename))}: line {frame.lineno}: {type(problem).__name__}: {problem}")
    return flow, catalog, found


def _value_problems(catalog: Catalog, sayers: Mapping[str, list[tuple[str, AbstractSet[str]]]]) -> list[str]:
    """Every {placeholder} of every prompt, in every language, against what whoever says it gives."""
    found = []
    defaults = set(catalog.defaults) | {"company"}
    for language in sorted(catalog.languages):
        where = catalog.file(language)
        for prompt_id in sorted(set(sayers) & catalog.languages[language].prompts.keys()):
            try:
                used = catalog.placeholders(language, prompt_id)
            except PromptError as problem:
                found.append(f"{where}: {problem}")
                continue
            given: set[str] = set()  # by handlers, which must use what they give; a node may give more
            for who, values in sayers[prompt_id]:
                given |= set(values) if who == "no handler" else set()
                for name in sorted(used - set(values) - defaults):
                    supplies = "supplies" if who == "no handler" else "does not supply"
                    found.append(f"{where}: {prompt_id} uses {{{name}}}, which {who} {supplies}")
            found += [f"{where}: {prompt_id} does not use {{{name}}}, which its handler supplies"
                      for name in sorted(given - used)]  # fmt: skip
    return list(dict.fromkeys(found))


def _command_problems(flow: Flow) -> list[str]:
    found = [f"the flow has no {name!r} command ({why})" for name, why in REQUIRED_COMMANDS.items()
             if name not in {command.name for command in flow.commands}]  # fmt: skip
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
