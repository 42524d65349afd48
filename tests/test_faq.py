"""The knowledge base: YAML in and out, each entry in its language, and ranked search that finds what
callers of each language mean."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from bench.faq import LANGUAGES, demo_entries, not_in_base, questions, questions_not_in_base, ranking
from ivr.db import get_db
from ivr.knowledge.decision import Decision, Index, decide
from ivr.knowledge.entries import DEMO_FILE, DEMO_FILES, FaqFileError, read_file
from ivr.models import FaqEntry, FaqQuery
from ivr.prompts import Catalog
from ivr.simulator.phone import SimulatedCall
from ivr.simulator.transport import FlaskTransport
from tests.conftest import TOKEN, make_app

CATALOG = Catalog.load()


def asked_in(language: str, text: str) -> Decision:
    """What the demo knowledge base in `language` has for `text`, heard as that language is."""
    return decide(Index(demo_entries(language), CATALOG.words(language)), text, CATALOG.knowledge(language))


def found_for(language: str, text: str) -> list[str]:
    return [f.slug for f in asked_in(language, text).found]


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


def test_the_demo_knowledge_base_has_every_entry_in_every_language() -> None:
    by_language = {language: {e.slug: e for e in demo_entries(language)} for language in LANGUAGES}
    english = by_language["en-US"]
    for language, entries in by_language.items():
        assert entries.keys() == english.keys(), language
        # The same topics, in the same order, each in its own words.
        assert [entries[slug].category == entries[other].category for slug in english for other in english] == [
            english[slug].category == english[other].category for slug in english for other in english
        ], language
        assert all(len(e.answer.split()) >= 12 and e.keywords for e in entries.values()), language
        if language != "en-US":
            assert not {e.title for e in entries.values()} & {e.title for e in english.values()}, language


@pytest.mark.parametrize("language", LANGUAGES)
def test_callers_questions_find_the_right_entry(language: str) -> None:
    asked = questions(language)
    assert len(asked) >= (40 if language == "en-US" else 30)
    first, _offered, misses, _at_once = ranking(
        demo_entries(language), asked, CATALOG.words(language), CATALOG.knowledge(language)
    )
    assert first >= 0.90, f"right entry first for {first:.0%} of the questions:\n" + "\n".join(misses)


# Wrong answers read out to questions the base has no entry for, in the sets never read while tuning:
# those other sessions wrote apart (faq_fresh.<code>.yaml from the entries' questions and answers,
# faq_blind.<code>.yaml from their topics, titles and questions only). The issue's target: 5%.
# The right entry first (read out, or named first when asked about) for their questions in the base:
# the issue's target, 85% (bench/faq.py prints what each language reaches).
NEVER_READ = ["fresh", "blind"]


@pytest.mark.parametrize("table", NEVER_READ)
@pytest.mark.parametrize("language", LANGUAGES)
def test_questions_the_base_has_no_entry_for_rarely_get_one(language: str, table: str) -> None:
    asked = questions_not_in_base(language, table)
    assert len(asked) >= (40 if language == "en-US" else 25)
    words, rules = CATALOG.words(language), CATALOG.knowledge(language)
    answered, _offered, _wrong = not_in_base(demo_entries(language), asked, words, rules)
    assert answered <= 0.05, f"{answered:.1%} of them got an entry read out as the answer"  # never listed


@pytest.mark.parametrize("table", NEVER_READ)
@pytest.mark.parametrize("language", LANGUAGES)
def test_questions_written_apart_find_their_entry_as_often_as_measured(language: str, table: str) -> None:
    asked = questions(language, table)
    assert len(asked) >= 40
    first, _offered, _misses, _at_once = ranking(
        demo_entries(language), asked, CATALOG.words(language), CATALOG.knowledge(language)
    )
    assert first >= 0.85, f"right entry first for {first:.1%}"  # never listed: never tuned on


@pytest.mark.parametrize(
    ("language", "asked"),
    [
        ("en-US", "do you sell gift cards"),
        ("en-US", "can I pay with bitcoin"),
        ("en-US", "do you price match"),
        ("fi-FI", "myyttekö lahjakortteja"),
        ("fi-FI", "onko teillä avoimia työpaikkoja"),
        ("lv-LV", "vai ir atlaide studentiem"),
    ],
)
def test_what_the_issue_named_gets_no_one_elses_answer(language: str, asked: str) -> None:
    decided = asked_in(language, asked)
    assert decided.kind == "none" and decided.why in ("not_covered", "nothing_close"), decided
    assert decided.missing, "the words no entry has are said"


def test_generic_words_alone_carry_no_answer_but_a_whole_question_of_them_does() -> None:
    assert asked_in("en-US", "do you sell cards").kind == "none"  # "card" is in the payment methods
    assert found_for("en-US", "is shipping free") == ["delivery_costs"]
    assert found_for("en-US", "how can I pay") == ["payment_methods"]


def test_a_long_question_told_with_its_story_finds_its_entry() -> None:
    assert found_for("en-US", "the shoes don't fit and I want to return them")[:1] == ["returns"]


def test_an_entry_well_ahead_is_asked_about_though_it_covers_little_of_a_long_question() -> None:
    asked = "so i'm stuck at the login page cause i don't know my password anymore"
    offered = asked_in("en-US", asked)
    assert (offered.kind, offered.why, [f.slug for f in offered.found]) == ("refine", "weak", ["reset_password"])
    never = dataclasses.replace(CATALOG.knowledge("en-US"), offers=1.0)
    assert decide(Index(demo_entries("en-US"), CATALOG.words("en-US")), asked, never).kind == "none"
    assert asked_in("en-US", "do you sell cards").kind == "none"  # generic words alone are still nothing


def test_spoken_finnish_is_heard_as_written() -> None:
    words = CATALOG.words("fi-FI")
    said = ("onks", "voinks", "tarpeeks", "takas", "ilmanen", "kauppa")
    assert [words.written(w) for w in said] == ["onksi", "voinksi", "tarpeeksi", "takaisin", "ilmainen", "kauppa"]
    asked = "onks teillä ilmanen toimitus"
    assert (asked_in("fi-FI", asked).kind, found_for("fi-FI", asked)) == ("answer", ["delivery_costs"])
    written_only = Index(demo_entries("fi-FI"), dataclasses.replace(words, spoken=()))
    assert decide(written_only, asked, CATALOG.knowledge("fi-FI")).kind != "answer"


def test_a_word_is_not_taken_for_a_longer_one_it_only_begins() -> None:
    index, rules = Index(demo_entries("lv-LV"), CATALOG.words("lv-LV")), CATALOG.knowledge("lv-LV")
    assert any(w.startswith("internetbank") for w in index.vocabulary)
    assert index.said("internetā", rules) == ["internet"]  # not "internetbanka": another word
    finnish = Index(demo_entries("fi-FI"), CATALOG.words("fi-FI"))
    # Other endings of a word still are it: "palautettua" (stemmed "palautetu") is "palauttaa".
    assert "palautetu" not in finnish.vocabulary
    assert finnish.said("palautettua", CATALOG.knowledge("fi-FI")) == ["palaut"]


def test_a_finnish_word_is_heard_as_the_last_part_of_an_entrys_compound() -> None:
    index, rules = Index(demo_entries("fi-FI"), CATALOG.words("fi-FI")), CATALOG.knowledge("fi-FI")
    assert rules.compounds and "tavo" not in index.vocabulary
    assert index.said("tavoilla", rules) == ["maksutavo"]  # the ways ... of paying: "maksutavoilla"
    assert index.said("tavoilla", dataclasses.replace(rules, compounds=False)) == ["tavo"]
    assert found_for("fi-FI", "millä tavoilla voi maksaa") == ["payment_methods"]
    assert not CATALOG.knowledge("en-US").compounds


def test_two_generic_words_said_as_an_entrys_keyword_phrase_are_specific_to_it() -> None:
    # "karte" (a card) and "klients" are generic in Latvian; "klienta karte" is the loyalty card.
    decided = asked_in("lv-LV", "kā tikt pie klienta kartes")
    assert decided.kind == "refine" and [f.slug for f in decided.found][:1] == ["loyalty_points"]
    assert asked_in("lv-LV", "vai man vajag karti").kind != "answer"  # a card alone is still no answer


def test_a_word_said_twice_counts_once() -> None:
    index, rules = Index(demo_entries("fi-FI"), CATALOG.words("fi-FI")), CATALOG.knowledge("fi-FI")
    asked = "minkä ikäisenä voi avata asiakastilin voiks viisitoistavuotias avata"
    assert index.said(asked, rules).count("ava") == 2
    decided = decide(index, asked, rules)
    assert decided.kind != "answer", decided  # "avata" twice is not two words of what the entry is about


@pytest.mark.parametrize(
    ("language", "asked", "slug", "unknown"),
    [
        ("fi-FI", "tota saako kanta-asiakkaat jotain etua syntymäpäivänä", "loyalty_points", "syntymäpäiv"),
        ("en-US", "can i bring my dog into the store", "returns", "dog"),
    ],
)
def test_a_word_no_entry_has_makes_the_nearest_asked_about_not_read_out(
    language: str, asked: str, slug: str, unknown: str
) -> None:
    decided = asked_in(language, asked)
    assert (decided.kind, decided.why, [f.slug for f in decided.found]) == ("refine", "unknown", [slug])
    assert unknown in decided.missing
    # Nearly covered, an unknown word does not hold the answer back ("enkä": and I cannot).
    assert found_for("fi-FI", "tili on lukossa enkä pääse sisään") == ["reset_password"]
    assert asked_in("fi-FI", "tili on lukossa enkä pääse sisään").kind == "answer"


@pytest.mark.parametrize(
    ("asked", "slug"),
    [
        ("milloin teidän myymälät aukeavat", "opening_hours"),  # aukeavat ~ aukeaa
        ("paljonko toimituskulut ovat", "delivery_costs"),
        ("salasanani unohtui", "reset_password"),
        ("jäsenyydestä", "loyalty_points"),  # jäsenyyd- ~ jäsenyys
        ("kauanko pikatoimituksella menee", "delivery_times"),
        ("haluaisin palauttaa kengät", "returns"),
    ],
)
def test_finnish_questions_find_their_answer_whatever_the_case(asked: str, slug: str) -> None:
    assert found_for("fi-FI", asked)[:1] == [slug]


@pytest.mark.parametrize(
    ("asked", "slug"),
    [
        ("kāds ir jūsu darba laiks", "opening_hours"),
        ("cik maksā piegādes", "delivery_costs"),
        ("aizmirsu savu paroli", "reset_password"),
        ("kā atgriezt preces", "returns"),
        ("kad atmaksās naudu", "refunds"),
        ("vai var samaksāt ar bankas karti", "payment_methods"),
    ],
)
def test_latvian_questions_find_their_answer_whatever_the_case(asked: str, slug: str) -> None:
    assert found_for("lv-LV", asked)[:1] == [slug]


def test_a_vague_question_gets_choices_and_nonsense_gets_nothing() -> None:
    vague = asked_in("en-US", "delivery")
    assert vague.kind == "refine" and 2 <= len(vague.found) <= 3
    assert {f.slug for f in vague.found} >= {"delivery_times", "delivery_costs"}
    assert asked_in("en-US", "what's the weather like on mars").kind == "none"
    assert asked_in("en-US", "uh um") == Decision("none", why="no_words")
    assert set(found_for("fi-FI", "toimitus")) >= {"delivery_times", "delivery_costs"}
    assert set(found_for("lv-LV", "piegāde")) >= {"delivery_times", "delivery_costs"}
    assert asked_in("fi-FI", "öö tota niinku").kind == "none"
    assert asked_in("lv-LV", "nu ē lūdzu").kind == "none"


def test_import_export_round_trip(app: Flask, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["faq", "import", str(DEMO_FILE)])  # the demo data has them already
    assert result.exit_code == 0 and "0 added, 10 updated" in result.output, result.output
    exported = runner.invoke(args=["faq", "export"])
    assert exported.exit_code == 0
    again = tmp_path / "faq.yaml"
    again.write_text(exported.output)
    demo = [entry for path in DEMO_FILES for entry in read_file(path)]
    assert read_file(again) == sorted(demo, key=lambda e: (e["language"], e["category"], e["slug"]))
    assert {e["language"] for e in read_file(again)} == {"en-US", "fi-FI", "lv-LV"}
    result = runner.invoke(args=["faq", "import", str(again)])
    assert "0 added, 30 updated" in result.output
    finnish = runner.invoke(args=["faq", "export", "--language", "fi-FI"])
    again.write_text(finnish.output)
    assert read_file(again) == sorted(read_file(DEMO_FILES[1]), key=lambda e: (e["category"], e["slug"]))
    wrong = runner.invoke(args=["faq", "export", "--language", "finnish"])
    assert wrong.exit_code == 1 and "not a language code" in wrong.output


def test_the_same_slug_in_two_languages_is_two_entries(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "faq.yaml"
    entry = "  - {{slug: gift_cards, {language}category: {category}, title: t, question: q, answer: a}}\n"
    path.write_text(
        "language: fi-FI\nentries:\n"  # the file's language, unless an entry gives its own
        + entry.format(language="", category="lahjakortit")
        + entry.format(language="language: lv-LV, ", category="dāvanu kartes")
    )
    runner = app.test_cli_runner()
    result = runner.invoke(args=["faq", "import", str(path)])
    assert result.exit_code == 0 and "2 added, 0 updated" in result.output, result.output
    path.write_text(path.read_text().replace("lahjakortit", "lahjakortti"))
    assert "0 added, 2 updated" in runner.invoke(args=["faq", "import", str(path)]).output
    with app.app_context(), get_db().reading() as session:
        rows = session.execute(select(FaqEntry.language, FaqEntry.category).where(FaqEntry.slug == "gift_cards"))
        assert sorted(rows) == [("fi-FI", "lahjakortti"), ("lv-LV", "dāvanu kartes")]


@pytest.mark.parametrize(
    "content, message",
    [
        ("entries: []", "expected 'entries:'"),
        ("entries:\n  - slug: a\n    category: b\n", "missing title, question, answer"),
        ("not: yaml: at: all", "cannot read it"),
        ("language: finnish\nentries:\n  - {slug: a, category: b, title: c, question: d, answer: e}\n",
         "bad.yaml: language 'finnish' is not a language code like fi-FI"),
        ("entries:\n  - {slug: a, category: b, title: c, question: d, answer: e}\n"
         "  - {slug: b, language: xx-XX, category: b, title: c, question: d, answer: e}\n",
         "bad.yaml entry 2 (b): language 'xx-XX' is not a language Babel"),
        ("entries:\n  - {slug: a, language: fi-FI, category: b, title: c, question: d, answer: e}\n"
         "  - {slug: a, language: fi-FI, category: b, title: c, question: d, answer: e}\n",
         "slug 'a' appears twice in fi-FI"),
    ],
)  # fmt: skip
def test_a_bad_file_is_a_clear_error_and_imports_nothing(
    app: Flask, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(FaqFileError, match=re.escape(message)):
        read_file(path)
    result = app.test_cli_runner().invoke(args=["faq", "import", str(path)])
    assert result.exit_code == 1 and message in result.output
    with app.app_context(), get_db().reading() as session:
        assert session.scalars(select(FaqEntry).where(FaqEntry.slug == "a")).first() is None


def test_a_finnish_call_hears_only_finnish_answers(tmp_path: Path, template_db: Path) -> None:
    """Topics, answers and short menus come from the call's language's entries; an English question in a
    Finnish call finds nothing rather than an English answer. What was asked is logged with fi-FI."""
    app = make_app(tmp_path, template_db, LANGUAGES="en-US,fi-FI,lv-LV", NUMBER_LANGUAGES="+358900000000=fi-FI")
    english = {e.answer for e in demo_entries("en-US")} | {e.category for e in demo_entries("en-US")}
    call = SimulatedCall(FlaskTransport(app, TOKEN), called="+358900000000").dial()
    call.press("3")
    for topic in dict.fromkeys(e.category for e in demo_entries("fi-FI")):  # the Finnish topics, in order
        call.hears(f"{topic}\\W+\\w+ [1-5]")
    heard = call.heard
    call.say("öö kauanko paketin toimitus kestää")
    call.hears("kolmesta viiteen arkipäivää")
    heard += call.heard
    call.say("ei")
    call.press("1")
    call.say("how long does shipping take")
    heard += call.heard
    assert not any(text in heard for text in english)
    with app.app_context(), get_db().reading() as session:
        logged = session.execute(select(FaqQuery.language, FaqQuery.answered_slug).order_by(FaqQuery.id)).all()
    assert [tuple(row) for row in logged] == [("fi-FI", "delivery_times"), ("fi-FI", None)]
    report = app.test_cli_runner().invoke(args=["faq", "asked", "--days", "1"])
    assert "fi-FI     delivery_times" in report.output and "fi-FI  how long does shipping take" in report.output
    app.extensions["ivr.db"].engine.dispose()


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_number_word_of_the_language_finds_an_entry(language: str) -> None:
    """Every number word of the language (num2words' and its catalog's own) put to its entries and
    their keywords: a caller who says an order number never hears how to reset a password ("nolla",
    zero, is not "nollata", to reset)."""
    from dataclasses import replace

    from ivr.speech.numbers import ENGLISH_NUMBERS, vocabulary

    numbers = sorted(vocabulary(CATALOG.numbers(language)).words)
    assert len(numbers) >= 20, numbers
    index, rules = Index(demo_entries(language), CATALOG.words(language)), CATALOG.knowledge(language)
    taken = {word: [f.slug for f in decide(index, word, rules).found] for word in numbers}
    assert not {word: slugs for word, slugs in taken.items() if slugs}
    if language == "fi-FI":  # without its number words, the Finnish zero would be the password entry
        assert [f.slug for f in decide(index, "nolla", replace(rules, numbers=ENGLISH_NUMBERS)).found] == [
            "reset_password"
        ]


def test_the_index_is_built_again_when_the_entries_change(app: Flask) -> None:
    from ivr.knowledge.decision import index_for

    words = CATALOG.words("en-US")
    with app.app_context():
        with get_db().reading() as session:
            first = index_for(session, "en-US", words)
            assert index_for(session, "en-US", words) is first  # once per version, not per question
        with get_db().transaction() as session:
            entry = session.scalar(select(FaqEntry).where(FaqEntry.language == "en-US", FaqEntry.slug == "returns"))
            entry.keywords = [*entry.keywords, "gift wrapping"]
        with get_db().reading() as session:
            again = index_for(session, "en-US", words)
            assert again is not first
            decided = decide(again, "do you do gift wrapping", CATALOG.knowledge("en-US"))
            assert [f.slug for f in decided.found] == ["returns"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_entries_are_scored_as_rank_bm25_scores_every_entry(language: str) -> None:
    """The index scores only the entries that have a question's words: the same numbers, to the last
    bit, as rank-bm25's get_scores over every entry (what the decision was tuned with)."""
    index, rules = Index(demo_entries(language), CATALOG.words(language)), CATALOG.knowledge(language)
    asked = [q for q, _ in questions(language)] + questions_not_in_base(language, "not_in_base")
    checked = 0
    for text in asked:
        said = index.said(text, rules)
        every = index.bm25.get_scores(said)  # type: ignore[union-attr]
        scored = index.scores(said)
        assert every.tolist() == scored.tolist(), text
        checked += bool(scored.any())
    assert checked > len(asked) / 2


def test_an_index_with_one_entry_changed_decides_as_one_built_afresh() -> None:
    """The editor's preview changes one entry of the index it has (Index.with_entry): every question
    gets what an index built from the changed entries would give."""
    entries, words, rules = demo_entries("en-US"), CATALOG.words("en-US"), CATALOG.knowledge("en-US")
    returns = next(e for e in entries if e.slug == "returns")
    changed = FaqEntry(**{**{c: getattr(returns, c) for c in ("language", "slug", "category", "title", "question",
                                                             "answer")}, "keywords": ["parcel back", "send back"]})  # fmt: skip
    parking = FaqEntry(language="en-US", slug="parking", category="store", title="Parking", question="Can I park?",
                       answer="Behind the store.", keywords=["parking", "car park"])  # fmt: skip
    index = Index(entries, words)
    for entry, afresh in (
        (changed, [changed if e.slug == "returns" else e for e in entries]),
        (parking, [*entries, parking]),
    ):
        quick, built = index.with_entry(entry), Index(afresh, words)
        asked = [q for q, _ in questions("en-US")] + questions_not_in_base("en-US", "not_in_base") + ["can i park here"]
        assert [decide(quick, q, rules) for q in asked] == [decide(built, q, rules) for q in asked]
    assert decide(index.with_entry(parking), "can i park here", rules).found[0].slug == "parking"
    assert [e.slug for e in index.entries] == [e.slug for e in entries]  # the index it came from is unchanged


def test_a_base_without_a_word_decides_nothing_and_does_not_fail() -> None:
    """An editor's preview in a language with no entries yet, of an entry typed with filler only."""
    words, rules = CATALOG.words("en-US"), CATALOG.knowledge("en-US")
    empty = FaqEntry(language="en-US", slug="x", category="", title="", question="?", answer="", keywords=[])
    assert decide(Index([empty], words), "is there parking", rules).kind == "none"
    assert decide(Index([], words).with_entry(empty), "um", rules).why == "no_words"
