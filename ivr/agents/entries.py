"""A new knowledge-base entry from the supervisors' pages (/agent/faq/new), prefilled from a group
of questions the insights page found unanswered.

The entry is saved as `faq import` saves one (ivr.knowledge.entries: the required fields, the language code, the
column sizes), in one of the line's languages, with a slug not yet used in that language; anything
wrong is said beside its field and what was typed is kept.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ivr.agents.views import bp
from ivr.db import get_db
from ivr.knowledge.decision import Rules
from ivr.knowledge.entries import FIELDS, import_entries, language_error
from ivr.languages import line_languages
from ivr.messages.words import language_name
from ivr.models import FaqEntry
from ivr.security import CONTROL
from ivr.speech.matching import Words, words_of

SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*")
# The columns' sizes (ivr.models.FaqEntry); the question and answer are text, kept sayable.
LONGEST = {"slug": 64, "category": 40, "title": 120, "question": 1000, "answer": 2000, "keywords": 500}
NAMES = {"slug": "Slug", "category": "Category", "title": "Title", "question": "Question", "answer": "Answer",
         "keywords": "Keywords", "language": "Language"}  # fmt: skip


def slug_of(words: str) -> str:
    """A slug suggested from a group's words: "refund card" -> "refund_card"."""
    return re.sub(r"[^a-z0-9]+", "_", words.lower()).strip("_")[: LONGEST["slug"]]


def keywords_of(question: str, words: Words, rules: Rules) -> str:
    """Keywords suggested from a question: its words that carry something (not the language's filler,
    nor the knowledge base's question words: "where" must not make "where is my parcel" a store's)."""
    kept = [w for w in words_of(question) if w not in words.filler and words.stem(w) not in rules.ignore and len(w) > 2]
    return ", ".join(dict.fromkeys(kept))


def known_category(typed: str, categories: Sequence[str]) -> str | None:
    """The existing category `typed` means, whatever its case and spaces ("opening  Hours" is
    "Opening hours"); None for a new one."""
    wanted = " ".join(typed.split()).casefold()
    return next((c for c in categories if " ".join(c.split()).casefold() == wanted), None)


def problems(typed: dict[str, str], languages: Sequence[str], taken: bool) -> dict[str, str]:
    """What keeps the typed entry out, by field (empty: it can be saved)."""
    wrong: dict[str, str] = {}
    for name in (*FIELDS, "keywords"):
        if len(typed[name]) > LONGEST[name]:
            wrong[name] = f"{NAMES[name]} is too long: at most {LONGEST[name]} characters."
    for name in FIELDS:
        if not typed[name].strip():
            wrong.setdefault(name, f"{NAMES[name]} is needed.")
    if "slug" not in wrong and not SLUG.fullmatch(typed["slug"]):
        wrong["slug"] = "A slug is lower-case letters, digits, _ and -, starting with a letter or digit (refund_card)."
    if typed["language"] not in languages or language_error(typed["language"]):
        wrong["language"] = "Choose one of the languages the line speaks."
    elif taken and "slug" not in wrong:
        wrong["slug"] = (f"There is already an entry {typed['slug']} in {language_name(typed['language'])}: "
                         "choose another slug (faq import updates an entry).")  # fmt: skip
    return wrong


@bp.route("/faq/new", methods=["GET", "POST"])
@login_required
def new_entry():  # type: ignore[no-untyped-def]
    if not current_user.supervisor:
        return render_template("agent/refused.html", why="Adding to the knowledge base is for supervisors."), 403
    languages = line_languages(current_app.config)
    source = request.form if request.method == "POST" else request.args
    # Lines typed in the answer become spaces: it is said, and a stored value has no control characters.
    typed = {name: CONTROL.sub(" ", source.get(name, ""))[:5000].strip() for name in (*FIELDS, "keywords", "language")}
    if request.method == "GET":
        typed["slug"] = typed["slug"] or slug_of(typed["keywords"])
    if typed["language"] not in languages:
        typed["language"] = languages[0] if request.method == "GET" else typed["language"]
    catalog = current_app.extensions["ivr.catalog"]
    if request.method == "GET" and not typed["keywords"] and typed["question"] and typed["language"] in languages:
        typed["keywords"] = keywords_of(typed["question"], catalog.words(typed["language"]),
                                        catalog.knowledge(typed["language"]))  # fmt: skip
    with get_db().reading() as session:
        categories = sorted(set(session.scalars(select(FaqEntry.category))), key=str.casefold)
    wrong: dict[str, str] = {}
    if request.method == "POST":
        # A category typed in another case is the existing one; a new topic only when asked for.
        known = known_category(typed["category"], categories)
        typed["category"] = known or typed["category"]
        if known is None and typed["category"] and request.form.get("new_category") != "yes":
            wrong["category"] = (f"“{typed['category']}” is not a topic yet, and a new one is offered to every caller "
                                 "in the topics menu: choose an existing one, or tick “a new topic” to add it.")  # fmt: skip
        keywords = [k.strip() for k in re.split(r"[,\n]", typed["keywords"]) if k.strip()]
        with get_db().transaction() as session:
            taken = session.scalar(
                select(FaqEntry.id).where(FaqEntry.language == typed["language"], FaqEntry.slug == typed["slug"].strip())
            ) is not None  # fmt: skip
            typed["slug"] = typed["slug"].strip()
            wrong = {**wrong, **problems(typed, languages, taken)}
            if not wrong:
                import_entries(session, [{**{name: typed[name] for name in FIELDS}, "keywords": keywords,
                                          "language": typed["language"]}])  # fmt: skip
        if not wrong:
            flash(f"Entry {typed['slug']} saved in {language_name(typed['language'])}: callers hear it from their next "
                  "question.", "ok")  # fmt: skip
            return redirect(url_for("agents.insights_page"))
    return render_template(
        "agent/faq_entry.html", typed=typed, wrong=wrong, languages=languages, categories=categories,
        language_name=language_name, longest=LONGEST, new_category=request.form.get("new_category") == "yes",
    ), (400 if wrong else 200)  # fmt: skip
