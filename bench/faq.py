"""How well callers' own words reach what they mean: asked at main menu 3 (the questions prompt), and
said straight away at the main menu, side by side.

Main menu 3: the share of the knowledge-base questions whose right entry comes first, and where it is
among the choices offered (one answer, or the 2-3 close ones a vague question gets). Targets: 90%, 97%.

Main menu: the same questions, and the phrasings that mean an option (an order, the account, a person,
a message, "a question"), as the engine and the knowledge base take them there. Reached: the right
entry among the answers offered, or the right option. Targets: 95% reached, and no order-status or
account phrasing sent to the knowledge base.
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
from ivr.faq import DEMO_FILE, choices, read_file, search  # noqa: E402
from ivr.flows import build_flow  # noqa: E402
from ivr.flows.engine import Engine  # noqa: E402
from ivr.flows.main import COMMANDS, MAIN_OPTIONS, meant_option  # noqa: E402
from ivr.flows.nodes import CallState, Speech  # noqa: E402
from ivr.models import FaqEntry  # noqa: E402
from ivr.prompts import Catalog  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
# Where each option leads from the main menu: what a phrasing meaning it must reach.
TARGETS = {o.name: o.goto for o in MAIN_OPTIONS} | {c.name: c.goto for c in COMMANDS if c.goto}
PERSONAL = ("order_status", "account")
# Tables written apart from the phrase lists: "unseen" was then used to find what the lists and
# thresholds missed; "held out" was never looked at while they were set.
HELD_OUT = (("unseen", "main_menu_unseen.yaml"), ("held out", "main_menu_held_out.yaml"))


def questions() -> list[tuple[str, str]]:
    return [tuple(q) for q in yaml.safe_load((FIXTURES / "faq_questions.yaml").read_text())["questions"]]


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
    found = search(entries, said)
    mine, yours = (engine.catalog.phrases("en-US", name) for name in ("mine", "yours"))
    if meant_option(said, guess, found, mine, yours):
        return "option", [str(guess)]
    if choices(found):
        return "answers", [f.slug for f in choices(found)]
    return ("option", [guess]) if guess else ("nothing", [])


def main() -> int:
    entries = [FaqEntry(**dict(e)) for e in read_file(DEMO_FILE)]
    engine = Engine(build_flow(), Catalog.load(), load_settings({}))
    asked = questions()
    n_asked = len(asked)
    first = offered = 0
    started = time.perf_counter()
    for text, slug in asked:
        found = choices(search(entries, text))
        first += bool(found) and found[0].slug == slug
        offered += any(f.slug == slug for f in found)
    per_search = (time.perf_counter() - started) / len(asked) * 1000

    rows = [("main menu, tuned on", main_menu_cases(asked + phrasings()))]
    rows += [(f"main menu, {label}", main_menu_cases(phrasings(name))) for label, name in HELD_OUT]
    print(
        f"{len(entries)} entries; {n_asked} knowledge-base questions (faq_questions.yaml); option phrasings "
        f"(main_menu_phrasings.yaml, tuned on; {', '.join(name for _, name in HELD_OUT)}, written apart)\n"
    )
    print(f"{'asked at':<22}{'cases':>7}{'right first':>13}{'reached':>10}{'to the KB':>12}{'ms each':>9}")
    print(
        f"{'main menu 3':<22}{n_asked:>7}{first / n_asked:>13.1%}{offered / n_asked:>10.1%}{'':>12}{per_search:>9.2f}"
    )
    good = first / n_asked >= 0.9 and offered / n_asked >= 0.97
    misses = []
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
        "\ntargets: main menu 3 >= 90% first and >= 97% reached; main menu (tuned on) >= 95% reached, and none of"
        " its order-status and account phrasings to the knowledge base; the tables written apart have no target"
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
