"""`flows graph` and the supervisors' /agent/flows draw the flows a branch at a time (ivr/flows/graph.py)."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ElementTree
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from markupsafe import escape

from ivr.flows import build_flow
from ivr.flows.graph import DOT_MISSING, branches, diagram, dot, svg
from ivr.flows.nodes import WAITING, Flow, Goto, Handler, Hangup, Message, Transfer
from ivr.flows.state import CallState
from tests.helpers import app, login, supervisor  # noqa: F401

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None, reason="needs Debian's graphviz (make test installs it as root)"
)


def full_nodes(source: str) -> set[str]:
    """The nodes a DOT text draws as nodes of the flow: their label is "id\\nkind" (a boundary
    node's is "id\\n(branch)")."""
    return set(re.findall(r'^\s*\S+ \[label="([^"\\]+)\\n(?!\()', source, flags=re.MULTILINE))


def edges(source: str) -> list[tuple[str, str, str]]:
    """(tail, head, label) of every edge, with labels unwrapped."""
    found = re.findall(r'^\s*(\S+) -> (\S+)(?: \[label=("(?:[^"\\]|\\.)*"|[^\s\]]+))?', source, flags=re.MULTILINE)
    return [(tail, head, label.strip('"').replace("\\n", " ")) for tail, head, label in found]


def test_one_branch_draws_its_nodes_exits_retries_failures_and_the_commands() -> None:
    flow = build_flow()
    orders = branches(flow)["orders"]
    source = dot(diagram(flow, "orders", misses=3)).source
    drawn = full_nodes(source)
    assert drawn == set(orders.nodes) | {"any prompt"}
    assert not drawn & (set(flow.nodes) - set(orders.nodes)), "another branch's node drawn in full"
    arrows = edges(source)

    # Every handler exit, labelled with the outcome the handler declares.
    lookup = flow.nodes["order_lookup"]
    assert isinstance(lookup, Handler) and len(lookup.exits) > 1
    for target, outcome in lookup.exits.items():
        assert any(t == "order_lookup" and h.startswith(target) and label == outcome for t, h, label in arrows), target
    # Every prompt of the branch is asked again, and the third miss leads to the failure node.
    for node_id in orders.nodes:
        if isinstance(flow.nodes[node_id], WAITING):
            assert any(t == h == node_id and "asked again" in label for t, h, label in arrows), node_id
            assert any(t == node_id and h.startswith(flow.on_failures) and label == "third miss"
                       for t, h, label in arrows), node_id  # fmt: skip
    # The commands, once, from the node that stands for every prompt.
    for command in flow.commands:
        said = f"{command.key} / {command.name}" if command.key else command.name
        assert sum(said in label for t, _h, label in arrows if t == "any_prompt") == 1, said
    # Nodes of other branches are small boundary nodes named for them.
    assert 'label="main_menu\\n(main)"' in source and 'label="after_failures\\n(people)"' in source
    assert any(t == "order_result" and "main_menu" in h and label == "yes" for t, h, label in arrows)


def test_all_branches_are_a_cluster_each_with_every_node() -> None:
    flow = build_flow()
    source = dot(diagram(flow)).source
    clusters = re.findall(r"subgraph (cluster_\w+) \{\s*(?:graph \[)?[^\n]*label=(\w+)", source)
    assert sorted(label for _, label in clusters) == sorted(branches(flow))
    assert all(name == f"cluster_{label}" for name, label in clusters)
    assert full_nodes(source) == set(flow.nodes) | {"any prompt"}
    assert "(main)" not in source, "no boundary nodes when every branch is drawn"


def test_the_failure_count_is_the_engines() -> None:
    source = dot(diagram(build_flow(), "orders", misses=4)).source
    assert "fourth miss" in source and "third miss at" not in source


def test_a_handler_says_what_leads_to_each_exit() -> None:
    def run(state: CallState, context: object) -> Goto:
        return Goto("a")

    with pytest.raises(TypeError, match="exits must map"):
        Handler("h", run=run, exits=("a", "b"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="say what leads to 'b'"):
        Handler("h", run=run, exits={"a": "found", "b": ""})


def odd_flow() -> Flow:
    """Node ids and labels that DOT and Mermaid would misread unquoted."""

    def run(state: CallState, context: object) -> Goto:
        return Goto('say."hi"')

    nodes = {
        "start": Handler("start", run=run, exits={'say."hi"': 'a "quoted" <b>bold</b> \\ outcome', "edge": "node"}),
        'say."hi"': Message('say."hi"', prompt="p", goto="edge:port"),
        "edge": Transfer("edge", prompt="p", number_setting="X", after="edge:port"),
        "edge:port": Hangup("edge:port"),
    }
    return Flow(nodes=nodes, start="start", main_menu="start", on_failures="edge:port")


@needs_dot
def test_odd_names_and_labels_are_quoted() -> None:
    drawn = svg(diagram(odd_flow()))
    root = ElementTree.fromstring(drawn)
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert 'say."hi"' in texts and "edge:port" in texts
    assert 'a "quoted" <b>bold</b> \\' in " ".join(t or "" for t in texts)
    assert len(root.findall(".//{http://www.w3.org/2000/svg}g[@class='node']")) == 4


def test_mermaid_keeps_labels_inside_their_quotes() -> None:
    from ivr.flows.graph import mermaid

    text = mermaid(diagram(odd_flow()))
    for line in text.splitlines()[2:]:
        assert "<b>" not in line and line.count('"') % 2 == 0, line


def run_graph(app: Flask, *args: str):  # type: ignore[no-untyped-def]  # noqa: F811
    return app.test_cli_runner().invoke(args=["flows", "graph", *args])


def test_cli_draws_a_branch_in_every_format(app: Flask) -> None:  # noqa: F811
    mermaid_text = run_graph(app, "--branch", "orders")
    assert mermaid_text.exit_code == 0 and mermaid_text.output.startswith("flowchart TD\n")
    assert 'order_lookup -- "found" --> order_result' in mermaid_text.output
    dot_text = run_graph(app, "--branch", "orders", "--format", "dot")
    assert dot_text.exit_code == 0 and dot_text.output.lstrip().startswith("//")
    assert "digraph" in dot_text.output and "order_lookup -> order_result" in dot_text.output


def test_cli_refuses_an_unknown_branch_in_one_line(app: Flask) -> None:  # noqa: F811
    result = run_graph(app, "--branch", "billing")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "billing" in lines[0]
    assert all(name in lines[0] for name in branches(build_flow()))


@needs_dot
def test_cli_svg_is_an_svg_document(app: Flask) -> None:  # noqa: F811
    result = run_graph(app, "--branch", "people", "--format", "svg")
    assert result.exit_code == 0, result.output
    root = ElementTree.fromstring(result.output.encode())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "after_failures" in result.output


def test_cli_without_dot_says_how_to_install_it(app: Flask, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    monkeypatch.setenv("PATH", str(tmp_path))
    result = run_graph(app, "--format", "svg")
    assert result.exit_code == 1 and result.output == f"error: {DOT_MISSING}\n"


# ---- the supervisors' page ---------------------------------------------------------------


def test_only_supervisors_see_the_flows_page(app: Flask) -> None:  # noqa: F811
    stranger = app.test_client().get("/agent/flows")
    assert stranger.status_code == 302 and "/agent/login" in stranger.headers["Location"]
    ann = login(app)
    refused = ann.get("/agent/flows")
    assert refused.status_code == 403 and "for supervisors" in refused.get_data(as_text=True)
    assert ann.get("/agent/flows/orders.svg").status_code == 403
    assert 'href="/agent/flows"' not in ann.get("/agent/").get_data(as_text=True)


@needs_dot
def test_a_supervisor_sees_every_branch_drawn(app: Flask) -> None:  # noqa: F811
    supervisor(app)
    carol = login(app, "carol")
    assert 'href="/agent/flows"' in carol.get("/agent/").get_data(as_text=True)
    page = carol.get("/agent/flows").get_data(as_text=True)
    for name in branches(build_flow()):
        assert f'<img src="/agent/flows/{name}.svg"' in page
        assert f'href="/agent/flows/{name}.svg"' in page
        drawing = carol.get(f"/agent/flows/{name}.svg")
        assert drawing.status_code == 200 and drawing.mimetype == "image/svg+xml"
        assert drawing.headers["X-Content-Type-Options"] == "nosniff"
        assert ElementTree.fromstring(drawing.data).tag == "{http://www.w3.org/2000/svg}svg"
        assert b"<script" not in drawing.data
    whole = carol.get("/agent/flows.svg")
    assert whole.status_code == 200 and b"cluster_voicemail" in whole.data
    for wrong in ("billing", "..%2Fmain", "main.svg%00"):
        assert carol.get(f"/agent/flows/{wrong}.svg").status_code == 404


def test_without_dot_the_page_says_so(app: Flask, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    supervisor(app)
    carol = login(app, "carol")
    monkeypatch.setenv("PATH", str(tmp_path))
    page = carol.get("/agent/flows").get_data(as_text=True)
    assert str(escape(DOT_MISSING)) in page and "<img" not in page
    drawing = carol.get("/agent/flows/orders.svg")
    assert drawing.status_code == 503 and DOT_MISSING in drawing.get_data(as_text=True)


@needs_dot
def test_the_page_draws_the_flow_the_line_runs(app: Flask, monkeypatch) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """Drawn once and kept, but a flow changed since (a reload) is drawn anew."""
    supervisor(app)
    carol = login(app, "carol")
    engine = app.extensions["ivr.engine"]
    assert b"9 / main_menu" in carol.get("/agent/flows/orders.svg").data
    monkeypatch.setattr(engine, "flow", replace(engine.flow, commands=engine.flow.commands[:1]))
    assert b"9 / main_menu" not in carol.get("/agent/flows/orders.svg").data
