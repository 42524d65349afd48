"""`flows check` as the safety net: each check on a deliberately broken copy of the project.

Each test copies the project's flows and prompts into a temporary folder, breaks one thing, and runs
the real command there, as a developer would: one line per problem, exit 1, never a traceback. The
app refuses to start on the same lines, and `flask --help` still works.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of what `flows check` reads: the package, the prompt catalogs, the WSGI entry point."""
    shutil.copytree(ROOT / "ivr", tmp_path / "ivr")
    shutil.copytree(ROOT / "prompts", tmp_path / "prompts")
    shutil.copy(ROOT / "wsgi.py", tmp_path / "wsgi.py")
    return tmp_path


def run(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IVR_", "FLASK_"))}
    env["IVR_DATABASE_URL"] = f"sqlite:///{project / 'ivr.sqlite3'}"
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def check(project: Path) -> list[str]:
    """The problem lines of `flows check`, which must fail without a traceback."""
    result = run(project, "flows", "check")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if not re.match(r"\d{4}-\d\d-\d\d ", line)]
    assert lines[-1].endswith("problem(s): callers would hear these as errors.")
    return lines[:-1]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_project_as_it_is_passes(project: Path) -> None:
    result = run(project, "flows", "check")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("flows OK:")


def test_a_mistyped_placeholder_is_named_with_its_file(project: Path) -> None:
    edit(project / "prompts/en-US.yaml", "Order {number} has shipped", "Order {numbr} has shipped")
    assert check(project) == [
        "prompts/en-US.yaml: order_shipped uses {numbr}, which no handler supplies",
        "prompts/en-US.yaml: order_shipped does not use {number}, which its handler supplies",
    ]


def test_a_value_the_handler_gives_but_the_prompt_drops_is_reported(project: Path) -> None:
    edit(project / "prompts/en-US.yaml", "has shipped with {carrier}.", "has shipped.")
    assert check(project) == ["prompts/en-US.yaml: order_shipped does not use {carrier}, which its handler supplies"]


def test_a_placeholder_in_a_node_prompt_nobody_fills_is_found(project: Path) -> None:
    edit(project / "prompts/en-US.yaml", "Hello, and thank you", "Hello {first_name}, and thank you")
    assert check(project) == ["prompts/en-US.yaml: greeting uses {first_name}, which node greeting does not supply"]


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        ("{number.__class__}", "order_not_found uses {number.__class__}; prompts take plain {names} only"),
        ("{0}", "order_not_found uses {0}; prompts take plain {names} only"),
        ("{number!r}", "order_not_found uses {number!r}; prompts take plain {names} only"),
        (
            "{number",
            "order_not_found has a stray brace (expected '}' before end of string); write {{ or }} for a brace",
        ),
    ],
)
def test_a_placeholder_that_is_not_a_plain_name_is_refused(project: Path, written: str, problem: str) -> None:
    edit(project / "prompts/en-US.yaml", "with the number {number}.", f"with the number {written}.")
    assert check(project) == [f"prompts/en-US.yaml: {problem}"]


def test_a_language_missing_a_prompt_and_one_with_an_extra_are_found(project: Path) -> None:
    english = (project / "prompts/en-US.yaml").read_text(encoding="utf-8")
    finnish = re.sub(r"(?m)^  faq_glad: .*\n", "", english).replace("prompts:\n", 'prompts:\n  old_offer: "Ei."\n', 1)
    (project / "prompts/fi-FI.yaml").write_text(finnish, encoding="utf-8")
    assert check(project) == [
        "prompts/fi-FI.yaml: prompt faq_glad is missing",
        "prompts/fi-FI.yaml: prompt old_offer is used by no node or handler",
    ]


def test_phrases_nothing_listens_for_are_found(project: Path) -> None:
    edit(project / "prompts/en-US.yaml", "phrases:\n", 'phrases:\n  weather: ["what is the weather"]\n')
    assert check(project) == ["prompts/en-US.yaml: phrases for weather are used by no option, command or handler"]


def test_an_unreachable_node_is_found_in_its_branch(project: Path) -> None:
    edit(
        project / "ivr/flows/orders.py",
        "NODES = [\n",
        'NODES = [\n    Message("lonely", prompt="faq_glad", goto="main_menu"),\n',
    )
    edit(project / "ivr/flows/orders.py", "Menu, NumberEntry", "Menu, Message, NumberEntry")
    assert check(project) == ["ivr/flows/orders.py: lonely: no path from 'language_start' reaches it"]


def test_an_exit_that_leads_nowhere_is_found(project: Path) -> None:
    edit(project / "ivr/flows/voicemail.py", 'after="message_recorded"', 'after="message_recordde"')
    found = check(project)
    assert "ivr/flows/voicemail.py: message_record: recorded goes to 'message_recordde', which does not exist" in found
    assert "ivr/flows/voicemail.py: message_recorded: no path from 'language_start' reaches it" in found


def test_a_missing_global_command_is_found(project: Path) -> None:
    edit(project / "ivr/flows/main.py", '    Command("help"),\n', "")
    assert check(project) == [
        "ivr/flows/main.py: the flow has no 'help' command (what can be said here)",
        *(f"prompts/{catalog.name}: phrases for help are used by no option, command or handler"
          for catalog in sorted((project / "prompts").glob("*.yaml"))),
    ]  # fmt: skip


def test_a_catalog_that_is_not_yaml_is_one_line(project: Path) -> None:
    edit(project / "prompts/en-US.yaml", "prompts:\n", "prompts:\n  broken: [unclosed\n")
    (line,) = check(project)
    assert re.fullmatch(r"prompts/en-US\.yaml: line \d+: not valid YAML \(.+\)", line), line


def test_a_flow_module_that_does_not_import_is_one_line(project: Path) -> None:
    edit(project / "ivr/flows/orders.py", "MAX_LOOKUPS = 3", "MAX_LOOKUPS = = 3")
    (line,) = check(project)
    assert re.fullmatch(r"ivr/flows/orders\.py: line \d+: invalid syntax.*", line), line


def test_help_works_and_the_app_refuses_to_start_with_the_same_lines(project: Path) -> None:
    edit(project / "prompts/en-US.yaml", "Order {number} has shipped", "Order {numbr} has shipped")
    helped = run(project, "--help")
    assert helped.returncode == 0 and "Traceback" not in helped.stderr
    for command in ("flows", "simulate", "agents", "worker"):
        assert re.search(rf"(?m)^  {command} ", helped.stdout), helped.stdout
    expected = "prompts/en-US.yaml: order_shipped uses {numbr}, which no handler supplies"
    for command in (("flows", "graph"), ("simulate",)):
        refused = run(project, *command)
        assert refused.returncode == 1 and f"error: {expected}" in refused.stderr.splitlines(), command
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVR_")}
    started = subprocess.run(
        [sys.executable, "-c", "import wsgi"], cwd=project, env=env, capture_output=True, text=True
    )
    assert started.returncode != 0
    assert f"  {expected}" in started.stderr.splitlines()


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (
            "    offers: 0.3\n",
            "    offers: 3\n",
            "language: knowledge: offers must be a share above 0 and at most 1, not 3",
        ),
        (
            "    sure: 0.65\n",
            "    sure: lots\n",
            "language: knowledge: sure must be a share above 0 and at most 1, not 'lots'",
        ),
        (
            "    endings: 0\n",
            "    endings: 0\n    compounds: yes please\n",
            "language: knowledge: compounds must be true or false, not 'yes please'",
        ),
        ("  knowledge:\n", "  spoken: [takas]\n  knowledge:\n", "language: spoken: must map each spoken form"),
        ("  knowledge:\n", "  spoken: {-ks: ksi}\n  knowledge:\n", "language: spoken: must map each spoken form"),
    ],
)
def test_knowledge_rules_and_spoken_forms_that_cannot_be_are_one_line(
    project: Path, old: str, new: str, problem: str
) -> None:
    edit(project / "prompts/en-US.yaml", old, new)
    (line,) = check(project)
    assert line.startswith(f"prompts/en-US.yaml: {problem}"), line
