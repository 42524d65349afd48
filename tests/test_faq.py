"""The knowledge base: YAML in and out, and ranked search that finds what callers mean."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from flask import Flask
from sqlalchemy import select

from ivr.db import get_db
from ivr.faq import DEMO_FILE, FaqFileError, choices, read_file, search
from ivr.models import FaqEntry

QUESTIONS = yaml.safe_load((Path(__file__).parent / "fixtures" / "faq_questions.yaml").read_text())["questions"]


def demo_entries() -> list[FaqEntry]:
    return [FaqEntry(**{k: v for k, v in e.items()}) for e in read_file(DEMO_FILE)]


def ranking_quality(entries: list[FaqEntry]) -> tuple[float, float]:
    first = offered = 0
    for asked, slug in QUESTIONS:
        found = choices(search(entries, asked))
        first += bool(found) and found[0].slug == slug
        offered += any(f.slug == slug for f in found)
    return first / len(QUESTIONS), offered / len(QUESTIONS)


def test_the_demo_knowledge_base_has_real_answers() -> None:
    entries = read_file(DEMO_FILE)
    assert len(entries) >= 8
    assert {e["category"] for e in entries} >= {
        "opening hours",
        "delivery",
        "returns and refunds",
        "accounts and payments",
        "membership",
    }
    assert all(len(e["answer"].split()) >= 15 for e in entries)


def test_callers_questions_find_the_right_entry() -> None:
    assert len(QUESTIONS) >= 40
    first, offered = ranking_quality(demo_entries())
    assert first >= 0.90, f"right entry first for {first:.0%} of the questions"
    assert offered >= 0.97, f"right entry among the choices for {offered:.0%}"


def test_a_vague_question_gets_choices_and_nonsense_gets_nothing() -> None:
    entries = demo_entries()
    vague = choices(search(entries, "delivery"))
    assert 2 <= len(vague) <= 3 and {f.slug for f in vague} >= {"delivery_times", "delivery_costs"}
    assert choices(search(entries, "what's the weather like on mars")) == []
    assert choices(search(entries, "uh um")) == []


def test_import_export_round_trip(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["faq", "import", str(DEMO_FILE)])  # the demo data has them already
    assert result.exit_code == 0 and "0 added, 10 updated" in result.output, result.output
    exported = runner.invoke(args=["faq", "export"])
    assert exported.exit_code == 0
    again = tmp_path / "faq.yaml"
    again.write_text(exported.output)
    assert read_file(again) == sorted(read_file(DEMO_FILE), key=lambda e: (e["category"], e["slug"]))
    result = runner.invoke(args=["faq", "import", str(again)])
    assert "0 added, 10 updated" in result.output


@pytest.mark.parametrize(
    "content, message",
    [
        ("entries: []", "expected 'entries:'"),
        ("entries:\n  - slug: a\n    category: b\n", "missing title, question, answer"),
        ("not: yaml: at: all", "cannot read it"),
    ],
)
def test_a_bad_file_is_a_clear_error_and_imports_nothing(
    app: Flask, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(FaqFileError, match=message):
        read_file(path)
    result = app.test_cli_runner().invoke(args=["faq", "import", str(path)])
    assert result.exit_code == 1 and message in result.output
    with app.app_context(), get_db().reading() as session:
        assert session.scalars(select(FaqEntry).where(FaqEntry.slug == "a")).first() is None
