"""The help centre's pages: the front (search, topics, most asked, opening hours), a search, an
article, a topic, and the same search as JSON for a site that embeds it.

A search gets the phone's decision (ivr/knowledge/decision.py `ask`) in the visitor's language, and
shows it as it is: one answer, "Did you mean one of these?", or "We have no answer to that". What a
visitor types is only ever a search: it is cleaned of control characters, kept under MAX_QUERY, and
escaped wherever a page shows it back."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_wtf.csrf import ValidationError, validate_csrf
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr import hours as clock
from ivr.db import get_db
from ivr.headers import secure_cookies
from ivr.knowledge import decision as knowledge
from ivr.models import FaqEntry, FaqQuery, HelpEvent
from ivr.security import CONTROL
from ivr.spoken import Speaker
from ivr.web import visitors
from ivr.web.form import form


class _Pages(Blueprint):
    def get_send_file_max_age(self, filename: str | None) -> int | None:
        """The style sheet is cached for an hour (then checked again by its ETag)."""
        return STATIC_SECONDS


bp = _Pages("help", __name__, url_prefix="/help", template_folder="templates", static_folder="static")

# Longer than any question people type; a longer one is refused with a sentence, not cut.
MAX_QUERY = 500
# How many most asked answers the front page shows, and over how many days they are counted.
POPULAR = 5
POPULAR_DAYS = 30
# How long a browser keeps the help centre's static files before asking again.
STATIC_SECONDS = 3600
# What is wrong with a question, for a developer calling the JSON search.
API_PROBLEMS = {
    "empty_query": "q is missing: the question, in a few words",
    "too_long": f"q is longer than {MAX_QUERY} characters",
}
# Why an answer did not help, as a visitor may say (the texts reason_<name>).
REASONS = ("not_asked", "not_clear", "not_solved")
# The decision's kinds as the web names them.
KINDS = {"answer": "answer", "refine": "options", "none": "none"}


@bp.after_request
def language_cookie(response: Response) -> Response:
    """The visitor's chosen language, remembered (the browser headers are ivr/headers.py's)."""
    picked = visitors.chosen(request, offered())
    if picked:
        response.set_cookie(visitors.COOKIE, picked, max_age=visitors.COOKIE_SECONDS, samesite="Lax", httponly=True,
                            secure=secure_cookies())  # fmt: skip
    return response


# ---- pages ---------------------------------------------------------------------------------------


@bp.get("/")
def home() -> str:
    language = language_now()
    with get_db().reading() as db:
        topics = topics_in(db, language)
        popular = most_asked(db, language)
    return render_template(
        "help/home.html", **page(language), topics=topics, popular=popular, hours=hours_now(language)
    )


@bp.get("/search")
def search() -> tuple[str, int] | str:
    language = language_now()
    asked, problem = query()
    if problem:
        status = 400 if asked else 200
        return render_template("help/search.html", **page(language), asked=asked[:MAX_QUERY], problem=problem), status
    with get_db().reading() as db:
        decided = decision(db, language, asked)
        topics = topics_in(db, language)
    searched(language, asked, decided)
    # Nothing found: the message form, with the question in it.
    asked_form = form({"question": asked}) if decided.kind == "none" else {}
    return render_template(
        "help/search.html", **page(language), **asked_form, errors=[], asked=asked, kind=KINDS[decided.kind],
        found=decided.found, topics=topics,
    )  # fmt: skip


@bp.get("/articles/<slug>")
def article(slug: str) -> str:
    language = language_now()
    with get_db().reading() as db:
        entry = db.scalar(select(FaqEntry).where(FaqEntry.language == language, FaqEntry.slug == slug))
        if entry is None:
            abort(404)
        related = db.scalars(
            select(FaqEntry)
            .where(FaqEntry.language == language, FaqEntry.category == entry.category, FaqEntry.slug != slug)
            .order_by(FaqEntry.id)
        ).all()
        shown = render_template(
            "help/article.html", **page(language), **form(), entry=entry, related=related, voted=votes().get(slug)
        )
    record(HelpEvent(kind="read", language=language, slug=slug))
    return shown


@bp.post("/articles/<slug>/vote")
def vote(slug: str) -> Response:
    """ "Was this helpful?": yes or no, then on no why; one vote per answer per visitor's session."""
    language = language_now()
    helpful, reason = request.form.get("helpful", ""), request.form.get("reason", "")
    try:
        validate_csrf(request.form.get("csrf_token", ""))
    except (ValidationError, RuntimeError):
        abort(400)
    if helpful not in ("yes", "no", "") or reason not in ("", *REASONS):
        abort(400)
    with get_db().transaction() as db:
        if db.scalar(select(FaqEntry.id).where(FaqEntry.language == language, FaqEntry.slug == slug)) is None:
            abort(404)
        given = votes().get(slug)
        if given is None and helpful:
            event = HelpEvent(kind="vote", language=language, slug=slug, helpful=helpful == "yes",
                              at=clock.now(current_app.config))  # fmt: skip
            db.add(event)
            db.flush()
            session["votes"] = {**votes(), slug: [event.id, helpful, ""]}
        elif given is not None and given[1] == "no" and not given[2] and reason:
            event = db.get(HelpEvent, given[0])
            if event is not None:
                event.reason = reason
            session["votes"] = {**votes(), slug: [given[0], "no", reason]}
    return redirect(url_for("help.article", slug=slug, lang=language, _anchor="helpful"))


@bp.get("/topics/<path:topic>")
def topic(topic: str) -> str:
    language = language_now()
    with get_db().reading() as db:
        entries = db.scalars(
            select(FaqEntry).where(FaqEntry.language == language, FaqEntry.category == topic).order_by(FaqEntry.id)
        ).all()
        if not entries:
            abort(404)
        return render_template("help/topic.html", **page(language), topic=topic, entries=entries)


@bp.get("/api/search")
def api_search() -> tuple[Response, int] | Response:
    """The search as JSON: {"kind": "answer"|"options"|"none", "language", "entries": [...]}; a
    question missing, too long, or a language the line does not speak is a 400 with the reason."""
    lines = offered()
    language = request.args.get("lang") or visitors.language_of(request, lines)
    if language not in lines:
        return api_error(f"lang must be one of {', '.join(lines)}")
    asked, problem = query()
    if problem:
        return api_error(API_PROBLEMS[problem])
    with get_db().reading() as db:
        decided = decision(db, language, asked)
    if not request.args.get("suggest"):  # suggestions as someone types are not searches
        searched(language, asked, decided)
    entries = [
        {
            "slug": f.slug,
            "question": question_of(f),
            "answer": f.answer,
            "url": url_for("help.article", slug=f.slug, lang=language, _external=True),
        }
        for f in decided.found
    ]
    response = jsonify({"kind": KINDS[decided.kind], "language": language, "entries": entries})
    response.headers["Access-Control-Allow-Origin"] = "*"  # public answers, no cookies: any site may show them
    return response


@bp.errorhandler(404)
def not_found(_error: Exception) -> tuple[str, int]:
    return render_template("help/missing.html", **page(language_now())), 404


# ---- what the pages need -------------------------------------------------------------------------


def votes() -> dict[str, list[Any]]:
    """The visitor's votes in this session: slug -> [event id, "yes" or "no", reason]."""
    given = session.get("votes")
    return given if isinstance(given, dict) else {}


def searched(language: str, asked: str, decided: knowledge.Decision) -> None:
    record(HelpEvent(kind="search", language=language, outcome=KINDS[decided.kind], asked=asked,
                     slug=decided.found[0].slug if decided.found else ""))  # fmt: skip


def record(event: HelpEvent) -> None:
    """Keep what a visitor did for the insights, in a short transaction of its own."""
    event.at = event.at or clock.now(current_app.config)
    with get_db().transaction() as db:
        db.add(event)


def offered() -> list[str]:
    return list(current_app.extensions["ivr.languages"].offered)


def language_now() -> str:
    return visitors.language_of(request, offered())


def page(language: str) -> dict[str, Any]:
    """What every page shows: its language, its texts, and the other languages to switch to."""
    texts = current_app.extensions["ivr.web_texts"]
    others = [(code, texts.name(code)) for code in offered() if code != language]
    return {"lang": language, "t": texts.of(language), "others": others, "company": current_app.config["COMPANY_NAME"]}


def query() -> tuple[str, str]:
    """The visitor's question, cleaned, and the text of what is wrong with it ("" when nothing)."""
    asked = " ".join(CONTROL.sub(" ", request.args.get("q", "")).split())
    if not asked:
        return "", "empty_query"
    if len(asked) > MAX_QUERY:
        return asked, "too_long"
    return asked, ""


def decision(db: Session, language: str, asked: str) -> knowledge.Decision:
    catalog = current_app.extensions["ivr.catalog"]
    return knowledge.ask(db, language, asked, catalog.words(language), catalog.knowledge(language))


def question_of(found: knowledge.Found) -> str:
    """An entry as a visitor reads its name: its title, with a capital."""
    return found.title[:1].upper() + found.title[1:]


def topics_in(db: Session, language: str) -> list[str]:
    """The knowledge base's topics in `language`, in its own order."""
    query = select(FaqEntry.category).where(FaqEntry.language == language).order_by(FaqEntry.id)
    return list(dict.fromkeys(db.scalars(query)))


def most_asked(db: Session, language: str) -> list[FaqEntry]:
    """The answers most given to callers and read online in `language` over the last POPULAR_DAYS,
    topped up in the knowledge base's order while there are fewer."""
    since = clock.now(current_app.config) - dt.timedelta(days=POPULAR_DAYS)
    given = db.execute(
        select(FaqQuery.answered_slug, func.count())
        .where(FaqQuery.language == language, FaqQuery.at >= since, FaqQuery.answered_slug.is_not(None))
        .group_by(FaqQuery.answered_slug)
    ).all()
    read = db.execute(
        select(HelpEvent.slug, func.count())
        .where(HelpEvent.kind == "read", HelpEvent.language == language, HelpEvent.at >= since)
        .group_by(HelpEvent.slug)
    ).all()
    totals: dict[str, int] = {}
    for slug, count in [*given, *read]:
        totals[slug] = totals.get(slug, 0) + count
    entries = {
        e.slug: e for e in db.scalars(select(FaqEntry).where(FaqEntry.language == language).order_by(FaqEntry.id))
    }
    slugs = [slug for slug in sorted(totals, key=lambda slug: (-totals[slug], slug)) if slug in entries]
    slugs += [slug for slug in entries if slug not in slugs]
    return [entries[slug] for slug in slugs[:POPULAR]]


def hours_now(language: str) -> dict[str, str | bool]:
    """Whether the team answers now, else when it is back, and the hours, in the visitor's words."""
    settings, opening = current_app.config, current_app.extensions["ivr.hours"]
    now = clock.now(settings)
    speak = Speaker(current_app.extensions["ivr.catalog"], language, opening.local(now).date())
    back = "" if opening.is_open(now) else speak.opening(opening.next_opening(now), now)
    return {"open": opening.is_open(now), "back": back, "hours": speak.hours(opening)}


def api_error(reason: str) -> tuple[Response, int]:
    response = jsonify({"error": reason})
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response, 400
