"""The knowledge base for supervisors (/agent/faq): its entries, a new one (prefilled from a group of
questions the insights page found unanswered), an existing one edited, and every change taken back.

An entry is saved as `faq import` saves one (ivr.knowledge.entries: the required fields, the language
code, the column sizes), in one of the line's languages; anything wrong is said beside its field and
what was typed is kept. Before it is saved, a preview asks the recent questions again with it
(ivr.knowledge.preview); a change that takes answers callers get now from them is saved only when
confirmed after the preview. Every change is a version with who and when (ivr.knowledge.versions).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from ivr.agents import views
from ivr.agents.views import bp
from ivr.db import get_db
from ivr.knowledge.decision import Rules
from ivr.knowledge.entries import FIELDS, import_entries, language_error
from ivr.knowledge.preview import SHOWN, Preview, preview
from ivr.knowledge.versions import VersionError, history, restore, undo
from ivr.languages import line_languages
from ivr.messages.words import language_name
from ivr.models import FaqEntry, FaqVersion
from ivr.security import CONTROL
from ivr.speech.matching import Words, words_of

SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*")
# The columns' sizes (ivr.models.FaqEntry); the question and answer are text, kept sayable.
LONGEST = {"slug": 64, "category": 40, "title": 120, "question": 1000, "answer": 2000, "keywords": 2000}
# Entries listed on the knowledge-base page at most (a search narrows a large base down).
LISTED = 300
# Versions shown in an entry's history (the newest).
VERSIONS = 50
REFUSED = "The knowledge base is kept by supervisors."
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


def problems(typed: dict[str, str], languages: Sequence[str], taken: bool, named: bool = False) -> dict[str, str]:
    """What keeps the typed entry out, by field (empty: it can be saved)."""
    wrong: dict[str, str] = {}
    for name in (*FIELDS, "keywords"):
        if len(typed[name]) > LONGEST[name]:
            wrong[name] = f"{NAMES[name]} is too long: at most {LONGEST[name]} characters."
    for name in FIELDS:
        if not typed[name].strip():
            wrong.setdefault(name, f"{NAMES[name]} is needed.")
    # An existing entry (`named`) keeps the slug it has, as `faq import` gave it.
    if "slug" not in wrong and not named and not SLUG.fullmatch(typed["slug"]):
        wrong["slug"] = "A slug is lower-case letters, digits, _ and -, starting with a letter or digit (refund_card)."
    if typed["language"] not in languages or language_error(typed["language"]):
        wrong["language"] = "Choose one of the languages the line speaks."
    elif taken and "slug" not in wrong:
        wrong["slug"] = (f"There is already an entry {typed['slug']} in {language_name(typed['language'])}: "
                         "choose another slug (faq import updates an entry).")  # fmt: skip
    return wrong


def _refused():  # type: ignore[no-untyped-def]
    return render_template("agent/refused.html", why=REFUSED), 403


def _typed(source: Any) -> dict[str, str]:
    # Lines typed in the answer become spaces: it is said, and a stored value has no control characters.
    return {name: CONTROL.sub(" ", source.get(name, ""))[:5000].strip() for name in (*FIELDS, "keywords", "language")}


def _keywords(typed: dict[str, str]) -> list[str]:
    return [k.strip() for k in re.split(r"[,\n]", typed["keywords"]) if k.strip()]


def _seen(typed: dict[str, str]) -> str:
    """What a preview was shown for: saving the same words after it confirms what it showed."""
    return hashlib.sha256(json.dumps([typed[name] for name in sorted(typed)]).encode()).hexdigest()[:32]


def _preview(session, typed: dict[str, str]) -> Preview:  # type: ignore[no-untyped-def]
    catalog = current_app.extensions["ivr.catalog"]
    language = typed["language"]
    fields = {**typed, "keywords": _keywords(typed)}
    return preview(session, language, fields, catalog.words(language), catalog.knowledge(language), views.now())


def _entry_of(language: str, slug: str):  # type: ignore[no-untyped-def]
    """The entry's row and its history, or 404 for a language the line does not speak or a slug never kept."""
    if language not in line_languages(current_app.config) or len(slug) > LONGEST["slug"]:
        abort(404)
    with get_db().reading() as session:
        entry = session.scalar(select(FaqEntry).where(FaqEntry.language == language, FaqEntry.slug == slug))
        versions = list(history(session, language, slug, VERSIONS))
        for row in (entry, *versions):
            if row is not None:
                session.expunge(row)
    if entry is None and not versions:
        abort(404)
    return entry, versions


@bp.get("/faq")
@login_required
def entries_page():  # type: ignore[no-untyped-def]
    """The entries of a language by topic, each with its latest change, to edit one or add one."""
    if not current_user.supervisor:
        return _refused()
    languages = line_languages(current_app.config)
    language = request.args.get("language", languages[0])
    language = language if language in languages else languages[0]
    looked_for = CONTROL.sub("", request.args.get("q", ""))[:200].strip()
    with get_db().reading() as session:
        query = select(FaqEntry).where(FaqEntry.language == language)
        for word in looked_for.split()[:8]:
            names = ("slug", "title", "question", "category")
            query = query.where(or_(*(func.lower(getattr(FaqEntry, n)).contains(word.lower(), autoescape=True)
                                      for n in names)))  # fmt: skip
        entries = session.scalars(query.order_by(func.lower(FaqEntry.category), FaqEntry.title).limit(LISTED + 1)).all()
        latest = select(FaqVersion.slug, func.max(FaqVersion.id).label("id")).where(FaqVersion.language == language)
        latest_ids = latest.group_by(FaqVersion.slug).subquery()
        changed = {
            v.slug: v for v in session.scalars(select(FaqVersion).join(latest_ids, FaqVersion.id == latest_ids.c.id))
        }
        rows = [(e.category, e.title, e.slug, changed.get(e.slug)) for e in entries[:LISTED]]
        removed = [v for v in changed.values() if v.action == "removed"]
    return render_template("agent/faq_entries.html", rows=rows, more=len(entries) > LISTED, language=language,
                           languages=languages, language_name=language_name, looked_for=looked_for, removed=removed)  # fmt: skip


@bp.route("/faq/new", methods=["GET", "POST"])
@login_required
def new_entry():  # type: ignore[no-untyped-def]
    return _entry_form(None)


@bp.route("/faq/<language>/<slug>", methods=["GET", "POST"])
@login_required
def edit_entry(language: str, slug: str):  # type: ignore[no-untyped-def]
    return _entry_form((language, slug))


def _entry_form(existing: tuple[str, str] | None):  # type: ignore[no-untyped-def]
    """The form for a new entry (`existing` None) or an existing one, its preview, and saving it."""
    if not current_user.supervisor:
        return _refused()
    languages = line_languages(current_app.config)
    entry, versions = _entry_of(*existing) if existing else (None, [])
    source = request.form if request.method == "POST" else request.args
    typed = _typed(source)
    if existing:
        # The language and slug of an entry are its name (in the URL): not typed.
        typed["language"], typed["slug"] = existing
        if request.method == "GET" and entry is not None:
            typed.update({name: getattr(entry, name) for name in FIELDS[1:]}, keywords=", ".join(entry.keywords))
    if typed["language"] not in languages:
        typed["language"] = languages[0] if request.method == "GET" else typed["language"]
    catalog = current_app.extensions["ivr.catalog"]
    if request.method == "GET" and not typed["keywords"] and typed["question"] and typed["language"] in languages:
        typed["keywords"] = keywords_of(typed["question"], catalog.words(typed["language"]),
                                        catalog.knowledge(typed["language"]))  # fmt: skip
    if request.method == "GET" and not existing:
        typed["slug"] = typed["slug"] or slug_of(typed["keywords"].split(",")[0])
    with get_db().reading() as session:
        categories = sorted(set(session.scalars(select(FaqEntry.category))), key=str.casefold)
    wrong: dict[str, str] = {}
    shown: Preview | None = None
    held = ""  # why a save waits for a confirmation after the preview
    conflict = ""  # why a save waits: a colleague saved the entry since the form was shown
    latest = versions[0].id if versions else 0
    if request.method == "POST":
        # A category typed in another case is the existing one; a new topic only when asked for.
        known = known_category(typed["category"], categories)
        typed["category"] = known or typed["category"]
        if known is None and typed["category"] and request.form.get("new_category") != "yes":
            wrong["category"] = (f"“{typed['category']}” is not a topic yet, and a new one is offered to every caller "
                                 "in the topics menu: choose an existing one, or tick “a new topic” to add it.")  # fmt: skip
        saving = request.form.get("action") != "preview"
        # The preview is read apart from the save: the phone line's writes never wait for it.
        if typed["language"] in languages and not language_error(typed["language"]) and typed["question"]:
            with get_db().reading() as session:
                shown = _preview(session, typed)
        try:
            with get_db().transaction() as session:
                # The entry's row locked (PostgreSQL), then its newest version read: two saves of one
                # entry at once are one after the other, and the second sees the first.
                now = session.scalar(select(FaqEntry).where(FaqEntry.language == typed["language"],
                                                            FaqEntry.slug == typed["slug"]).with_for_update())  # fmt: skip
                newest = history(session, typed["language"], typed["slug"], 1) if typed["language"] in languages else []
                taken = now is not None and not existing
                wrong = {**wrong, **problems(typed, languages, taken, named=existing is not None)}
                if existing and newest and str(newest[0].id) != request.form.get("latest", ""):
                    # Someone saved the entry since this form was shown: nothing is overwritten unseen.
                    conflict = (f"{newest[0].by} changed this entry ({views._when(newest[0].at)}) while you were "
                                "editing: what you typed is kept here and theirs is in the history below. "
                                "Save again to put yours in its place.")  # fmt: skip
                if saving and not wrong and not conflict and shown is not None and (shown.takes or shown.loses):
                    if request.form.get("seen") != _seen(typed):
                        held = ("Not saved yet: this would change what callers get now for the questions below. "
                                "Look at them, then save again to confirm.")  # fmt: skip
                if saving and not wrong and not conflict and not held:
                    import_entries(session, [{**{name: typed[name] for name in FIELDS}, "keywords": _keywords(typed),
                                              "language": typed["language"]}], by=current_user.name)  # fmt: skip
        except IntegrityError:  # a colleague made the same entry at the same moment
            conflict = "Someone made this entry at the same moment: what you typed is kept here. Look, then save again."
        if saving and not wrong and not conflict and not held:
            flash(f"Entry {typed['slug']} saved in {language_name(typed['language'])}: callers hear it from their next "
                  "question. Its history below can take the change back.", "ok")  # fmt: skip
            return redirect(url_for("agents.edit_entry", language=typed["language"], slug=typed["slug"]))
        if conflict and existing:
            entry, versions = _entry_of(*existing)
            latest = versions[0].id if versions else 0
    return render_template(
        "agent/faq_entry.html", typed=typed, wrong=wrong, languages=languages, categories=categories,
        language_name=language_name, longest=LONGEST, new_category=request.form.get("new_category") == "yes",
        existing=existing, entry=entry, versions=versions, latest=latest, preview=shown, shown_rows=SHOWN,
        held=held, conflict=conflict, seen=_seen(typed),
    ), (400 if wrong else 409 if conflict else 200)  # fmt: skip


@bp.post("/faq/<language>/<slug>/undo")
@login_required
def undo_change(language: str, slug: str):  # type: ignore[no-untyped-def]
    """Take back the entry's latest change (a creation: the entry is removed)."""
    return _change_back(language, slug, None)


@bp.post("/faq/<language>/<slug>/versions/<int:version_id>")
@login_required
def restore_version(language: str, slug: str, version_id: int):  # type: ignore[no-untyped-def]
    """Make the entry what one of its versions was again."""
    return _change_back(language, slug, version_id)


def _change_back(language: str, slug: str, version_id: int | None):  # type: ignore[no-untyped-def]
    if not current_user.supervisor:
        return _refused()
    _entry, versions = _entry_of(language, slug)
    if version_id is not None and version_id not in {v.id for v in versions}:
        abort(404)
    latest = request.form.get("latest", "")
    latest_id = int(latest) if latest.isascii() and latest.isdigit() and len(latest) < 19 else -1
    try:
        with get_db().transaction() as session:
            if version_id is None:
                done = undo(session, language, slug, latest_id, current_user.name)
            else:
                done = restore(session, version_id, latest_id, current_user.name)
    except VersionError as error:
        flash(f"Nothing changed: {error}", "error")
    except IntegrityError:  # a colleague brought the entry back at the same moment
        flash("Nothing changed: the entry was changed at the same moment: look at its history again.", "error")
    else:
        what = "removed: callers no longer hear it" if done.entry is None else "back as it was: callers hear it so"
        flash(f"Entry {slug} is {what} from their next question.", "ok")
    return redirect(url_for("agents.edit_entry", language=language, slug=slug))
