"""The layout holds: no module of `ivr` imports, however indirectly, a module that imports it back
(imports inside functions count too), and the call flow runs without the agents' desk or its Flask
extensions loaded."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted((ROOT / "ivr").rglob("*.py"))}


def imported_by(name: str) -> set[str]:
    """The modules of `ivr` that `name` imports anywhere in it (`from a import b` is a.b when b is a
    module, else a; a package's own parents are not counted: Python loads them first anyway)."""
    path = MODULES[name]
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while (member := stack.pop()) != node:
                group.append(member)
            group.append(node)
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_circle_finder_finds_a_circle() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_one_that_imports_it_back() -> None:
    graph = {name: imported_by(name) for name in MODULES}
    found = circles(graph)
    assert not found, "modules that import each other:\n" + "\n".join(
        "  " + ", ".join(f"{m} -> {sorted(graph[m] & set(group))}" for m in group) for group in found
    )


def test_the_voicemail_branch_runs_without_the_agents_desk(tmp_path: Path) -> None:
    """A caller leaves a message through the engine and the message's own modules alone, on a real
    database: nothing of ivr.agents, Flask-Login or Flask-WTF is loaded for it (a new process, so
    nothing else has loaded them)."""
    script = f"""
import datetime as dt, sys
from contextlib import contextmanager
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from ivr.config import load_settings
from ivr.flows import build_flow
from ivr.flows.context import Context
from ivr.flows.engine import Engine
from ivr.flows.actions import RecordMessage
from ivr.flows.inputs import Keys, Recording
from ivr.flows.state import CallState
from ivr.hours import OpeningHours
from ivr.models import Base, Message
from ivr.prompts import Catalog

database = create_engine("sqlite:///{tmp_path / "ivr.sqlite3"}")
Base.metadata.create_all(database)

@contextmanager
def writer():
    with Session(database) as session, session.begin():
        yield session

settings = load_settings({{}})
context = Context(settings, OpeningHours.from_settings(settings), writer, lambda: Session(database), Catalog.load())
context.now = dt.datetime(2026, 12, 7, 15, 0, tzinfo=dt.timezone.utc)
engine = Engine(build_flow(), context.catalog, settings)
state = CallState("message_start", call_sid="CA" + "0" * 32, caller="+15005550006")
turn = engine.enter(state, "message_start", context)
assert any(isinstance(a, RecordMessage) for a in turn.actions), turn.actions
turn = engine.step(turn.state, Recording("https://api.twilio.com/rec/RE" + "1" * 32, "RE" + "1" * 32, 7), context)
turn = engine.step(turn.state, Keys("3"), context)
with Session(database) as session:
    print("messages:", [(m.recording_sid, m.status) for m in session.scalars(select(Message))])
print("path:", turn.path)
print("loaded:", sorted(m for m in sys.modules if m.startswith(("ivr.agents", "flask_login", "flask_wtf"))))
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"messages: [('RE{'1' * 32}', 'new')]" in done.stdout and "message_goodbye" in done.stdout, done.stdout
    assert "loaded: []" in done.stdout, done.stdout


DOMAIN = ("ivr.flows", "ivr.knowledge", "ivr.messages", "ivr.speech", "ivr.languages", "ivr.spoken", "ivr.hours")
CHANNELS = ("ivr.voice", "ivr.agents", "ivr.web")


def in_any(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def test_the_domain_imports_no_channel_and_no_flask() -> None:
    """A channel may import the domain; the domain never imports a channel, nor Flask (anywhere in it)."""
    domain = [name for name in MODULES if in_any(name, DOMAIN)]
    assert len(domain) > 20
    wrong = {name: sorted(m for m in imported_by(name) if in_any(m, CHANNELS)) for name in domain}
    assert not {k: v for k, v in wrong.items() if v}, wrong
    for name in domain:
        for node in ast.walk(ast.parse(MODULES[name].read_text(encoding="utf-8"))):
            modules = (
                [a.name for a in node.names] if isinstance(node, ast.Import)
                else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            )  # fmt: skip
            assert not [m for m in modules if m.split(".")[0] in ("flask", "flask_login", "flask_wtf")], name
