"""What visitors of the help centre did, on the supervisors' insights beside the phone: searches and
what they got, answers read, "Was this helpful?" votes (and why not), messages sent; the searches that
found nothing among the questions asked and not answered."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from ivr.db import get_db
from ivr.models import HelpEvent
from tests.conftest import make_app
from tests.helpers import api_token, bearer, login, supervisor

# Tuesday 24 November 2026, 10:00 in New York: the period asked for is that day.
CLOCK = "2026-11-24T10:00:00-05:00"
PERIOD = "from=2026-11-24&to=2026-11-24"


@pytest.fixture
def line(tmp_path: Path, template_db: Path) -> Flask:
    app = make_app(tmp_path, template_db, LANGUAGES="en-US,fi-FI,lv-LV", CLOCK=CLOCK, SECRET_KEY="help-secret")
    supervisor(app)
    return app


def token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def vote(web: FlaskClient, slug: str, **choice: str):  # type: ignore[no-untyped-def]
    page = web.get(f"/help/articles/{slug}?lang=en-US").get_data(as_text=True)
    return web.post(f"/help/articles/{slug}/vote?lang=en-US", data={"csrf_token": token(page), **choice})


def events(line: Flask, kind: str) -> list[HelpEvent]:
    with line.app_context(), get_db().reading() as db:
        found = db.scalars(select(HelpEvent).where(HelpEvent.kind == kind).order_by(HelpEvent.id)).all()
        for event in found:
            db.expunge(event)
        return list(found)


def test_a_visitor_says_whether_an_answer_helped_once_and_on_no_why(line: Flask) -> None:
    web = line.test_client()
    page = web.get("/help/articles/returns?lang=en-US").get_data(as_text=True)
    assert "Was this helpful?" in page
    said = vote(web, "returns", helpful="no")
    assert said.status_code == 302 and said.headers["Location"].endswith("/help/articles/returns?lang=en-US#helpful")
    page = web.get("/help/articles/returns?lang=en-US").get_data(as_text=True)
    assert "Thank you for telling us." in page and "What was wrong with it?" in page and "Not clear" in page
    vote(web, "returns", reason="not_clear")
    vote(web, "returns", helpful="yes")  # a second vote from the same visitor changes nothing
    vote(web, "returns", reason="not_solved")  # nor does a second reason
    (given,) = events(line, "vote")
    assert (given.slug, given.helpful, given.reason, given.language) == ("returns", False, "not_clear", "en-US")
    page = web.get("/help/articles/returns?lang=en-US").get_data(as_text=True)
    assert "Thank you for telling us." in page and "What was wrong with it?" not in page


def test_a_vote_that_cannot_be_one_is_refused_and_nothing_is_kept(line: Flask) -> None:
    web = line.test_client()
    assert vote(web, "returns", helpful="maybe").status_code == 400
    assert vote(web, "returns", helpful="yes", reason="<script>").status_code == 400
    assert web.post("/help/articles/returns/vote", data={"helpful": "yes"}).status_code == 400  # no token
    page = web.get("/help/articles/returns?lang=en-US").get_data(as_text=True)
    missing = web.post("/help/articles/nothing_here/vote", data={"csrf_token": token(page), "helpful": "yes"})
    assert missing.status_code == 404
    assert events(line, "vote") == []


def test_the_insights_count_the_help_centre_beside_the_phone(line: Flask) -> None:
    web = line.test_client()
    for asked in ("how do i return an item", "delivery", "do you sell gift cards", "Do you sell gift cards?"):
        assert web.get("/help/search", query_string={"q": asked, "lang": "en-US"}).status_code == 200
    assert web.get("/help/api/search?q=paljonko+toimitus+maksaa&lang=fi-FI").status_code == 200
    assert web.get("/help/api/search?q=deliv&lang=en-US&suggest=1").status_code == 200  # as someone types: not counted
    vote(web, "returns", helpful="no")
    vote(web, "returns", reason="not_asked")
    other = line.test_client()
    vote(other, "returns", helpful="yes")
    vote(other, "delivery_costs", helpful="yes")
    page = web.get("/help/contact?lang=en-US").get_data(as_text=True)
    form_id = re.search(r'name="form_id" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    web.post("/help/contact", data={"csrf_token": token(page), "form_id": form_id, "question": "Gift cards?",
                                    "email": "ada@example.com"})  # fmt: skip

    reply = line.test_client().get(f"/agent/api/insights?{PERIOD}", headers=bearer(api_token(line, "carol")))
    figures = reply.get_json()
    assert figures["web"] == {
        "searches": 5, "answered": 2, "options": 1, "none": 2,
        "reads": 4, "helpful": 2, "not_helpful": 1, "reasons": {"not_asked": 1}, "messages": 1,
        "answers": [
            {"slug": "returns", "language": "en-US", "web_yes": 1, "web_no": 1, "phone_yes": 0, "phone_no": 0},
            {"slug": "delivery_costs", "language": "en-US", "web_yes": 1, "web_no": 0, "phone_yes": 0, "phone_no": 0},
        ],
    }  # fmt: skip
    (gift,) = [a for a in figures["unanswered"] if a["channel"] == "web"]
    assert (gift["asked"], gift["not_found"], gift["language"]) == (2, 2, "en-US")  # both spellings, one group
    assert gift["sample"] in ("do you sell gift cards", "Do you sell gift cards?")

    carol = login(line, "carol")
    page = carol.get(f"/agent/insights?{PERIOD}").get_data(as_text=True)
    said = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert "Help centre" in said and "5 searches (2 answered, 1 offered choices, 2 found nothing)" in said
    assert "2 helpful · 1 not (not what they asked 1)" in said and "1 messages sent" in said
    assert "online" in said


def test_answers_read_online_count_among_the_most_asked(line: Flask) -> None:
    web = line.test_client()
    front = web.get("/help/?lang=en-US").get_data(as_text=True)
    popular = front[front.index('id="popular"') :]
    assert "loyalty_points" not in popular  # the sixth entry: not among the first five
    for _ in range(3):
        web.get("/help/articles/loyalty_points?lang=en-US")
    front = web.get("/help/?lang=en-US").get_data(as_text=True)
    popular = front[front.index('id="popular"') :]
    assert popular.index("loyalty_points") < popular.index("opening_hours")
