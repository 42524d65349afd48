"""How well callers' own words reach what they mean: asked at main menu 3 (the questions prompt), and
said straight away at the main menu, side by side.

Main menu 3, per language (en-US, fi-FI, lv-LV; each searched in its own entries with its catalog's
filler and stemmer): the share of the knowledge-base questions whose right entry comes first, and
where it is among the choices offered (one answer, or the 2-3 close ones a vague question gets).
Targets, for each language's questions (tests/fixtures/faq_questions[.<code>].yaml `questions:`, which
the entries' keywords were tuned on): 90%, 97%. Finnish and Latvian also have `unseen:` questions
(written apart, then used to find what search still missed) and `held_out:` ones (never tuned on),
printed with no target.

Main menu (English only: the option phrasings are American English): the same questions, and the
phrasings that mean an option (an order, the account, a person, a message, "a question"), as the engine
and the knowledge base take them there. Reached: the right entry among the answers offered, or the right
option. Targets: 95% reached, and no order-status or account phrasing sent to the knowledge base.
Run: .venv/bin/python bench/faq.py
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ivr.config import load_settings  # noqa: E402
from ivr.faq import DEMO_FILES, choices, read_file, search  # noqa: E402
from ivr.flows import build_flow  # noqa: E402
from ivr.flows.engine import Engine  # noqa: E402
from ivr.flows.main import COMMANDS, MAIN_OPTIONS, meant_option  # noqa: E402
from ivr.flows.nodes import CallState, Speech  # noqa: E402
from ivr.models import FaqEntry  # noqa: E402
from ivr.prompts import Catalog  # noqa: E402
from ivr.speech.matching import Words  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
# Where each option leads from the main menu: what a phrasing meaning it must reach.
TARGETS = {o.name: o.goto for o in MAIN_OPTIONS} | {c.name: c.goto for c in COMMANDS if c.goto}
PERSONAL = ("order_status", "account")
# Tables written apart from the phrase lists: "unseen" was then used to find what the lists and
# thresholds missed; "held out" was never looked at while they were set.
HELD_OUT = (("unseen", "main_menu_unseen.yaml"), ("held out", "main_menu_held_out.yaml"))
LANGUAGES = ("en-US", "fi-FI", "lv-LV")
# A language's questions: tuned on (with the targets), then those written apart, if it has them.
TABLES = (("questions", "tuned on"), ("unseen", "unseen"), ("held_out", "held out"))


def question_file(language: str = "en-US") -> Path:
    return FIXTURES / ("faq_questions.yaml" if language == "en-US" else f"faq_questions.{language}.yaml")


def questions(language: str = "en-US", table: str = "questions") -> list[tuple[str, str]]:
    """(what a caller of `language` asked, the entry it should find)."""
    return [tuple(q) for q in yaml.safe_load(question_file(language).read_text()).get(table, [])]


def demo_entries(language: str = "en-US") -> list[FaqEntry]:
    """The demo knowledge base's entries in `language`."""
    return [FaqEntry(**dict(e)) for path in DEMO_FILES for e in read_file(path) if e["language"] == language]


def ranking(entries: list[FaqEntry], asked: list[tuple[str, str]], words: Words) -> tuple[float, float, list[str]]:
    """The share whose right entry comes first, the share offered it among the choices, and the misses."""
    first = offered = 0
    misses = []
    for text, slug in asked:
        found = choices(search(entries, text, words))
        first += bool(found) and found[0].slug == slug
        offered += any(f.slug == slug for f in found)
        if not found or found[0].slug != slug:
            misses.append(f"  {text!r}: expected {slug}, got {[f.slug for f in found]}")
    return first / len(asked), offered / len(asked), misses


def phrasings(name: str = "main_menu_phrasings.yaml") -> list[tuple[str, str]]:
    """(what was said, the option or knowledge-base entry it means)."""
    return [tuple(p) for p in yaml.safe_load((FIXTURES / name).read_text())["phrasings"]]


def main_menu_cases(said: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """(what was said, "option" or "answers", the node or the entry it must reach)."""
    return [(text, "option", TARGETS[want]) if want in TARGETS else (text, "answers", want) for text, want in said]


def at_main_menu(engine: Engine, entries: list[FaqEntry], said: str) -> tuple[str, list[str]]:
    """Where the main menu takes `said`: ("option", [its node]) or ("answers", [slugs offered]), as
    the engine understands it and the `own_words` handler then decides (ivr/flows/main.py)."""
    flow = engine.flow
    meaning = engine.understand(flow.nodes[flow.main_menu], Speech(said), CallState(node=flow.main_menu))
    if meaning is None:
        return "nothing", []
    if meaning.target != "own_words":
        return "option", [meaning.target]
    guess = meaning.values.get("faq_question_guess")
    found = search(entries, said, engine.catalog.words("en-US"))
    mine, yours = (engine.catalog.phrases("en-US", name) for name in ("mine", "yours"))
    if meant_option(said, guess, found, mine, yours):
        return "option", [str(guess)]
    if choices(found):
        return "answers", [f.slug for f in choices(found)]
    return ("option", [guess]) if guess else ("nothing", [])


def main() -> int:
    catalog = Catalog.load()
    engine = Engine(build_flow(), catalog, load_settings({}))
    good = True
    misses: list[str] = []
    print("Main menu 3 (the questions prompt), per language: each language's questions in its own entries\n")
    print(f"{'language':<10}{'questions':<11}{'cases':>7}{'right first':>13}{'among choices':>15}{'ms each':>9}")
    for language in LANGUAGES:
        entries, words = demo_entries(language), catalog.words(language)
        for table, label in TABLES:
            asked = questions(language, table)
            if not asked:
                continue
            started = time.perf_counter()
            first, offered, missed = ranking(entries, asked, words)
            ms_each = (time.perf_counter() - started) / len(asked) * 1000
            print(f"{language:<10}{label:<11}{len(asked):>7}{first:>13.1%}{offered:>15.1%}{ms_each:>9.2f}")
            misses += [f"{m}   ({language}, {label})" for m in missed]
            if table == "questions":
                good = good and len(asked) >= 30 and first >= 0.9 and offered >= 0.97
    print(
        "\ntargets: for each language's questions tuned on (at least 30), >= 90% right first and >= 97% among"
        " the choices; unseen and held-out questions have no target\n"
    )

    entries = demo_entries("en-US")
    asked = questions()
    rows = [("main menu, tuned on", main_menu_cases(asked + phrasings()))]
    rows += [(f"main menu, {label}", main_menu_cases(phrasings(name))) for label, name in HELD_OUT]
    print(
        f"Main menu (English only): {len(entries)} entries; {len(asked)} knowledge-base questions"
        f" (faq_questions.yaml); option phrasings (main_menu_phrasings.yaml, tuned on;"
        f" {', '.join(name for _, name in HELD_OUT)}, written apart)\n"
    )
    print(f"{'asked at':<22}{'cases':>7}{'right first':>13}{'reached':>10}{'to the KB':>12}{'ms each':>9}")
    for number, (label, cases) in enumerate(rows):
        score = score_main_menu(engine, entries, cases)
        misses += [f"{m}   ({label})" for m in score.misses]
        print(
            f"{label:<22}{len(cases):>7}{score.first:>13.1%}{score.reached:>10.1%}"
            f"{f'{score.to_kb}/{score.personal}':>12}{score.ms_each:>9.2f}"
        )
        if number == 0:  # the targets are the tuned table's; the others say how far it carries
            good = good and score.reached >= 0.95 and score.to_kb == 0
    print(
        "\ntargets: main menu (tuned on) >= 95% reached, and none of its order-status and account phrasings to the"
        " knowledge base; the tables written apart have no target"
    )
    print("\nnot reached:\n" + "\n".join(misses))
    return 0 if good else 1


@dataclass
class Score:
    first: float
    reached: float
    to_kb: int
    personal: int
    ms_each: float
    misses: list[str]


def score_main_menu(engine: Engine, entries: list[FaqEntry], cases: list[tuple[str, str, str]]) -> Score:
    reached = first = to_kb = personal = 0
    misses = []
    started = time.perf_counter()
    for text, kind, want in cases:
        got_kind, got = at_main_menu(engine, entries, text)
        ok = got_kind == kind and want in got
        reached += ok
        first += got_kind == kind and got[:1] == [want]
        if kind == "option" and want in (TARGETS[name] for name in PERSONAL):
            personal += 1
            to_kb += got_kind == "answers"
        if not ok:
            misses.append(f"  {text!r}: expected {kind} {want}, got {got_kind} {got}")
    ms_each = (time.perf_counter() - started) / len(cases) * 1000
    return Score(first / len(cases), reached / len(cases), to_kb, personal, ms_each, misses)


if __name__ == "__main__":
    sys.exit(main())
