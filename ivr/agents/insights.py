"""The supervisors' insights page (/agent/insights): the figures of a period as charts, each with its
numbers in a table under it and as CSV (/agent/insights.csv?table=...).

A period is whole days in the line's time zone: today, the last 7 or 30 days (the default, today
included), or from and to dates typed in. A date that is not one, a reversed or too long range is
said in a sentence on the page (400), never a server error, and what was typed is not shown back.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from babel.dates import format_date
from flask import Response, current_app, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ivr.agents import charts
from ivr.agents.views import AGENTS_LOCALE, bp
from ivr.db import get_db
from ivr.errors import PromptError
from ivr.headers import INLINE_STYLES
from ivr.insights import figures as insights
from ivr.insights.figures import Figures
from ivr.knowledge.decision import ask
from ivr.models import FaqEntry, as_utc
from ivr.security import csv_cell

PERIODS = {"today": ("Today", 1), "7": ("7 days", 7), "30": ("30 days", 30)}
DEFAULT_PERIOD = "30"
LONGEST = 366  # days in a custom period
REFUSED = "The insights are for supervisors."


class PeriodError(ValueError):
    """A period that cannot be shown, said as a sentence for the page."""


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # included
    name: str  # "today", "7", "30" or "custom"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def describe(self) -> str:
        start, end = (format_date(day, "EEE d MMM y", locale=AGENTS_LOCALE) for day in (self.start, self.end))
        return start if self.start == self.end else f"{start} – {end}"


def today() -> dt.date:
    """Today on the line's clock (IVR_TIMEZONE)."""
    return current_app.extensions["ivr.hours"].local(dt.datetime.now(dt.UTC)).date()


def _date(text: str, which: str) -> dt.date:
    text = text.strip()
    try:
        if len(text) != 10:
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise PeriodError(f"“{which}” is not a date: give it as YYYY-MM-DD, for example 2026-11-01.") from None


def period_of(args: dict[str, str], now: dt.date) -> Period:
    """The period a request asks for: ?period=today|7|30, or ?from=YYYY-MM-DD&to=YYYY-MM-DD."""
    if args.get("from") or args.get("to"):
        if not args.get("from") or not args.get("to"):
            raise PeriodError("A custom period needs both dates, “from” and “to”.")
        start, end = _date(args["from"], "From"), _date(args["to"], "To")
        if start > end:
            raise PeriodError("“From” is after “to”: the period would be empty. Swap the dates.")
        if (end - start).days + 1 > LONGEST:
            raise PeriodError(f"A period can be at most {LONGEST} days long; choose a shorter one.")
        return Period(start, end, "custom")
    name = args.get("period", DEFAULT_PERIOD)
    if name not in PERIODS:
        name = DEFAULT_PERIOD
    return Period(now - dt.timedelta(days=PERIODS[name][1] - 1), now, name)


# The agents' pages are in English: a prompt is named by its English words.
PROMPT_LANGUAGE = "en-US"
# A prompt's words are its first sentence, cut to this length.
PROMPT_WORDS = 48


def prompt_words(node_id: str) -> str:
    """What callers heard at a prompt, in a few words ("Did that answer your question?"), for a
    supervisor who knows the line by what it says, not by its node ids; a node with no words of its
    own is named by its id in words ("faq confirm")."""
    engine = current_app.extensions["ivr.engine"]
    node = engine.flow.nodes.get(node_id)
    text = ""
    try:
        if node is not None and getattr(node, "prompt", ""):
            text = engine.catalog.text(PROMPT_LANGUAGE, node.prompt)
    except (PromptError, KeyError, ValueError):
        text = ""
    sentence = re.split(r"(?<=[.?!])\s", text.strip(), maxsplit=1)[0] if text.strip() else ""
    if "{" in sentence or not sentence:
        return node_id.replace("_", " ")
    return sentence if len(sentence) <= PROMPT_WORDS else sentence[: PROMPT_WORDS - 1].rstrip() + "…"


def load(period: Period) -> Figures:
    with get_db().reading() as session:
        return insights.figures(
            session, current_app.config, period.start, period.end, current_app.extensions["ivr.catalog"]
        )


@dataclass(frozen=True)
class AnsweredNow:
    """What an unanswered group's question gets from the knowledge base today."""

    slug: str
    title: str
    # An entry made or changed since the group was last asked answers it (a group that found
    # nothing then and an answer now; or an unhelpful answer changed since).
    handled: bool


def answered_now(groups: Iterable[insights.Asked]) -> list[tuple[insights.Asked, AnsweredNow | None]]:
    """Each group with what its question gets now; the groups still to handle first, in their order."""
    catalog, hours = current_app.extensions["ivr.catalog"], current_app.extensions["ivr.hours"]
    rows: list[tuple[insights.Asked, AnsweredNow | None]] = []
    with get_db().reading() as session:
        for group in groups:
            try:
                words, rules = catalog.words(group.language), catalog.knowledge(group.language)
            except PromptError:  # a language the line no longer speaks
                rows.append((group, None))
                continue
            decision = ask(session, group.language, group.sample, words, rules)
            if decision.kind != "answer":
                rows.append((group, None))
                continue
            found = decision.found[0]
            revised = session.scalar(
                select(FaqEntry.revised_at).where(FaqEntry.language == group.language, FaqEntry.slug == found.slug)
            )
            since = revised is not None and group.last is not None and hours.local(as_utc(revised)).date() >= group.last
            rows.append((group, AnsweredNow(found.slug, found.title, group.not_helped == 0 or since)))
    return sorted(rows, key=lambda row: row[1] is not None and row[1].handled)


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _hours(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


# ---- the tables: the page shows them, and each is a CSV ------------------------------------------


def _outcomes(f: Figures) -> tuple[list[str], list[list[object]]]:
    rows: list[list[object]] = [[charts.OUTCOME_LABELS[n], f.outcomes.get(n, 0), f"{_share(f.outcomes.get(n, 0), f.calls):.3f}"]
                                for n in charts.OUTCOME_LABELS]  # fmt: skip
    return ["outcome", "calls", "share_of_calls"], [*rows, ["all calls", f.calls, "1.000" if f.calls else "0.000"]]


def _days(f: Figures) -> tuple[list[str], list[list[object]]]:
    return ["day", "calls", "helped", "containment"], [
        [d.day.isoformat(), d.calls, d.helped, f"{d.containment:.3f}"] for d in f.days
    ]


def _drop_off(f: Figures) -> tuple[list[str], list[list[object]]]:
    return ["prompt", "node", "reached", "went_on", "hung_up", "asked_for_a_person", "not_understood"], [
        [prompt_words(p.node), p.node, p.reached, p.went_on, p.hung_up, p.to_person, p.not_understood]
        for p in f.prompts
    ]


def _unanswered(f: Figures) -> tuple[list[str], list[list[object]]]:
    return ["question", "words", "language", "asked", "not_found", "not_helped", "where"], [
        [a.sample, a.key, a.language, a.asked, a.not_found, a.not_helped, a.channel] for a in f.asked
    ]


def _web(f: Figures) -> tuple[list[str], list[list[object]]]:
    """The first row is the whole help centre; then each answer's votes online beside the phone's."""
    w = f.web
    return ["answer", "language", "helpful_online", "not_helpful_online", "helped_by_phone", "not_helped_by_phone"], [
        ["every answer", "", w.helpful, w.not_helpful, "", ""],
        *[[v.slug, v.language, v.web_yes, v.web_no, v.phone_yes, v.phone_no] for v in w.votes],
    ]


def _messages(f: Figures) -> tuple[list[str], list[list[object]]]:
    m = f.messages
    oldest = m.oldest_open.isoformat() if m.oldest_open else ""
    return ["agent", "received", "closed", "median_hours_to_close", "p90_hours_to_close", "oldest_open"], [
        ["all agents", m.received, m.closed, _hours(m.median_hours), _hours(m.p90_hours), oldest],
        *[[a.agent, "", a.closed, _hours(a.median_hours), _hours(a.p90_hours), ""] for a in m.per_agent],
    ]


def _by_hour(f: Figures) -> tuple[list[str], list[list[object]]]:
    return ["weekday", "hour", "calls", "open"], [
        [charts.WEEKDAYS[d], f"{h:02d}:00", f.hours[d][h], "yes" if f.open[d][h] else "no"]
        for d in range(7)
        for h in range(24)
    ]


def _speech(f: Figures) -> tuple[list[str], list[list[object]]]:
    """The first row is every step of the period (how many, how many by voice); then each prompt's
    answers by voice and how many of them were not understood."""
    return ["prompt", "node", "steps", "answers_by_voice", "not_understood", "share_not_understood"], [
        ["every prompt", "", f.steps, f.voice_steps, "", ""],
        *[
            [prompt_words(p.node), p.node, "", p.voice, p.voice_missed, f"{_share(p.voice_missed, p.voice):.3f}"]
            for p in f.prompts
            if p.voice
        ],
    ]


TABLES: dict[str, Callable[[Figures], tuple[list[str], list[list[object]]]]] = {
    "outcomes": _outcomes, "days": _days, "drop_off": _drop_off, "unanswered": _unanswered,
    "messages": _messages, "hours": _by_hour, "speech": _speech, "web": _web,
}  # fmt: skip


def to_csv(header: list[str], rows: Iterable[list[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    return out.getvalue()


# ---- the pages ------------------------------------------------------------------------------------


def _refused():  # type: ignore[no-untyped-def]
    return render_template("agent/refused.html", why=REFUSED), 403


@bp.get("/insights")
@login_required
def insights_page():  # type: ignore[no-untyped-def]
    """Supervisors: how many callers helped themselves, where the rest got stuck, for a period."""
    if not current_user.supervisor:
        return _refused()
    now = today()
    try:
        period = period_of(request.args, now)
    except PeriodError as error:
        return render_template("agent/insights.html", error=str(error), period=None, periods=PERIODS,
                               today=now, figures=None), 400  # fmt: skip
    figures = load(period)
    tables = {name: table(figures) for name, table in TABLES.items()}
    drawn = {"outcomes": charts.outcomes(figures), "days": charts.calls_by_day(figures),
             "containment": charts.containment_by_day(figures),
             "drop_off": charts.drop_off(figures, prompt_words), "messages": charts.per_agent(figures),
             "hours": charts.heat_map(figures), "speech": charts.speech(figures, prompt_words)}  # fmt: skip
    page = render_template(
        "agent/insights.html", error=None, period=period, periods=PERIODS, today=now, figures=figures,
        tables=tables, charts=drawn, unanswered=answered_now(figures.asked),
        csv=lambda table: url_for("agents.insights_csv", table=table, **{"from": period.start.isoformat(),
                                                                          "to": period.end.isoformat()}),
    )  # fmt: skip
    # The charts are pygal's SVG, styled by a <style> of their own: inline styles (never scripts) here.
    return page, {"Content-Security-Policy": INLINE_STYLES}


@bp.get("/insights.csv")
@login_required
def insights_csv():  # type: ignore[no-untyped-def]
    """One table of the page as CSV: ?table=outcomes|days|drop_off|unanswered|messages|hours|speech."""
    if not current_user.supervisor:
        return Response(REFUSED + "\n", status=403, mimetype="text/plain")
    table = request.args.get("table", "")
    if table not in TABLES:
        return Response(f"table must be one of: {', '.join(TABLES)}\n", status=400, mimetype="text/plain")
    try:
        period = period_of(request.args, today())
    except PeriodError as error:
        return Response(f"{error}\n", status=400, mimetype="text/plain")
    header, rows = TABLES[table](load(period))
    name = f"insights-{table}-{period.start.isoformat()}-to-{period.end.isoformat()}.csv"
    # UTF-8 with a byte-order mark, so that a spreadsheet reads Finnish and Latvian questions right.
    return Response("\ufeff" + to_csv(header, rows), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})  # fmt: skip
