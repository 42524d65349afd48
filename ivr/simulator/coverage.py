"""Flow coverage: which nodes, menu options, handler exits and commands a set of calls went through.

Worked out from the flow and the calls' event logs alone (ivr/calls.py: each step's `node`, what the
caller did there and what it `matched`, and the `path` of nodes the call then went through), so it
reads what happened, not what the scenarios meant to do. What a scenario cannot reach is marked as
deliberately untested, with a reason, in `untested.yaml` beside the scenarios: a node
(`node_id: reason`) or a handler's exit (`"handler -> target": reason`).

A node that is neither reached nor marked is a failure. Options, exits and commands no call took
are reported and do not fail: a node unreached means prompts and code no test ever ran, while an
exit or an option unreached usually leads to a node reached some other way, and some exits are
taken only when data changes under a call (an answer removed, a customer deleted).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ivr.flows.nodes import Choose, Flow, Handler, Menu

# The file beside the scenarios that marks nodes as deliberately untested; not a scenario itself.
UNTESTED = "untested.yaml"
# What the engine records as `matched` when the caller answered a prompt with their own question.
OWN_WORDS, QUESTION = "own words", "question"
# A Choose's answer that picked one of the choices a handler found (whatever its value).
CHOICE = "choice"
# Inputs that are the caller's answer (silence and the engine's own moves are not).
ANSWERS = ("dtmf", "speech")
KINDS = ("node", "option", "exit", "command")


class MarksError(ValueError):
    """untested.yaml itself is wrong."""


@dataclass(frozen=True, order=True)
class Item:
    """Something a call may go through: a node; an option of a node (`name`); a handler's exit
    (`name` is where it leads, `label` what leads there); a command, anywhere."""

    kind: str
    node: str = ""
    name: str = ""
    label: str = ""

    def __str__(self) -> str:
        if self.kind == "node":
            return f"node {self.node}"
        if self.kind == "option":
            return f"option {self.node} / {self.name}"
        if self.kind == "exit":
            return f"exit {self.node} -> {self.name}" + (f" ({self.label})" if self.label else "")
        return f"command {self.name}"

    @property
    def mark(self) -> str:
        """How untested.yaml names it: a node by its id, a handler's exit as "handler -> target"."""
        if self.kind == "node":
            return self.node
        return f"{self.node} -> {self.name}" if self.kind == "exit" else ""


@dataclass
class Coverage:
    items: list[Item]
    reached: set[Item]
    # What untested.yaml marks (a node, or a handler's exit) -> why no scenario reaches it.
    marked: Mapping[str, str] = field(default_factory=dict)
    calls: int = 0

    def of(self, kind: str) -> list[Item]:
        return [item for item in self.items if item.kind == kind]

    def unreached(self, kind: str) -> list[Item]:
        return [item for item in self.of(kind) if item not in self.reached]

    def untested(self, kind: str) -> list[Item]:
        """Unreached, and marked as deliberately so."""
        return [item for item in self.unreached(kind) if item.mark and item.mark in self.marked]

    def missed(self, kind: str) -> list[Item]:
        """Unreached, and no mark explains it."""
        return [item for item in self.unreached(kind) if not (item.mark and item.mark in self.marked)]

    @property
    def failing(self) -> list[Item]:
        """Nodes no call reached and no mark explains: these fail."""
        return self.missed("node")

    @property
    def unknown_marks(self) -> list[str]:
        """Marks of nodes or exits that are not in the flow (renamed or removed)."""
        known = {item.mark for item in self.items}
        return [mark for mark in self.marked if mark not in known]

    @property
    def stale_marks(self) -> list[str]:
        """Marks of what a call reaches after all: the mark should go."""
        return [item.mark for item in self.items if item.mark in self.marked and item in self.reached]

    @property
    def ok(self) -> bool:
        return not self.failing and not self.unknown_marks

    def as_dict(self) -> dict[str, Any]:
        def described(item: Item) -> dict[str, str]:
            fields = {"kind": item.kind, "node": item.node, "name": item.name, "label": item.label}
            return {key: value for key, value in fields.items() if value} | (
                {"untested": self.marked[item.mark]} if item.mark in self.marked else {}
            )

        return {
            "calls": self.calls,
            "reached": {kind: len(self.of(kind)) - len(self.unreached(kind)) for kind in KINDS},
            "total": {kind: len(self.of(kind)) for kind in KINDS},
            "unreached": [described(item) for kind in KINDS for item in self.unreached(kind)],
            "stale_marks": self.stale_marks,
            "unknown_marks": self.unknown_marks,
            "ok": self.ok,
        }

    def report(self) -> str:
        lines = [f"coverage of {self.calls} calls:"]
        for kind in KINDS:
            items, unreached, untested = self.of(kind), self.unreached(kind), self.untested(kind)
            line = f"  {kind + 's':<9} {len(items) - len(unreached)}/{len(items)} reached"
            lines.append(line + (f", {len(untested)} marked untested" if untested else ""))
        for kind, why in (("node", "no scenario reaches it"), ("option", "no scenario answers it"),
                          ("exit", "no scenario takes it"), ("command", "no scenario uses it")):  # fmt: skip
            lines += [f"{item}: {why}" for item in self.missed(kind)]
        lines += [f"untested {item}: {self.marked[item.mark]}" for kind in KINDS for item in self.untested(kind)]
        lines += [f"warning: {UNTESTED} marks {mark}, but a scenario reaches it: remove the mark"
                  for mark in self.stale_marks]  # fmt: skip
        lines += [f"error: {UNTESTED} marks {mark}, which is not in the flow" for mark in self.unknown_marks]
        if self.failing:
            lines.append(f"FAIL {len(self.failing)} nodes neither reached nor marked untested")
        elif self.unknown_marks:
            lines.append(f"FAIL {UNTESTED} marks what is not in the flow")
        else:
            lines.append("every node is reached or marked untested")
        return "\n".join(lines)


def reachable(flow: Flow) -> list[Item]:
    """Everything a call may go through, in the flow's order."""
    items: list[Item] = []
    for node_id, node in flow.nodes.items():
        items.append(Item("node", node_id))
        items += [Item("option", node_id, name) for name in options(node)]
        if isinstance(node, Handler):
            labels = node.exits if isinstance(node.exits, Mapping) else dict.fromkeys(node.exits, "")
            items += [Item("exit", node_id, target, str(label)) for target, label in labels.items()]
    items += [Item("command", name=command.name) for command in flow.commands]
    return items


def options(node: Any) -> list[str]:
    """The answers a node takes as its own, by name (a Choose's found choices are one: "choice")."""
    if isinstance(node, Menu):
        return [o.name for o in node.options] + ([OWN_WORDS] if node.question else [])
    if isinstance(node, Choose):
        return [CHOICE, *(o.name for o in node.also)] + ([OWN_WORDS] if node.question else [])
    return []


def measure(flow: Flow, events: Iterable[Mapping[str, Any]], marked: Mapping[str, str] | None = None,
            calls: int = 0) -> Coverage:  # fmt: skip
    """What the events (of any number of calls, each call's in order) reached in `flow`."""
    items = reachable(flow)
    exits = {(item.node, item.name): item for item in items if item.kind == "exit"}
    commands = {c.name for c in flow.commands}
    reached: set[Item] = set()
    for event in events:
        at = str(event.get("node", ""))
        path = [str(n) for n in event.get("path") or [event.get("next_node", "")] if n]
        reached.update(Item("node", n) for n in path)
        if at in flow.nodes:
            reached.add(Item("node", at))
        # A handler's exit is the node after it in the path.
        reached.update(exits[pair] for pair in zip(path, path[1:], strict=False) if pair in exits)
        if event.get("input_kind") not in ANSWERS:
            continue
        matched = str(event.get("matched", ""))
        if matched in commands:
            reached.add(Item("command", name=matched))
        node = flow.nodes.get(at)
        if matched == QUESTION:
            reached.add(Item("option", at, OWN_WORDS))
        elif isinstance(node, Menu | Choose) and matched in options(node):
            reached.add(Item("option", at, matched))
        elif isinstance(node, Choose) and matched not in commands and path and path[0] == node.goto:
            reached.add(Item("option", at, CHOICE))
    return Coverage(items, reached & set(items), dict(marked or {}), calls)


def load_marks(path: str | Path) -> dict[str, str]:
    """untested.yaml: `node_id: why no scenario reaches it`, or a handler's exit the same way
    (`"handler -> target": why`); no file, no marks."""
    path = Path(path)
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise MarksError(f"{path}: cannot read it: {' '.join(str(exc).split())}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise MarksError(f"{path}: expected a mapping like 'node_id: why no scenario reaches it'")
    if any(not str(mark).strip() for mark in data):
        raise MarksError(f"{path}: a mark names a node, or a handler's exit as 'handler -> target'")
    unexplained = [str(mark) for mark, why in data.items() if not isinstance(why, str) or not why.strip()]
    if unexplained:
        raise MarksError(f"{path}: say why no scenario reaches {', '.join(unexplained)}")
    return {" -> ".join(part.strip() for part in str(mark).split("->")): " ".join(why.split())
            for mark, why in data.items()}  # fmt: skip


def scenario_files(paths: Iterable[Path]) -> list[Path]:
    """The scenario files among `paths`: a folder stands for its *.yaml files, sorted; untested.yaml
    is never one."""
    files: list[Path] = []
    for path in paths:
        found = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
        files += [file for file in found if file.name != UNTESTED]
    return files


def marks_beside(files: Iterable[Path]) -> dict[str, str]:
    """The marks of untested.yaml in each folder the scenario files are in."""
    marks: dict[str, str] = {}
    for folder in dict.fromkeys(file.parent for file in files):
        marks.update(load_marks(folder / UNTESTED))
    return marks
