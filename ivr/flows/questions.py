"""Questions (main menu 3): the caller picks a topic by key or asks in their own words.

One clear answer is read out; close ones become a short menu to narrow the question down; nothing
close lets the caller ask again or reach a person. Every answer and every question that found
nothing is logged (FaqQuery) with the call and its language, and so is whether the answer helped.

A call sees only the entries in its own language (topics, search and answers), heard with that
language's words (its catalog's filler and stemmer): a Finnish caller never gets an English answer.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ivr.experiments import variant_text
from ivr.flows import problems
from ivr.flows.actions import Say
from ivr.flows.context import Context
from ivr.flows.nodes import MAX_CHOICES, Choose, Goto, Handler, Menu, Option, Question
from ivr.flows.state import CallState
from ivr.flows.texts import offer_text
from ivr.flows.voicemail import leave_message
from ivr.knowledge import decision as knowledge
from ivr.models import FaqEntry, FaqQuery
from ivr.speech.matching import ENGLISH, Words

# "None of these" in a short menu of close answers: ask again, in other words.
NONE_OF_THESE = (Option("", "none_of_these", goto="faq_other_words"),)
# What a question carries from step to step; forgotten when the caller starts a new one.
QUESTION_KEYS = ("faq_question", "faq_topic", "faq_asked", "faq_slug", "faq_choices", "faq_query_id")


def entries(context: Context, language: str) -> list[FaqEntry]:
    """The entries in `language`, in the knowledge base's own order: topics and titles are offered as
    its keepers wrote them."""
    query = select(FaqEntry).where(FaqEntry.language == language).order_by(FaqEntry.id)
    return list(context.session.scalars(query))


def words(context: Context, language: str) -> Words:
    """How callers of `language` are heard (its catalog's filler and stemmer)."""
    return context.catalog.words(language) if context.catalog is not None else ENGLISH


def decide(state: CallState, context: Context, asked: str) -> knowledge.Decision:
    """What the knowledge base has for what the caller asked, in the call's language: one answer, a
    few to choose between, or none (ivr/knowledge/decision.py)."""
    language = state.language
    rules = context.catalog.knowledge(language) if context.catalog is not None else knowledge.Rules()
    return knowledge.ask(context.session, language, asked, words(context, language), rules)


def faq_start(state: CallState, context: Context) -> Goto:
    """The topics there are (from the knowledge base), and an invitation to just ask."""
    topics = list(dict.fromkeys(entry.category for entry in entries(context, state.language)))
    if not topics:
        return Goto("main_menu", say=(Say("faq_empty"),), forget=QUESTION_KEYS)
    choices = [{"label": topic, "value": topic} for topic in topics[:MAX_CHOICES]]
    earlier = tuple(key for key in QUESTION_KEYS if key != "faq_choices")
    return Goto("faq_ask", remember={"faq_choices": choices}, forget=earlier)


def faq_topic(state: CallState, context: Context) -> Goto:
    """A topic picked by key: its one entry is answered, several are offered by title."""
    topic = str(state.collected.get("faq_topic", ""))
    in_topic = [entry for entry in entries(context, state.language) if entry.category == topic]
    asked = f"topic: {topic}"
    if not in_topic:
        return Goto("faq_start")
    if len(in_topic) == 1:
        return Goto("faq_answer", remember={"faq_slug": in_topic[0].slug, "faq_asked": asked})
    choices = [{"label": entry.title, "value": entry.slug} for entry in in_topic[:MAX_CHOICES]]
    return Goto("faq_pick", remember={"faq_choices": choices, "faq_asked": asked})


def faq_search(state: CallState, context: Context) -> Goto:
    """The caller's own words, searched: one answer, a few to choose from, or nothing close. A problem
    named here ("I was charged twice") goes to a person with its case, as from the main menu: when it
    is surely meant, or when no answer contains every word of it."""
    asked = str(state.collected.get("faq_question", "")).strip()
    decided = decide(state, context, asked)
    problem = problems.named(asked, state, context)
    if problem is not None and (problem[1] or not decided.whole):
        return Goto(problem[0], forget=QUESTION_KEYS[1:])
    answered = answer_for(state, context, asked, decided)
    if answered is not None:
        return answered
    log_not_found(state, context, asked)
    return Goto("faq_again", say=(Say("faq_not_found"),), remember={"faq_asked": asked}, misses=state.retries + 1)


def answer_for(
    state: CallState, context: Context, asked: str, decided: knowledge.Decision | None = None
) -> Goto | None:
    """One clear answer, or the close ones to choose from; None when the knowledge base has no answer
    to it. `decided`: what it already decided for `asked`."""
    decided = decide(state, context, asked) if decided is None else decided
    if decided.kind == "answer":
        return Goto("faq_answer", remember={"faq_slug": decided.found[0].slug, "faq_asked": asked})
    if decided.kind == "refine" and len(decided.found) == 1:  # not sure of it: asked before it is read
        found = decided.found[0]
        maybe = (Say("faq_maybe", {"title": found.title}),)
        return Goto("faq_confirm", say=maybe, remember={"faq_slug": found.slug, "faq_asked": asked}, repeatable=True)
    if decided.kind == "refine":
        choices = [{"label": f.title, "value": f.slug} for f in decided.found]
        return Goto("faq_refine", remember={"faq_choices": choices, "faq_asked": asked})
    return None


def log_not_found(state: CallState, context: Context, asked: str) -> None:
    """A question nothing answered, for the people who keep the knowledge base."""
    _log(context, state, asked, None)


def faq_answer(state: CallState, context: Context) -> Goto:
    """Read the chosen entry's answer, log it, and ask whether it helped."""
    slug = str(state.collected.get("faq_slug", ""))
    same = (FaqEntry.language == state.language) & (FaqEntry.slug == slug)
    entry = context.session.scalar(select(FaqEntry).where(same))
    if entry is None:  # removed from the knowledge base during the call
        return Goto("faq_start", say=(Say("faq_not_found"),))
    query_id = _log(context, state, str(state.collected.get("faq_asked", "")), entry.slug)
    # An experiment's variant of the answer, for a caller in its variant arm (ivr/experiments.py).
    answer = variant_text(state.collected, "answer", entry.slug) or entry.answer
    said = (Say("faq_answer", {"answer": answer}),)
    answered = Goto("faq_helpful", say=said, remember={"faq_query_id": query_id}, repeatable=True)
    return offer_text(state, context, answered, f"/help/articles/{entry.slug}")


def faq_not_meant(state: CallState, context: Context) -> Goto:
    """Not the entry the caller meant: logged as a question nothing answered, and asked again in other words."""
    log_not_found(state, context, str(state.collected.get("faq_asked", "")))
    return Goto("faq_other_words", forget=("faq_slug",))


def faq_helped(state: CallState, context: Context) -> Goto:
    _mark_helpful(context, state, True)
    return Goto("faq_more", say=(Say("faq_glad"),), helped="answer")


def faq_not_helped(state: CallState, context: Context) -> Goto:
    _mark_helpful(context, state, False)
    return Goto("faq_again", say=(Say("faq_sorry"),), not_helped=True)


def faq_leave_message(state: CallState, context: Context) -> Goto:
    return Goto("message_start", remember=leave_message("not_answered", "faq_again"))


def _log(context: Context, state: CallState, asked: str, slug: str | None) -> int | None:
    """Log what was asked and what was answered (None: nothing found), once per call step."""
    now = context.now
    try:
        with context.writing() as session:
            query = FaqQuery(call_sid=state.call_sid, step=state.step, at=now, asked=asked[:255],
                             language=state.language, answered_slug=slug)  # fmt: skip
            session.add(query)
            session.flush()
            return query.id
    except IntegrityError:  # a Twilio retry of the same step: already logged
        return None


def _mark_helpful(context: Context, state: CallState, helpful: bool) -> None:
    query_id = state.collected.get("faq_query_id")
    if query_id is None:
        return
    with context.writing() as session:
        query = session.get(FaqQuery, query_id)
        if query is not None and query.call_sid == state.call_sid:
            query.helpful = helpful


NODES = [
    Handler("faq_start", run=faq_start, exits={"faq_ask": "the topics", "main_menu": "knowledge base empty"}),
    Choose(
        "faq_ask",
        prompt="faq_ask",
        choices_from="faq_choices",
        store_as="faq_topic",
        goto="faq_topic",
        announce="faq_topic_choice",
        question=Question(store_as="faq_question", goto="faq_search"),
        help="faq_ask_help",
        footer="to_main_menu",
    ),
    Handler(
        "faq_topic",
        run=faq_topic,
        exits={"faq_answer": "one entry", "faq_pick": "several entries", "faq_start": "topic gone"},
    ),
    Handler(
        "faq_search",
        run=faq_search,
        exits={
            "faq_answer": "one clear answer",
            "faq_confirm": "one, not sure",
            "faq_refine": "a few close answers",
            "faq_again": "nothing found",
            **{o.goto: "a problem named" for o in problems.OPTIONS},
        },
    ),
    Choose(
        "faq_refine",
        prompt="faq_refine",
        choices_from="faq_choices",
        store_as="faq_slug",
        goto="faq_answer",
        announce="faq_choice",
        help="faq_choose_help",
        footer="faq_none_of_these",
        also=NONE_OF_THESE,
    ),
    Choose(
        "faq_pick",
        prompt="faq_pick",
        choices_from="faq_choices",
        store_as="faq_slug",
        goto="faq_answer",
        announce="faq_choice",
        help="faq_choose_help",
        footer="faq_none_of_these",
        also=NONE_OF_THESE,
    ),
    Menu(
        "faq_confirm",
        prompt="faq_confirm",
        options=(Option("1", "yes", goto="faq_answer"), Option("2", "no", goto="faq_not_meant")),
        help="faq_confirm_help",
        # Another question, in other words, is taken as it is.
        question=Question(store_as="faq_question", goto="own_words"),
        understands="main_menu",
    ),
    Handler("faq_not_meant", run=faq_not_meant, exits={"faq_other_words": "ask in other words"}),
    Menu(
        "faq_other_words",
        prompt="faq_other_words",
        options=(),
        help="faq_other_words_help",
        question=Question(store_as="faq_question", goto="faq_search"),
        recovery=True,
    ),
    Handler(
        "faq_answer",
        run=faq_answer,
        exits={"faq_helpful": "answer read", "text_offer": "answer read, a text offered", "faq_start": "entry removed"},
    ),
    Menu(
        "faq_helpful",
        prompt="faq_helpful",
        options=(Option("1", "yes", goto="faq_helped"), Option("2", "no", goto="faq_not_helped")),
        help="faq_helpful_help",
        # A new question, a problem or another option instead of yes or no is taken as it is.
        question=Question(store_as="faq_question", goto="own_words"),
        understands="main_menu",
    ),
    Handler("faq_helped", run=faq_helped, exits={"faq_more": "glad it helped"}),
    Handler("faq_leave_message", run=faq_leave_message, exits={"message_start": "not answered"}),
    Handler("faq_not_helped", run=faq_not_helped, exits={"faq_again": "sorry"}),
    Menu(
        "faq_more",
        prompt="anything_else",
        options=(
            Option("1", "another_question", goto="faq_start"),
            Option("", "nothing_else", goto="goodbye"),
            Option("", "yes", goto="main_menu"),
        ),
        help="faq_more_help",
        footer="to_main_menu",
        question=Question(store_as="faq_question", goto="own_words"),
        understands="main_menu",
        anything_else=True,
    ),
    Menu(
        "faq_again",
        prompt="faq_again",
        options=(
            Option("1", "ask_again", goto="faq_start"),
            Option("2", "leave_message", goto="faq_leave_message"),
            Option("", "nothing_else", goto="declined"),
        ),
        help="faq_again_help",
        footer="person_or_main_menu",
        question=Question(store_as="faq_question", goto="own_words"),
        offer=True,
        recovery=True,
    ),
]

HANDLER_PROMPTS = {"faq_empty": set(), "faq_not_found": set(), "faq_answer": {"answer"}, "faq_glad": set(),
                   "faq_sorry": set(), "faq_maybe": {"title"}}  # fmt: skip
