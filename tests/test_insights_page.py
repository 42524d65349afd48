"""The supervisors' insights page: every figure shown (and its CSV), the period chosen and checked,
caller text escaped everywhere, and the knowledge-base entry form it links to."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re

import pytest
from flask import Flask
from sqlalchemy import select

from ivr.agents import views
from ivr.db import get_db
from ivr.insights import figures as insights
from ivr.insights.figures import AgentLoad, Asked, Day, Figures, Heard, Messages, Prompt
from ivr.models import FaqEntry
from tests.helpers import CHROMIUM, OUTPUT, PASSWORD, app, csrf, login, no_sideways_scroll, site, supervisor  # noqa: F401

__all__ = ["app"]

HOSTILE = '=HYPERLINK("http://x")'
SCRIPT = "<script>alert(1)</script> where is my refund"
AGENT = '<b onmouseover="alert(2)">eve</b>'  # a name given on the command line, drawn in a chart


def made_up(start: dt.date, end: dt.date) -> Figures:
    days = tuple(Day(start + dt.timedelta(days=n), 10 + n, 5) for n in range((end - start).days + 1))
    hours = tuple(tuple((7 * d + h) if 8 <= h < 18 else 0 for h in range(24)) for d in range(7))
    opened = tuple(tuple(d < 5 and 9 <= h < 17 for h in range(24)) for d in range(7))
    return Figures(
        start=start, end=end, calls=40,
        outcomes={"helped": 22, "transferred": 7, "message": 5, "gave_up": 4, "hung_up": 2},
        days=days,
        prompts=(Prompt("main_menu", 40, 31, 3, 4, 9, 25, 6), Prompt("order_number", 12, 10, 1, 0, 2, 8, 3)),
        asked=(Asked("hyperlink http x", HOSTILE, 4, 3, 1, "en-US"),
               Asked("refund script", SCRIPT, 3, 1, 2, "en-US")),
        messages=Messages(5, 3, 2.5, 20.0, dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC),
                          (AgentLoad("ann", 2, 1.5, 3.0), AgentLoad("bob", 1, 20.0, 20.0), AgentLoad(AGENT, 0, None, None))),
        hours=hours, open=opened, voice_steps=33, steps=60, surveyed=12, solved=6, not_solved=2,
        versions=(Heard("9f2c0a1b3d4e", "en-US", dt.datetime(2026, 11, 21, 14, 0, tzinfo=dt.UTC), 25, 15, 8, 5, 1),
                  Heard("", "", None, 15, 7, 4, 1, 1)),
    )  # fmt: skip


@pytest.fixture
def shown(monkeypatch: pytest.MonkeyPatch) -> list[tuple[dt.date, dt.date]]:
    """The page's figures are made up here (the periods asked are noted)."""
    asked: list[tuple[dt.date, dt.date]] = []

    def figures(session, settings, start, end, catalog=None):  # type: ignore[no-untyped-def]
        asked.append((start, end))
        return made_up(start, end)

    monkeypatch.setattr(insights, "figures", figures, raising=False)
    return asked


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def test_a_supervisor_sees_every_figure(app: Flask, shown: list) -> None:  # noqa: F811
    supervisor(app)
    carol = login(app, "carol")
    assert 'href="/agent/insights"' in carol.get("/agent/").get_data(as_text=True)
    reply = carol.get("/agent/insights")
    page = reply.get_data(as_text=True)
    assert reply.status_code == 200
    start, end = shown[-1]
    assert (end - start).days == 29  # 30 days, today included, by default
    said = text_of(page)
    for figure in ("40 calls", "55% helped themselves", "22 helped of 40", "5 received", "3 closed",
                   "2.5 h median to close", "90% within 20.0 h", "55% of steps answered by voice", "33 of 60",
                   "75% said we solved it", "asked after self-service: 12; yes 6, no 2",
                   "9f2c0a1b3d4e", "25 15 (60%) 5 of 8 1", "before versions 15 7 (47%) 1 of 4 1"):  # fmt: skip
        assert figure in said, figure
    # every table's numbers are on the page, a chart (inline SVG, nothing run, nothing fetched) above each
    for row in ("How can I help you today? main_menu 40 31 3 4 9", "order_number 12 10 1 0 2", "ann 2 1.5 3.0",
                "bob 1 20.0 20.0", "helped 22 0.550", "message left 5 0.125", "main_menu 25 6 0.240"):  # fmt: skip
        assert row in said, row
    assert page.count("<svg") == 14 and "<script" not in page.split("<main>")[1].replace("&lt;script", "")
    assert not re.search(r'(src|href)="(https?:)?//', page) and "cdn" not in page.lower()
    # the caller's words are shown as text, never as markup, and never inside a chart
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b onmouseover" not in page and page.count("&lt;b onmouseover=") >= 3  # in both charts and the table
    for svg in re.findall(r"<svg.*?</svg>", page, re.S):
        assert "refund" not in svg and "HYPERLINK" not in svg
    # the heat map: the busiest hour's number, the opening hours outlined
    assert "Fri 16:00: 44 calls (open)" in page and "Sun 17:00: 59 calls<" in page
    for period, days in (("today", 1), ("7", 7)):
        assert carol.get(f"/agent/insights?period={period}").status_code == 200
        assert (shown[-1][1] - shown[-1][0]).days == days - 1


def test_only_supervisors_see_it(app: Flask, shown: list) -> None:  # noqa: F811
    anonymous = app.test_client().get("/agent/insights")
    assert anonymous.status_code == 302 and "/agent/login" in anonymous.headers["Location"]
    assert app.test_client().get("/agent/insights.csv?table=days").status_code == 302
    ann = login(app)
    refused = ann.get("/agent/insights")
    assert refused.status_code == 403 and "The insights are for supervisors." in refused.get_data(as_text=True)
    assert ann.get("/agent/insights.csv?table=days").status_code == 403
    assert ann.get("/agent/faq/new").status_code == 403
    assert 'href="/agent/insights"' not in ann.get("/agent/").get_data(as_text=True)
    assert shown == []


def test_a_custom_period_is_checked(app: Flask, shown: list) -> None:  # noqa: F811
    supervisor(app)
    carol = login(app, "carol")
    good = carol.get("/agent/insights?from=2026-11-01&to=2026-11-07")
    assert good.status_code == 200 and shown[-1] == (dt.date(2026, 11, 1), dt.date(2026, 11, 7))
    assert "Sun 1 Nov 2026 – Sat 7 Nov 2026" in good.get_data(as_text=True)
    for query, said in (
        ("from=2026-11-07&to=2026-11-01", "“From” is after “to”"),
        ("from=<b>x</b>&to=2026-11-01", "“From” is not a date"),
        ("from=2026-02-30&to=2026-03-01", "“From” is not a date"),
        ("from=2026-11-01", "needs both dates"),
        ("from=2020-01-01&to=2026-11-01", "at most 366 days"),
        ("from=2026-11-01&to=99999-01-01", "“To” is not a date"),
    ):
        reply = carol.get(f"/agent/insights?{query}")
        page = reply.get_data(as_text=True)
        assert reply.status_code == 400 and said in html.unescape(page), query
        assert "<b>x</b>" not in page and "&lt;b&gt;" not in page  # what was typed is not shown back
        assert carol.get(f"/agent/insights.csv?table=days&{query}").status_code == 400
    assert len(shown) == 1
    assert carol.get("/agent/insights?period=nonsense").status_code == 200  # an unknown period is the default
    assert carol.get("/agent/insights.csv?table=nonsense").status_code == 400


def rows_of(reply) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return list(csv.reader(io.StringIO(reply.get_data().decode("utf-8-sig"))))


def test_every_table_as_csv_with_caller_text_never_a_formula(app: Flask, shown: list) -> None:  # noqa: F811
    supervisor(app)
    carol = login(app, "carol")
    page = carol.get("/agent/insights?from=2026-11-01&to=2026-11-30").get_data(as_text=True)
    for table in ("outcomes", "days", "drop_off", "unanswered", "messages", "hours", "speech", "web"):
        link = f"/agent/insights.csv?table={table}&amp;from=2026-11-01&amp;to=2026-11-30"
        assert link in page, table
        reply = carol.get(html.unescape(link))
        assert reply.status_code == 200 and reply.mimetype == "text/csv"
        assert reply.headers["Content-Disposition"] == (
            f'attachment; filename="insights-{table}-2026-11-01-to-2026-11-30.csv"'
        )
        assert reply.headers["X-Content-Type-Options"] == "nosniff"
    unanswered = rows_of(carol.get("/agent/insights.csv?table=unanswered&from=2026-11-01&to=2026-11-30"))
    assert unanswered[0] == ["question", "words", "language", "asked", "not_found", "not_helped", "where"]
    assert unanswered[1] == ["'" + HOSTILE, "hyperlink http x", "en-US", "4", "3", "1", "phone"]
    assert unanswered[2][0] == SCRIPT  # CSV is not HTML: the words as said
    days = rows_of(carol.get("/agent/insights.csv?table=days&from=2026-11-01&to=2026-11-30"))
    assert len(days) == 31 and days[1] == ["2026-11-01", "10", "5", "0.500"]
    outcomes = rows_of(carol.get("/agent/insights.csv?table=outcomes&from=2026-11-01&to=2026-11-30"))
    assert outcomes[1:] == [["helped", "22", "0.550"], ["transferred", "7", "0.175"], ["message left", "5", "0.125"],
                            ["gave up", "4", "0.100"], ["hung up", "2", "0.050"], ["all calls", "40", "1.000"]]  # fmt: skip
    hours = rows_of(carol.get("/agent/insights.csv?table=hours&from=2026-11-01&to=2026-11-30"))
    assert len(hours) == 1 + 7 * 24 and ["Fri", "09:00", "37", "yes"] in hours and ["Sat", "09:00", "44", "no"] in hours
    messages = rows_of(carol.get("/agent/insights.csv?table=messages&from=2026-11-01&to=2026-11-30"))
    assert messages[1] == ["all agents", "5", "3", "2.5", "20.0", "2026-11-20T15:00:00+00:00"]
    assert messages[2] == ["ann", "", "2", "1.5", "3.0", ""]
    speech = rows_of(carol.get("/agent/insights.csv?table=speech&from=2026-11-01&to=2026-11-30"))
    assert speech[1] == ["every prompt", "", "60", "33", "", ""]
    assert speech[2] == ["How can I help you today?", "main_menu", "", "25", "6", "0.240"]
    drop_off = rows_of(carol.get("/agent/insights.csv?table=drop_off&from=2026-11-01&to=2026-11-30"))
    assert drop_off[1] == ["How can I help you today?", "main_menu", "40", "31", "3", "4", "9"]


def test_an_unanswered_group_becomes_an_entry(app: Flask, shown: list) -> None:  # noqa: F811
    supervisor(app)
    carol = login(app, "carol")
    page = carol.get("/agent/insights").get_data(as_text=True)
    links = re.findall(r'href="(/agent/faq/new\?[^"]+)"', page)
    assert len(links) == 2
    form = carol.get(html.unescape(links[1])).get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; where is my refund</textarea>" in form
    # The caller's question; keywords suggested from its words without the language's stop words.
    keywords = html.unescape(re.search(r'name="keywords"[^>]*>([^<]*)</textarea>', form).group(1)).split(", ")  # type: ignore[union-attr]
    assert "refund" in keywords and not {"where", "is", "my"} & set(keywords)
    assert f'name="slug" value="{keywords[0]}"' in form  # a slug suggested from the first keyword
    assert '<option value="en-US" selected>' in form

    token = csrf(carol, "/agent/faq/new")
    typed = {"csrf_token": token, "language": "en-US", "question": "Where is my refund?", "keywords": "refund, money back",
             "title": "", "category": "billing", "answer": "Refunds reach your card within 5 working days.",
             "slug": "Bad Slug!"}  # fmt: skip
    refused = carol.post("/agent/faq/new", data=typed)
    said = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 400 and "3 things to fix" in said and "is not a topic yet" in said
    assert "Title is needed." in said and "A slug is lower-case letters" in said
    assert (
        "Refunds reach your card within 5 working days.</textarea>" in said and ">refund, money back</textarea>" in said
    )
    for wrong, why in ((dict(slug="returns"), "There is already an entry returns in English"),
                       (dict(language="fi-FI"), "Choose one of the languages the line speaks."),
                       (dict(category="x" * 41), "Category is too long: at most 40 characters.")):  # fmt: skip
        reply = carol.post("/agent/faq/new", data={**typed, "title": "Refunds", "slug": "refund_card", **wrong})
        assert reply.status_code == 400 and why in html.unescape(reply.get_data(as_text=True)), why
    assert carol.post("/agent/faq/new", data={**typed, "csrf_token": "forged"}).status_code == 400

    # A new topic is made only on purpose; an existing one typed in another case is that one.
    new_topic = carol.post("/agent/faq/new", data={**typed, "title": "Refunds to a card", "slug": "refund_card"})
    assert new_topic.status_code == 400 and "is not a topic yet" in html.unescape(new_topic.get_data(as_text=True))
    saved = carol.post("/agent/faq/new", data={**typed, "title": "Refunds to a card", "slug": "refund_card",
                                               "category": "Opening  Hours"}, follow_redirects=True)  # fmt: skip
    assert saved.status_code == 200 and "Entry refund_card saved in English" in saved.get_data(as_text=True)
    saved = carol.post("/agent/faq/new", data={**typed, "title": "Refunds", "slug": "refund_other",
                                               "new_category": "yes"}, follow_redirects=True)  # fmt: skip
    assert saved.status_code == 200 and "Entry refund_other saved in English" in saved.get_data(as_text=True)
    with app.app_context(), get_db().reading() as session:
        other = session.scalar(select(FaqEntry).where(FaqEntry.slug == "refund_other"))
        assert other is not None and other.category == "billing"
        entry = session.scalar(select(FaqEntry).where(FaqEntry.slug == "refund_card"))
        assert entry is not None and entry.language == "en-US" and entry.category == "opening hours"
        assert entry.keywords == ["refund", "money back"] and entry.question == "Where is my refund?"


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium: apt-get install chromium")
@pytest.mark.parametrize("width", [1280, 390])
def test_the_page_in_a_browser_on_a_desk_and_a_phone(site: tuple[Flask, str], shown: list, width: int) -> None:  # noqa: F811
    """Charts fit and are drawn, nothing scrolls sideways, the numbers open; screenshots in test-output/."""
    from playwright.sync_api import expect, sync_playwright

    app, base = site
    result = app.test_cli_runner().invoke(args=["agents", "create", "carol", "--role", "supervisor"],
                                          input=PASSWORD + "\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    OUTPUT.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": width, "height": 844 if width < 500 else 800})
            page.goto(base + "/agent/login")
            page.get_by_label("Name").fill("carol")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.get_by_role("link", name="Insights").click()
            expect(page.get_by_role("heading", name="Insights")).to_be_visible()
            expect(page.locator("#calls .bignumbers")).to_contain_text("55%")
            charts = page.locator("figure.chart svg:visible")
            assert charts.count() == 7
            for chart in charts.all():
                assert chart.evaluate("s => s.getBoundingClientRect().width <= s.closest('.card').clientWidth")
                assert chart.evaluate("s => s.getBoundingClientRect().height > 100")
            no_sideways_scroll(page)
            page.screenshot(path=str(OUTPUT / f"insights-{width}.png"), full_page=True)
            page.locator("#drop-off summary").click()
            expect(page.locator("#drop-off table")).to_contain_text("order_number")
            no_sideways_scroll(page)
            page.get_by_label("From", exact=True).fill("2026-11-07")
            page.get_by_label("To", exact=True).fill("2026-11-01")
            page.get_by_role("button", name="Show").click()
            expect(page.get_by_role("alert")).to_contain_text("“From” is after “to”")
            page.goto(base + "/agent/insights")
            page.locator("#unanswered").get_by_role("link", name="Make an entry").first.click()
            expect(page.get_by_label("Question")).to_have_value(HOSTILE)
            no_sideways_scroll(page)
            page.screenshot(path=str(OUTPUT / f"insights-entry-{width}.png"), full_page=True)
        finally:
            browser.close()
    assert (OUTPUT / f"insights-{width}.png").stat().st_size > 20_000


def test_a_caller_hears_the_new_entry_on_their_next_call(app: Flask, phone) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    supervisor(app)
    carol = login(app, "carol")
    saved = carol.post("/agent/faq/new", data={
        "csrf_token": csrf(carol, "/agent/faq/new?question=is+there+parking&keywords=parking&language=en-US"),
        "language": "en-US", "question": "Is there parking at your store?", "keywords": "parking, car park",
        "title": "Parking", "category": "store", "new_category": "yes", "slug": "parking",
        "answer": "Yes: customers park free of charge behind the store.",
    })  # fmt: skip
    assert saved.status_code == 302
    call = phone()
    call.press("3")
    call.hears("Ask in a few words")
    call.say("where can I park my car")
    call.hears("park free of charge behind the store")


def test_a_period_without_calls(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    def nothing(session, settings, start, end, catalog=None):  # type: ignore[no-untyped-def]
        days = tuple(Day(start + dt.timedelta(days=n), 0, 0) for n in range((end - start).days + 1))
        return Figures(start, end, 0, {}, days, (), (), Messages(0, 0, None, None, None))

    monkeypatch.setattr(insights, "figures", nothing, raising=False)
    supervisor(app)
    reply = login(app, "carol").get("/agent/insights?period=today")
    said = text_of(reply.get_data(as_text=True))
    assert reply.status_code == 200
    for line in ("0 calls", "0% helped themselves", "No calls reached a prompt in this period.",
                 "Every question in this period found an answer that helped.", "— median to close", "none oldest open",
                 "Nobody answered by voice in this period."):  # fmt: skip
        assert line in said, line


def test_the_page_from_calls_with_known_outcomes(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    # The times on the page are told against the agents' clock: fixed a few days after the calls.
    monkeypatch.setattr(views, "now", lambda: dt.datetime(2026, 11, 27, 15, 0, tzinfo=dt.UTC))
    """The calls of tests/test_insights.py (one of each outcome, speech misheard, questions not answered or
    not helped, a message closed in 2.5 hours), rolled up by the worker: every figure on the page and in CSV."""
    from ivr.worker import Worker
    from tests.helpers import END, START, close_message, make_calls, set_times

    set_times(app, make_calls(app))
    close_message(app)
    with app.app_context():
        Worker(get_db(), app.config, threads=1).run_once()
    supervisor(app)
    carol = login(app, "carol")
    period = f"from={START}&to={END}"
    reply = carol.get(f"/agent/insights?{period}")
    page = reply.get_data(as_text=True)
    assert reply.status_code == 200
    said = text_of(page)
    for figure in ("9 calls", "11% helped themselves", "1 helped of 9", "2 received", "1 closed", "2.5 h median to close",
                   "90% within 2.5 h", "Tue 24 Nov, 11:00 oldest open", "47% of steps answered by voice", "8 of 17",
                   "helped 1 0.111", "transferred 1 0.111", "message left 1 0.111", "gave up 1 0.111",
                   "hung up 5 0.556", "all calls 9 1.000", "2026-11-24 9 1 0.111", "2026-11-23 0 0 0.000",
                   "How can I help you today? main_menu 9 5 1 2 2", "What would you like to do? faq_again 3 0 3 0 0", "What would you like to know? faq_ask 3 3 0 0 0",
                   "Please enter your 4-digit order number. order_number 2 1 1 0 1", "“what is the meaning of life” 2 2 0",
                   "“how long does shipping take” 1 0 1", "all agents 2 1 2.5 2.5", "ann 1 2.5 2.5",
                   "every prompt 17 8", "How can I help you today? main_menu 2 1 0.500", "Please enter your 4-digit order number. order_number 1 1 1.000", "What would you like to know? faq_ask 3 0 0.000",
                   "Tue 10:00 8 yes", "Tue 23:00 1 no"):  # fmt: skip
        assert figure in said, figure
    assert "Tue 10:00: 8 calls (open)" in page and "Tue 23:00: 1 call<" in page
    assert "life mean" not in said and "doe how long" not in said  # the callers' words, never stems
    assert "question=what+is+the+meaning+of+life&amp;language=en-US" in page
    days = rows_of(carol.get(f"/agent/insights.csv?table=days&{period}"))
    assert days[1:] == [["2026-11-23", "0", "0", "0.000"], ["2026-11-24", "9", "1", "0.111"],
                        ["2026-11-25", "0", "0", "0.000"]]  # fmt: skip
    unanswered = rows_of(carol.get(f"/agent/insights.csv?table=unanswered&{period}"))
    assert unanswered[1:] == [["what is the meaning of life", "life mean", "en-US", "2", "2", "0", "phone"],
                              ["how long does shipping take", "how long ship take", "en-US", "1", "0", "1", "phone"]]  # fmt: skip
