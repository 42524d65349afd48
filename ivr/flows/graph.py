"""Diagrams of the call flows (`flows graph`, the supervisors' /agent/flows): one branch at a time or all.

Drawn from the same node data the engine runs, through `transitions`: every node with its kind, the
options by key and name, handler exits by outcome, each prompt's retries and its failure path, the
commands that work at every prompt (drawn once), and, for one branch, the nodes of other branches it
meets as small boundary nodes named for them. One `Diagram` is worked out, then written as Mermaid,
as DOT (the `graphviz` package, which quotes), or as SVG (Graphviz's `dot`, run by that package).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ivr.flows.nodes import (
    BUILT_IN_COMMANDS,
    WAITING,
    Choose,
    Flow,
    Handler,
    Hangup,
    Menu,
    Message,
    NumberEntry,
    Record,
    Transfer,
    transitions,
)

FORMATS = ("mermaid", "dot", "svg")
DOT_MISSING = "Graphviz's dot is not installed: apt-get install graphviz"
# The commands node's key; never a node id (those are single words).
ANY_PROMPT = "any prompt"
# What the commands without a node do (the engine's built-ins): the caller stays at the prompt.
STAYING = {"repeat": "said again", "help": "its help line"}
ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth"}

KINDS = {
    Menu: "menu",
    Choose: "choices found for the call",
    NumberEntry: "number",
    Message: "message",
    Handler: "handler",
    Transfer: "transfer",
    Record: "record",
    Hangup: "hang up",
}


class GraphError(Exception):
    """A diagram that cannot be drawn; the message is one line for a person."""


class UnknownBranch(GraphError):
    pass


class DotMissing(GraphError):
    def __init__(self) -> None:
        super().__init__(DOT_MISSING)


@dataclass(frozen=True)
class Branch:
    name: str
    about: str  # the first paragraph of the branch module's docstring
    nodes: tuple[str, ...]


@dataclass(frozen=True)
class Box:
    key: str  # unique in the diagram: a node id, ANY_PROMPT, or "target (branch)" for a boundary
    title: str
    kind: str  # a node kind from KINDS, "commands", or "elsewhere" (a boundary node)
    branch: str | None = None  # the cluster it is drawn in (all branches), None outside clusters
    note: str = ""  # the line under the title: the kind unless said here; none for a boundary node

    @property
    def subtitle(self) -> str:
        return "" if self.kind == "elsewhere" else self.note or self.kind


@dataclass(frozen=True)
class Arrow:
    tail: str
    head: str
    label: str = ""
    # "next" (a transition), "voice" (understood by voice), "retry", "failure", "command"
    style: str = "next"


@dataclass
class Diagram:
    title: str
    boxes: dict[str, Box] = field(default_factory=dict)
    arrows: list[Arrow] = field(default_factory=list)
    clusters: list[Branch] = field(default_factory=list)

    def box(self, box: Box) -> str:
        self.boxes.setdefault(box.key, box)
        return box.key

    def arrow(self, tail: str, head: str, label: str = "", style: str = "next") -> None:
        arrow = Arrow(tail, head, label, style)
        if arrow not in self.arrows:
            self.arrows.append(arrow)


def branches(flow: Flow) -> dict[str, Branch]:
    """The flow's branches (ivr.flows.BRANCHES, a module each), in their order; nodes of the flow
    that no branch declares make one more, "other"."""
    from ivr.flows import BRANCHES

    found: dict[str, Branch] = {}
    for module in BRANCHES:
        name = module.__name__.rsplit(".", 1)[-1]
        about = " ".join((module.__doc__ or "").strip().split("\n\n")[0].split())
        found[name] = Branch(name, about, tuple(node.id for node in module.NODES if node.id in flow.nodes))
    declared = {node_id for branch in found.values() for node_id in branch.nodes}
    rest = tuple(node_id for node_id in flow.nodes if node_id not in declared)
    if rest:
        found["other"] = Branch("other", "Nodes no branch module declares.", rest)
    return found


def ordinal(count: int) -> str:
    return ORDINALS.get(count, f"{count}th")


def diagram(flow: Flow, branch: str | None = None, misses: int = 3) -> Diagram:
    """The diagram of one branch (None: all, each branch a cluster). `misses`: how many misses at a
    prompt lead to the flow's failure node (the engine's MAX_RETRIES)."""
    known = branches(flow)
    if branch is not None and branch not in known:
        raise UnknownBranch(f"no branch {branch!r}; the branches are {', '.join(known)}")
    home = {node_id: b.name for b in known.values() for node_id in b.nodes}
    shown = set(known[branch].nodes) if branch else set(flow.nodes)
    drawn = Diagram(f"{branch} branch" if branch else "all branches")
    if branch is None:
        drawn.clusters = [b for b in known.values() if b.nodes]

    def place(node_id: str) -> str:
        """A node of this diagram, or a boundary node standing for one elsewhere."""
        if node_id in shown:
            kind = KINDS[type(flow.nodes[node_id])]
            note = f"{kind}: the call starts here" if node_id == flow.start else ""
            return drawn.box(Box(node_id, node_id, kind, None if branch else home[node_id], note))
        where = home.get(node_id, "missing")
        return drawn.box(Box(f"{node_id} ({where})", f"{node_id} ({where})", "elsewhere"))

    # Every node of the diagram first, in the flow's order, so they keep it on the page.
    for node_id in flow.nodes:
        if node_id in shown:
            place(node_id)
    for node_id in flow.nodes:
        node = flow.nodes[node_id]
        if node_id in shown:
            _node_arrows(drawn, flow, node, place, misses)
        else:
            # The ways into this branch from others, drawn from a boundary node.
            for label, target in transitions(node):
                if target in shown:
                    drawn.arrow(place(node_id), place(target), label)
    if flow.commands:
        _commands(drawn, flow, place, misses)
    return drawn


def _node_arrows(drawn: Diagram, flow: Flow, node, place, misses: int) -> None:  # type: ignore[no-untyped-def]
    for label, target in transitions(node):
        drawn.arrow(node.id, place(target), label)
    if isinstance(node, Menu) and node.understands:
        drawn.arrow(node.id, place(node.understands), "its options, by voice", "voice")
    if isinstance(node, WAITING):
        anything_else = isinstance(node, Menu) and node.anything_else and flow.goodbye
        if anything_else:
            drawn.arrow(node.id, node.id, "not understood: asked again", "retry")
            drawn.arrow(node.id, place(flow.goodbye), "silence: that's all", "retry")
        else:
            drawn.arrow(node.id, node.id, "not understood / silence: asked again", "retry")
        if flow.on_failures:
            drawn.arrow(node.id, place(flow.on_failures), f"{ordinal(misses)} miss", "failure")


def _commands(drawn: Diagram, flow: Flow, place, misses: int) -> None:  # type: ignore[no-untyped-def]
    """The commands that work at every prompt, from one node that stands for all prompts."""
    key = ANY_PROMPT
    while key in flow.nodes:
        key += "_"
    waiting = sum(isinstance(node, WAITING) for node in flow.nodes.values())
    drawn.box(Box(key, "any prompt", "commands", note=f"commands: all {waiting} prompts"))
    staying = []
    for command in flow.commands:
        said = f"{command.key} / {command.name}" if command.key else command.name
        if command.goto:
            drawn.arrow(key, place(command.goto), said, "command")
        elif command.name in BUILT_IN_COMMANDS:
            staying.append(f"{said}: {STAYING.get(command.name, 'stays at the prompt')}")
    if staying:  # one loop: the caller stays at the prompt
        drawn.arrow(key, key, "\n".join(staying), "command")
    if flow.on_failures:
        drawn.arrow(key, place(flow.on_failures), f"{ordinal(misses)} miss at any prompt", "failure")


# ---- Mermaid ----------------------------------------------------------------------------

MERMAID_SHAPES = {
    "menu": '{{"%s"}}',
    "choices found for the call": '{{"%s"}}',
    "number": '[/"%s"/]',
    "message": '("%s")',
    "handler": '[["%s"]]',
    "transfer": '[("%s")]',
    "record": '[("%s")]',
    "hang up": '(["%s"])',
    "commands": '{{"%s"}}',
    "elsewhere": '>"%s"]',
}
MERMAID_WORDS = {"end", "graph", "subgraph", "flowchart", "style", "class", "classdef", "click", "linkstyle",
                 "direction", "default", "call", "href"}  # fmt: skip
MERMAID_ARROWS = {"next": ("--", "-->"), "voice": ("-.", ".->"), "retry": ("-.", ".->"), "failure": ("-.", ".->"),
                  "command": ("==", "==>")}  # fmt: skip
MERMAID_COLOURS = {"failure": "stroke:#b91c1c,color:#b91c1c", "retry": "stroke:#6b7280", "command": "stroke:#1d4ed8"}


def _mermaid_text(text: str) -> str:
    """Text inside a quoted Mermaid label: its own entity codes, so no quote or tag gets through."""
    text = text.replace("#", "#35;")
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def mermaid(drawn: Diagram) -> str:
    """A Mermaid flowchart (flowchart TD) of the diagram."""
    names = _names(drawn.boxes, MERMAID_WORDS)
    lines = ["flowchart TD", f"    %% {drawn.title}"]

    def box_line(box: Box) -> str:
        label = _mermaid_text(box.title)
        if box.subtitle:
            label += f"<br/><i>{_mermaid_text(box.subtitle)}</i>"
        line = f"    {names[box.key]}{MERMAID_SHAPES[box.kind] % label}"
        return line + (":::elsewhere" if box.kind == "elsewhere" else "")

    clusters = _names([f"branch {b.name}" for b in drawn.clusters], MERMAID_WORDS, set(names.values()))
    for cluster in drawn.clusters:
        lines.append(f'    subgraph {clusters[f"branch {cluster.name}"]} ["{_mermaid_text(cluster.name)}"]')
        lines += ["    " + box_line(box) for box in drawn.boxes.values() if box.branch == cluster.name]
        lines.append("    end")
    lines += [box_line(box) for box in drawn.boxes.values() if box.branch is None]
    styled: dict[str, list[str]] = {}
    for index, arrow in enumerate(drawn.arrows):
        start, end = MERMAID_ARROWS[arrow.style]
        label = f' {start} "{_mermaid_text(arrow.label)}" {end} ' if arrow.label else f" {end} "
        lines.append(f"    {names[arrow.tail]}{label}{names[arrow.head]}")
        if arrow.style in MERMAID_COLOURS:
            styled.setdefault(arrow.style, []).append(str(index))
    lines += [f"    linkStyle {','.join(indexes)} {MERMAID_COLOURS[style]}" for style, indexes in styled.items()]
    lines.append("    classDef elsewhere fill:#fff,stroke:#9ca3af,stroke-dasharray:4 3,color:#4b5563")
    return "\n".join(lines) + "\n"


def _names(keys: Iterable[str], reserved: set[str], taken: set[str] | None = None) -> dict[str, str]:
    """A plain identifier for each key (node ids stay as they are), unique and no reserved word."""
    taken = set(taken or ())
    names = {}
    for key in keys:
        base = re.sub(r"\W+", "_", key, flags=re.ASCII).strip("_") or "node"
        if base[0].isdigit():
            base = "n" + base
        name, count = base, 1
        while name in taken or name.lower() in reserved:
            count += 1
            name = f"{base}_{count}"
        taken.add(name)
        names[key] = name
    return names


# ---- DOT and SVG (Graphviz) ---------------------------------------------------------------

# Arrow labels wrap at this many characters: narrower diagrams, which fit a page at a readable size.
LABEL_WIDTH = 16
DOT_WORDS = {"node", "edge", "graph", "digraph", "subgraph", "strict"}
DOT_BOXES: Mapping[str, Mapping[str, str]] = {
    "menu": {"shape": "box", "style": "rounded,filled", "fillcolor": "#dbeafe"},
    "choices found for the call": {"shape": "box", "style": "rounded,filled,dashed", "fillcolor": "#dbeafe"},
    "number": {"shape": "box", "style": "filled", "fillcolor": "#dbeafe"},
    "message": {"shape": "note", "style": "filled", "fillcolor": "#ecfdf5"},
    "handler": {"shape": "box", "style": "filled", "fillcolor": "#fef3c7"},
    "transfer": {"shape": "cylinder", "style": "filled", "fillcolor": "#ede9fe"},
    "record": {"shape": "cylinder", "style": "filled", "fillcolor": "#ede9fe"},
    "hang up": {"shape": "box", "style": "rounded,filled,bold", "fillcolor": "#fee2e2"},
    "commands": {"shape": "box", "style": "rounded,filled,bold", "fillcolor": "#e0f2fe", "color": "#1d4ed8"},
    "elsewhere": {"shape": "box", "style": "rounded,dashed", "color": "#9ca3af", "fontcolor": "#4b5563",
                  "fontsize": "10"},
}  # fmt: skip
DOT_ARROWS: Mapping[str, Mapping[str, str]] = {
    "next": {},
    "voice": {"style": "dotted"},
    "retry": {"style": "dashed", "color": "#6b7280", "fontcolor": "#4b5563"},
    "failure": {"style": "dashed", "color": "#b91c1c", "fontcolor": "#b91c1c"},
    "command": {"color": "#1d4ed8", "fontcolor": "#1d4ed8", "penwidth": "1.4"},
}


def dot(drawn: Diagram, direction: str = "TB"):  # type: ignore[no-untyped-def]
    """The diagram as a graphviz.Digraph (`.source` is the DOT text); each branch a cluster.
    `direction`: Graphviz's rankdir, TB (top to bottom) or LR (left to right)."""
    import graphviz

    names = _names(drawn.boxes, DOT_WORDS)
    graph = graphviz.Digraph(
        "ivr",
        comment=f"IVR call flows: {drawn.title}",
        # newrank: Graphviz 2.43 cannot rank clusters with edges that leave them otherwise.
        graph_attr={"newrank": "true", "rankdir": direction, "fontname": "Helvetica", "nodesep": "0.3", "ranksep": "0.45",
                    "label": graphviz.escape(f"IVR call flows: {drawn.title}"), "labelloc": "t", "fontsize": "16"},
        node_attr={"fontname": "Helvetica", "fontsize": "11", "margin": "0.12,0.05"},
        edge_attr={"fontname": "Helvetica", "fontsize": "9", "arrowsize": "0.7"},
    )  # fmt: skip

    def add(into, box: Box) -> None:  # type: ignore[no-untyped-def]
        # A boundary node on two lines, "main_menu" over "(main)": narrower.
        title = box.title.replace(" (", "\n(", 1) if box.kind == "elsewhere" else box.title
        label = f"{title}\n{box.subtitle}" if box.subtitle else title
        into.node(names[box.key], label=_dot_text(label), **DOT_BOXES[box.kind])

    for branch in drawn.clusters:
        with graph.subgraph(name=f"cluster_{_names([branch.name], set())[branch.name]}") as cluster:
            cluster.attr(label=_dot_text(branch.name), style="rounded", color="#94a3b8", fontsize="14",
                         fontname="Helvetica-Bold")  # fmt: skip
            for box in drawn.boxes.values():
                if box.branch == branch.name:
                    add(cluster, box)
    for box in drawn.boxes.values():
        if box.branch is None:
            add(graph, box)
    for arrow in drawn.arrows:
        wrapped = "\n".join(textwrap.fill(line, LABEL_WIDTH) for line in arrow.label.split("\n"))
        label = {"label": _dot_text(wrapped)} if arrow.label else {}
        graph.edge(names[arrow.tail], names[arrow.head], **label, **DOT_ARROWS[arrow.style])
    return graph


def _dot_text(text: str) -> str:
    """A label as plain text: backslashes and <...> lose their meaning to Graphviz (the package
    quotes the rest); lines are centred."""
    import graphviz

    return graphviz.nohtml("\\n".join(graphviz.escape(line) for line in text.split("\n")))


def svg(drawn: Diagram) -> bytes:
    """The diagram as SVG, drawn by Graphviz's dot top to bottom or left to right, whichever is
    narrower (a page scrolls down, not across); DotMissing when dot is not installed."""
    import graphviz

    try:
        drawings = [dot(drawn, direction).pipe(format="svg") for direction in ("TB", "LR")]
    except graphviz.ExecutableNotFound as missing:
        raise DotMissing() from missing
    return min(drawings, key=_width)


def _width(svg: bytes) -> float:
    found = re.search(rb'<svg width="([0-9.]+)pt"', svg)
    return float(found.group(1)) if found else float("inf")


def dot_installed() -> bool:
    import shutil

    return shutil.which("dot") is not None
