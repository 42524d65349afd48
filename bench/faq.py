"""How well callers' own words reach what they mean: asked at main menu 3 (the questions prompt), and
said straight away at the main menu, side by side.

Main menu 3, per language (en-US, fi-FI, lv-LV; each searched in its own entries with its catalog's
filler and stemmer): the share of the knowledge-base questions whose right entry comes first (read out,
or named first when the caller is asked about it or offered a few), the share read out at once, and
the share offered it among the choices. Targets: 90% first for each language's questions the keywords
were tuned on (tests/fixtures/faq_questions[.<code>].yaml `questions:`), 85% for those other sessions
wrote apart and that were never read while tuning (faq_fresh.<code>.yaml, from the entries' questions and
answers; faq_blind.<code>.yaml, from their topics, titles and questions only): counted, never listed.
`unseen:`, `held_out:`, faq_read and faq_topics were written apart too, then read while tuning: printed
with no target, and listed. Questions the base has no entry for: the share read out an entry as the
answer (target <= 5% on the sets never read).

Main menu (English only: the option phrasings are American English): the same questions, and the
phrasings that mean an option (an order, the account, a person, a message, "a question"), as the engine
and the knowledge base take them there. Reached: the right entry among the answers offered, or the right
option. Targets: 95% reached, and no order-status or account phrasing sent to the knowledge base.
Run: .venv/bin/python bench/faq.py
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ivr.config import load_settings  # noqa: E402
from ivr.flows import build_flow  # noqa: E402
from ivr.flows.engine import Engine  # noqa: E402
from ivr.flows.inputs import Speech  # noqa: E402
from ivr.flows.main import COMMANDS, MAIN_OPTIONS, meant_option, weighed  # noqa: E402
from ivr.flows.state import CallState  # noqa: E402
from ivr.knowledge.decision import Index, Rules, decide  # noqa: E402
from ivr.knowledge.entries import DEMO_FILES, read_file  # noqa: E402
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
TABLES = (
    ("questions", "tuned on"),
    ("unseen", "unseen"),
    ("held_out", "held out"),
    ("read", "apart, read"),
    ("topics", "topics, read"),
    ("fresh", "written apart"),
    ("blind", "written blind"),
)
# Questions with no entry, written apart: a set the thresholds may be set on, and one never read.
NOT_IN_BASE = (
    ("not_in_base_dev", "no entry, tuned on"),
    ("not_in_base", "no entry, read"),
    ("read", "no entry, apart, read"),
    ("fresh", "no entry, written apart"),
    ("blind", "no entry, blind"),
)
# The sets never read while tuning: counted, never listed; the targets are theirs.
NEVER_READ = ("fresh", "blind")
# Written apart by another session from the entries' questions and answers alone, after the tuning,
# and never read by whoever tunes the search (tests/fixtures/faq_fresh.<code>.yaml): counted, never
# listed. The targets for questions written apart are theirs. The set written apart before it was then
# read while tuning (faq_read.<code>.yaml): listed, no target. A third set was written from the entries'
# topics and titles alone, not their answers, as a caller who has not read them asks (faq_topics.<code>.yaml),
# and was read while tuning the next round (as was the `not_in_base:` list once called "never tuned"). A
# fourth set was then written the same way, blind (faq_blind.<code>.yaml): counted, never listed.
APART = ("fresh", "read", "topics", "blind")


def fresh_file(language: str, name: str = "fresh") -> Path:
    return FIXTURES / f"faq_{name}.{language}.yaml"


def fresh(language: str, table: str, name: str = "fresh") -> list:
    """The questions written apart for `language`: `in_base` ([asked, slug]) or `not_in_base` (asked)."""
    items = yaml.safe_load(fresh_file(language, name).read_text()).get(table, [])
    return [tuple(q) for q in items] if table == "in_base" else [str(q) for q in items]


def question_file(language: str = "en-US") -> Path:
    return FIXTURES / ("faq_questions.yaml" if language == "en-US" else f"faq_questions.{language}.yaml")


def questions(language: str = "en-US", table: str = "questions") -> list[tuple[str, str]]:
    """(what a caller of `language` asked, the entry it should find)."""
    if table in APART:
        return fresh(language, "in_base", table)
    return [tuple(q) for q in yaml.safe_load(question_file(language).read_text()).get(table, [])]


def demo_entries(language: str = "en-US") -> list[FaqEntry]:
    """The demo knowledge base's entries in `language`."""
    return [FaqEntry(**dict(e)) for path in DEMO_FILES for e in read_file(path) if e["language"] == language]


def ranking(
    entries: list[FaqEntry], asked: list[tuple[str, str]], words: Words, rules: Rules
) -> tuple[float, float, list[str], float]:
    """The share whose right entry comes first (read out, or asked about first), the share offered it
    among the choices, the misses, and the share whose right answer was read out at once."""
    index = Index(entries, words)
    first = offered = at_once = 0
    misses = []
    for text, slug in asked:
        decided = decide(index, text, rules)
        found = decided.found
        first += bool(found) and found[0].slug == slug
        at_once += decided.kind == "answer" and found[0].slug == slug
        offered += any(f.slug == slug for f in found)
        if not found or found[0].slug != slug:
            misses.append(f"  {text!r}: expected {slug}, got {[f.slug for f in found]}")
    return first / len(asked), offered / len(asked), misses, at_once / len(asked)


def not_in_base(
    entries: list[FaqEntry], asked: list[str], words: Words, rules: Rules
) -> tuple[float, float, list[str]]:
    """For questions the base has no entry for: the share given an entry as the answer (a wrong
    answer), the share offered entries to choose from, and those questions with what they got."""
    index = Index(entries, words)
    answered = offered = 0
    wrong = []
    for text in asked:
        decided = decide(index, text, rules)
        answered += decided.kind == "answer"
        offered += decided.kind == "refine"
        if decided.kind != "none":
            wrong.append(f"  {text!r}: {decided.kind} {[f.slug for f in decided.found]}")
    return answered / len(asked), offered / len(asked), wrong


def questions_not_in_base(language: str, table: str) -> list[str]:
    """Questions a caller of `language` might ask that the demo base has no entry for."""
    if table in APART:
        return fresh(language, "not_in_base", table)
    return [str(q) for q in yaml.safe_load(question_file(language).read_text()).get(table, [])]


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
    mine, yours = (engine.catalog.phrases("en-US", name) for name in ("mine", "yours"))
    index = index_of(entries, engine.catalog.words("en-US"))
    decided = weighed(said, decide(index, said, engine.catalog.knowledge("en-US")), mine)
    if meant_option(said, guess, decided, mine, yours):
        return "option", [str(guess)]
    if decided.found:
        return "answers", [f.slug for f in decided.found]
    return ("option", [guess]) if guess else ("nothing", [])


_indexes: dict[int, Index] = {}


def index_of(entries: list[FaqEntry], words: Words) -> Index:
    """One index per list of entries, as the app builds one per version of them."""
    if id(entries) not in _indexes:
        _indexes[id(entries)] = Index(entries, words)
    return _indexes[id(entries)]


def main() -> int:
    catalog = Catalog.load()
    engine = Engine(build_flow(), catalog, load_settings({}))
    good = True
    misses: list[str] = []
    print("Main menu 3 (the questions prompt), per language: each language's questions in its own entries\n")
    print(f"{'language':<10}{'questions':<15}{'cases':>7}{'right first':>13}{'read at once':>14}{'among choices':>15}"
          f"{'ms each':>9}")  # fmt: skip
    for language in LANGUAGES:
        entries, words, rules = demo_entries(language), catalog.words(language), catalog.knowledge(language)
        for table, label in TABLES:
            asked = questions(language, table)
            if not asked:
                continue
            started = time.perf_counter()
            first, offered, missed, at_once = ranking(entries, asked, words, rules)
            ms_each = (time.perf_counter() - started) / len(asked) * 1000
            print(f"{language:<10}{label:<15}{len(asked):>7}{first:>13.1%}{at_once:>14.1%}{offered:>15.1%}"
                  f"{ms_each:>9.2f}")  # fmt: skip
            if table not in NEVER_READ:  # the questions never read are counted, never listed
                misses += [f"{m}   ({language}, {label})" for m in missed]
            if table == "questions":
                good = good and len(asked) >= 30 and first >= 0.9
            if table in NEVER_READ:
                good = good and first >= 0.85
    print(
        '\nright first: the right entry read out, or named first when the caller is asked ("Is your question about'
        ' ...?") or offered a few; read at once: read out with no question asked first'
        "\ntargets: right first >= 90% on each language's questions tuned on (at least 30), >= 85% on those written"
        " apart and never read while tuning (fresh, blind); the unseen, held-out, read and topics sets (written"
        " apart, then read while tuning) have no target\n"
    )
    print("Questions the knowledge base has no entry for: how many got an entry read out as the answer (wrong)\n")
    print(f"{'language':<10}{'questions':<22}{'cases':>7}{'wrong answers':>15}{'asked to confirm or choose':>28}")
    for language in LANGUAGES:
        entries, words, rules = demo_entries(language), catalog.words(language), catalog.knowledge(language)
        for table, label in NOT_IN_BASE:
            asked = questions_not_in_base(language, table)
            answered, offered, wrong = not_in_base(entries, asked, words, rules)
            print(f"{language:<10}{label:<22}{len(asked):>7}{answered:>15.1%}{offered:>28.1%}")
            if table not in NEVER_READ:  # the sets never read are counted, never listed
                misses += [f"{m}   ({language}, {label})" for m in wrong]
            else:
                good = good and answered <= 0.05 and len(asked) >= (40 if language == "en-US" else 25)
    print(
        "\ntarget: <= 5% answered with an entry, on the questions written apart and never tuned on (at least 40"
        " in English, 25 in Finnish and Latvian)\n"
    )
    good = speed() and good

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


SIZE = 2000


def large_base(size: int = SIZE) -> list[dict[str, object]]:
    """The English demo entries and made-up ones up to `size`: each a product's care, sizes, parts and
    guarantee in words of its own (a fixed seed), about as long as the demo answers."""
    rng = random.Random(7)
    syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "dre", "bal", "cor", "fen", "gar", "hol", "ter"]
    made_up = sorted({"".join(rng.choices(syllables, k=3)) for _ in range(6000)})
    entries = [dict(e) for e in read_file(DEMO_FILES[0])]
    while len(entries) < size:
        n = len(entries)
        product, part, material = rng.sample(made_up, 3)
        entries.append({
            "slug": f"product_{n}", "language": "en-US", "category": f"products {n % 40}",
            "title": f"caring for the {product}", "question": f"How do I look after my {product} {part}?",
            "answer": f"Wipe the {product} {part} with a dry cloth, never wash the {material} lining, and keep it away"
                      f" from direct heat. Spare {part} parts for the {product} are sold in our stores, and every"
                      f" {product} carries a two year guarantee from the day you bought it.",
            "keywords": [product, f"{product} {part}", material, f"clean {product}", f"{part} spare"],
        })  # fmt: skip
    return entries


def speed(size: int = SIZE) -> bool:
    """A knowledge base of `size` entries in SQLite, asked every English question through the app's
    path (version look-up, index, decision): p50 and p95 per question, against building the index
    for each question as the search did before (the baseline). Target p95 <= 20 ms."""
    from ivr.db import Database, upgrade
    from ivr.knowledge.decision import index_for
    from ivr.knowledge.entries import import_entries

    catalog = Catalog.load()
    words, rules = catalog.words("en-US"), catalog.knowledge("en-US")
    asked = [q for q, _ in questions("en-US") + questions("en-US", "unseen")]
    asked += questions_not_in_base("en-US", "not_in_base_dev")
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/faq.sqlite3"
        upgrade(url)
        database = Database(url)
        with database.transaction() as session:
            import_entries(session, large_base(size))
        timings: dict[str, list[float]] = {"index once per version": [], "index per question (before)": []}
        with database.reading() as session:
            started = time.perf_counter()
            index_for(session, "en-US", words)
            built = (time.perf_counter() - started) * 1000
            for text in asked * 3:
                started = time.perf_counter()
                decide(index_for(session, "en-US", words), text, rules)
                timings["index once per version"].append((time.perf_counter() - started) * 1000)
            entries = list(session.scalars(select(FaqEntry).where(FaqEntry.language == "en-US")))
            for text in asked[:40]:
                started = time.perf_counter()
                decide(Index(entries, words), text, rules)
                timings["index per question (before)"].append((time.perf_counter() - started) * 1000)
        database.engine.dispose()
    print(f"Speed: {size} entries in SQLite, {len(asked)} English questions; building the index once: {built:.0f} ms\n")
    print(f"{'':<30}{'questions':>10}{'p50 ms':>9}{'p95 ms':>9}")
    for label, times in timings.items():
        times.sort()
        print(f"{label:<30}{len(times):>10}{times[len(times) // 2]:>9.2f}{times[int(len(times) * 0.95)]:>9.2f}")
    p95 = sorted(timings["index once per version"])[int(len(timings["index once per version"]) * 0.95)]
    print("\ntarget: p95 <= 20 ms with the index built once per version\n")
    return p95 <= 20


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
