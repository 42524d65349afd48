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
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ivr.config import load_settings  # noqa: E402
from ivr.faq import DEMO_FILE, choices, read_file, search  # noqa: E402
from ivr.flows import build_flow  # noqa: E402
from ivr.flows.engine import Engine  # noqa: E402
from ivr.flows.main import COMMANDS, MAIN_OPTIONS  # noqa: E402
from ivr.flows.nodes import CallState, Speech  # noqa: E402
from ivr.models import FaqEntry  # noqa: E402
from ivr.prompts import Catalog  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
# Where each option leads from the main menu: what a phrasing meaning it must reach.
TARGETS = {o.name: o.goto for o in MAIN_OPTIONS} | {c.name: c.goto for c in COMMANDS if c.goto}
PERSONAL = ("order_status", "account")


def questions() -> list[tuple[str, str]]:
    return [tuple(q) for q in yaml.safe_load((FIXTURES / "faq_questions.yaml").read_text())["questions"]]


def phrasings() -> list[tuple[str, str]]:
    return [tuple(p) for p in yaml.safe_load((FIXTURES / "main_menu_phrasings.yaml").read_text())["phrasings"]]


def at_main_menu(engine: Engine, entries: list[FaqEntry], said: str) -> tuple[str, list[str]]:
    """Where the main menu takes `said`: ("option", [its node]) or ("answers", [slugs offered]),
    as the engine understands it and the `own_words` handler then searches it."""
    flow = engine.flow
    meaning = engine.understand(flow.nodes[flow.main_menu], Speech(said), CallState(node=flow.main_menu))
    if meaning is None:
        return "nothing", []
    if meaning.target != "own_words":
        return "option", [meaning.target]
    found = choices(search(entries, said))
    if found:
        return "answers", [f.slug for f in found]
    guess = meaning.values.get("faq_question_guess")
    return ("option", [guess]) if guess else ("nothing", [])


def main() -> int:
    entries = [FaqEntry(**dict(e)) for e in read_file(DEMO_FILE)]
    engine = Engine(build_flow(), Catalog.load(), load_settings({}))
    asked = questions()
    first = offered = 0
    started = time.perf_counter()
    for text, slug in asked:
        found = choices(search(entries, text))
        first += bool(found) and found[0].slug == slug
        offered += any(f.slug == slug for f in found)
    per_search = (time.perf_counter() - started) / len(asked) * 1000

    cases = [(text, "answers", slug) for text, slug in asked] + [(t, "option", TARGETS[o]) for t, o in phrasings()]
    reached = menu_first = to_kb = personal = 0
    misses = []
    started = time.perf_counter()
    for text, kind, want in cases:
        got_kind, got = at_main_menu(engine, entries, text)
        ok = got_kind == kind and want in got
        reached += ok
        menu_first += got_kind == kind and got[:1] == [want]
        if kind == "option" and want in (TARGETS[name] for name in PERSONAL):
            personal += 1
            to_kb += got_kind == "answers"
        if not ok:
            misses.append(f"  {text!r}: expected {kind} {want}, got {got_kind} {got}")
    per_case = (time.perf_counter() - started) / len(cases) * 1000

    n, m = len(asked), len(cases)
    print("\n".join(misses))
    print(
        f"{len(entries)} entries; {n} knowledge-base questions, {m - n} option phrasings "
        f"(tests/fixtures/faq_questions.yaml, main_menu_phrasings.yaml)\n"
    )
    print(f"{'asked at':<22}{'cases':>7}{'right first':>13}{'reached':>10}{'to the KB':>12}{'ms each':>9}")
    print(f"{'main menu 3':<22}{n:>7}{first / n:>13.1%}{offered / n:>10.1%}{'':>12}{per_search:>9.2f}")
    print(
        f"{'main menu':<22}{m:>7}{menu_first / m:>13.1%}{reached / m:>10.1%}{f'{to_kb}/{personal}':>12}{per_case:>9.2f}"
    )
    print("\ntargets: main menu 3 >= 90% first and >= 97% reached; main menu >= 95% reached, and 0 of the "
          "order-status and account phrasings to the knowledge base")  # fmt: skip
    good = first / n >= 0.9 and offered / n >= 0.97 and reached / m >= 0.95 and to_kb == 0
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
