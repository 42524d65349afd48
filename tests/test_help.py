"""The help centre (/help): the knowledge base online, with the phone's decision, in the visitor's
language; and what a hostile visitor can send it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient

from bench.faq import APART, LANGUAGES, NOT_IN_BASE, TABLES, questions, questions_not_in_base
from ivr.db import get_db
from ivr.flows.context import Context
from ivr.flows.questions import decide as phone_decides
from ivr.flows.state import CallState
from tests.conftest import make_app

WEB = Path(__file__).resolve().parent.parent / "prompts" / "web"
LINE = "en-US,fi-FI,lv-LV"
# A Tuesday at 10 in New York (the team answers), and the Saturday evening after (it does not).
OPEN = "2026-11-24T10:00:00-05:00"
CLOSED = "2026-11-28T19:00:00-05:00"


@pytest.fixture
def line(tmp_path: Path, template_db: Path) -> Flask:
    return make_app(tmp_path, template_db, LANGUAGES=LINE, CLOCK=OPEN)


@pytest.fixture
def web(line: Flask) -> FlaskClient:
    return line.test_client()


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_front_page_has_search_topics_most_asked_and_the_hours(web: FlaskClient) -> None:
    page = web.get("/help/?lang=en-US")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and '<html lang="en-US">' in html
    assert 'action="/help/search"' in html and '<label for="q">' in html
    for topic in ("Opening hours", "Delivery", "Returns and refunds"):
        assert topic in html
    assert "How long does delivery take?" in html
    assert "Our team is answering the phone now." in text_of(html)
    assert "Monday to Friday, 9 AM to 5 PM" in text_of(html)


def test_out_of_hours_the_front_page_says_when_the_team_is_back(tmp_path: Path, template_db: Path) -> None:
    app = make_app(tmp_path, template_db, LANGUAGES=LINE, CLOCK=CLOSED)
    assert "Our team is back on Monday, November 30 at 9 AM." in text_of(
        app.test_client().get("/help/?lang=en-US").get_data(as_text=True)
    )
    finnish = text_of(app.test_client().get("/help/?lang=fi-FI").get_data(as_text=True))
    assert "Asiakaspalvelumme palvelee taas maanantaina 30. marraskuuta kello 9." in finnish


def test_the_most_asked_answers_come_first(line: Flask, web: FlaskClient) -> None:
    from ivr import hours as clock
    from ivr.models import FaqQuery

    with line.app_context(), get_db().transaction() as db:
        now = clock.now(line.config)
        for step in range(3):
            db.add(FaqQuery(call_sid="CA1", step=step, at=now, asked="points", language="en-US",
                            answered_slug="loyalty_points"))  # fmt: skip
    html = web.get("/help/?lang=en-US").get_data(as_text=True)
    popular = html[html.index('id="popular"') :]
    assert popular.index("loyalty_points") < popular.index("opening_hours")


@pytest.mark.parametrize(
    ("asked", "kind", "shown"),
    [
        ("how do i return an item", "answer", "You can return any item within 30 days"),
        ("delivery", "options", "Did you mean one of these?"),
        ("do you sell gift cards", "none", "We have no answer to that"),
    ],
)
def test_a_search_shows_the_phones_three_outcomes(web: FlaskClient, asked: str, kind: str, shown: str) -> None:
    page = web.get("/help/search", query_string={"q": asked, "lang": "en-US"})
    assert page.status_code == 200 and shown in text_of(page.get_data(as_text=True))
    found = web.get("/help/api/search", query_string={"q": asked, "lang": "en-US"}).get_json()
    assert found["kind"] == kind and found["language"] == "en-US"
    assert (len(found["entries"]) == 1) == (kind == "answer") and (not found["entries"]) == (kind == "none")
    for entry in found["entries"]:
        assert set(entry) == {"slug", "question", "answer", "url"}
        assert entry["url"].endswith(f"/help/articles/{entry['slug']}?lang=en-US")
        assert web.get(entry["url"]).status_code == 200


def test_the_web_gives_the_phones_decision_for_every_question_of_the_bench(line: Flask, web: FlaskClient) -> None:
    """Every question of bench/faq.py's sets, asked of the phone's handler and of the JSON search."""
    kinds = {"answer": "answer", "refine": "options", "none": "none"}
    catalog = line.extensions["ivr.catalog"]
    compared = 0
    for language in LANGUAGES:
        asked = [q for table, _ in TABLES for q, _ in questions(language, table)]
        asked += [q for table, _ in NOT_IN_BASE for q in questions_not_in_base(language, table)]
        assert APART
        with line.app_context(), get_db().reading() as db:
            context = Context(settings=line.config, catalog=catalog, _session=db)
            phone = [phone_decides(CallState(node="faq_ask", language=language), context, q) for q in asked]
        for question, decided in zip(asked, phone, strict=True):
            online = web.get("/help/api/search", query_string={"q": question, "lang": language}).get_json()
            assert online["kind"] == kinds[decided.kind], question
            assert [e["slug"] for e in online["entries"]] == [f.slug for f in decided.found], question
            compared += 1
    assert compared > 1000


def test_a_visitor_reads_their_language_chosen_remembered_or_from_the_browser(web: FlaskClient) -> None:
    assert '<html lang="fi-FI">' in web.get("/help/", headers={"Accept-Language": "fi,en;q=0.5"}).get_data(True)
    assert '<html lang="lv-LV">' in web.get("/help/", headers={"Accept-Language": "lv-LV"}).get_data(True)
    assert '<html lang="en-US">' in web.get("/help/", headers={"Accept-Language": "de-DE"}).get_data(True)
    chosen = web.get("/help/?lang=lv-LV", headers={"Accept-Language": "fi"})
    assert "help_lang=lv-LV" in chosen.headers["Set-Cookie"]
    later = web.get("/help/search?q=piegāde", headers={"Accept-Language": "fi"}).get_data(True)
    assert '<html lang="lv-LV">' in later and "Piegādes cena" in later  # Latvian answers, remembered


def test_a_language_the_line_does_not_speak_is_ignored_on_a_page_and_refused_by_the_api(web: FlaskClient) -> None:
    page = web.get("/help/?lang=de-DE")
    assert page.status_code == 200 and '<html lang="en-US">' in page.get_data(True)
    assert "help_lang" not in page.headers.get("Set-Cookie", "")
    web.set_cookie("help_lang", "<script>")
    assert '<html lang="en-US">' in web.get("/help/").get_data(True)
    refused = web.get("/help/api/search?q=delivery&lang=../../etc")
    assert refused.status_code == 400 and "lang must be one of en-US, fi-FI, lv-LV" in refused.get_json()["error"]


def test_finnish_and_latvian_visitors_get_their_own_entries(web: FlaskClient) -> None:
    finnish = web.get("/help/api/search", query_string={"q": "paljonko toimitus maksaa", "lang": "fi-FI"})
    assert finnish.get_json()["entries"][0]["slug"] == "delivery_costs"
    assert "dollaria" in finnish.get_json()["entries"][0]["answer"]
    article = web.get("/help/articles/returns?lang=lv-LV").get_data(True)
    assert '<html lang="lv-LV">' in article and "Saistītās atbildes" in article


def test_hostile_queries_get_a_page_or_a_clear_400_never_a_500(web: FlaskClient) -> None:
    long = web.get("/help/search", query_string={"q": "a" * 10_000, "lang": "en-US"})
    assert long.status_code == 400 and "Please keep your question under 500 characters." in long.get_data(True)
    too_long = web.get("/help/api/search", query_string={"q": "a" * 10_000})
    assert too_long.status_code == 400 and too_long.get_json() == {"error": "q is longer than 500 characters"}
    for empty in ("/help/api/search", "/help/api/search?q=%20%00%1b"):
        assert web.get(empty).status_code == 400
        assert web.get(empty).get_json() == {"error": "q is missing: the question, in a few words"}
    marked = web.get("/help/search", query_string={"q": '<script>alert(1)</script> "gift" cards', "lang": "en-US"})
    html = marked.get_data(True)
    assert marked.status_code == 200 and "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    controls = web.get("/help/search", query_string={"q": "deli\x00very\x1b[31m costs\u2028", "lang": "en-US"})
    assert (
        controls.status_code == 200 and "\x00" not in controls.get_data(True) and "\x1b" not in controls.get_data(True)
    )
    assert web.get("/help/articles/..%2F..%2Fetc%2Fpasswd").status_code == 404
    nothing = web.get("/help/topics/<b>nothing</b>")
    assert nothing.status_code == 404 and "<b>nothing" not in nothing.get_data(True)


def test_the_pages_forbid_framing_and_sniffing_and_the_style_sheet_is_cached(web: FlaskClient) -> None:
    page = web.get("/help/")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    html = page.get_data(True)
    assert not re.search(r'(src|href)="(https?:)?//', html), "a resource from another site"
    with web.get("/help/static/help.css") as style:
        assert style.status_code == 200 and "max-age=3600" in style.headers["Cache-Control"]
    found = web.get("/help/api/search?q=delivery")
    assert found.headers["Access-Control-Allow-Origin"] == "*"


def test_an_unknown_article_or_topic_is_a_404_page_in_the_visitors_language(web: FlaskClient) -> None:
    missing = web.get("/help/articles/no_such_thing?lang=fi-FI")
    assert missing.status_code == 404 and "Sivua ei löytynyt." in missing.get_data(True)
    topic = web.get("/help/topics/delivery?lang=en-US")
    assert topic.status_code == 200 and "How much does delivery cost?" in topic.get_data(True)


def test_the_front_of_the_server_links_the_help_centre(web: FlaskClient) -> None:
    assert 'href="/help/"' in web.get("/").get_data(True)


def test_every_language_has_every_text_with_the_same_names_to_fill_in() -> None:
    english = yaml.safe_load((WEB / "en-US.yaml").read_text())
    for path in sorted(WEB.glob("*.yaml")):
        texts = yaml.safe_load(path.read_text())
        assert texts.keys() == english.keys(), path.name
        for key, text in texts.items():
            assert set(re.findall(r"{(\w+)}", str(text))) == set(re.findall(r"{(\w+)}", str(english[key]))), key
    assert {p.stem for p in WEB.glob("*.yaml")} >= set(LANGUAGES)
