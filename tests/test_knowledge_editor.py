"""The supervisors' knowledge-base editor: a preview of what an entry would change for the recent
questions before it is saved, a change that takes other entries' answers saved only when confirmed,
existing entries edited, every change a version with who and when, undo and restore, and the
insights page marking a group handled once an entry answers it."""

from __future__ import annotations

import datetime as dt
import html
import re
import sqlite3
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from ivr.db import get_db, upgrade
from ivr.insights import figures as insights
from ivr.insights.figures import Asked, Day, Figures, Messages
from ivr.knowledge.decision import ask
from ivr.knowledge.entries import import_entries
from ivr.models import FaqEntry, FaqQuery, FaqVersion, HelpEvent
from tests.helpers import (  # noqa: F401
    CHROMIUM,
    OUTPUT,
    PASSWORD,
    app,
    browser_page,
    csrf,
    login,
    no_sideways_scroll,
    postgres_url,
    serious_problems,
    site,
    supervisor,
)

__all__ = ["app", "postgres_url"]

PARKING = {"language": "en-US", "question": "Is there parking at your store?", "keywords": "parking, park, car park",
           "title": "Parking", "category": "Opening Hours", "answer": "Yes: park free of charge behind the store.",
           "slug": "parking"}  # fmt: skip
HOLIDAYS = {"language": "en-US", "question": "Are you open on holidays?", "keywords": "holidays, christmas, open",
            "title": "Holiday opening hours", "category": "opening hours", "answer": "We close on Christmas Day.",
            "slug": "holidays"}  # fmt: skip


def asked(app: Flask, *questions: str, days_ago: float = 0.1, web: tuple[str, ...] = ()) -> None:
    """Questions callers asked (and searches of the help centre) `days_ago`."""
    at = dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)
    with app.app_context(), get_db().transaction() as session:
        for n, question in enumerate(questions):
            session.add(FaqQuery(call_sid=f"CA{days_ago}{n:030d}", step=1, at=at - dt.timedelta(minutes=n),
                                 asked=question, language="en-US"))  # fmt: skip
        for question in web:
            session.add(HelpEvent(kind="search", at=at, language="en-US", outcome="none", asked=question))


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def part(page: str, heading_id: str) -> str:
    """The text of one list of the preview (from its heading to the next)."""
    found = re.search(rf'<h3 id="{heading_id}".*?(?=<h3 |</section>)', page, re.S)
    return text_of(found.group(0)) if found else ""


def carol(app: Flask) -> FlaskClient:
    supervisor(app)
    return login(app, "carol")


def entry(app: Flask, slug: str) -> FaqEntry | None:
    with app.app_context(), get_db().reading() as session:
        found = session.scalar(select(FaqEntry).where(FaqEntry.language == "en-US", FaqEntry.slug == slug))
        if found is not None:
            session.expunge(found)
        return found


def answer_to(app: Flask, question: str) -> tuple[str, tuple[str, ...]]:
    with app.app_context(), get_db().reading() as session:
        catalog = app.extensions["ivr.catalog"]
        decision = ask(session, "en-US", question, catalog.words("en-US"), catalog.knowledge("en-US"))
        return decision.kind, tuple(f.slug for f in decision.found)


def test_the_preview_lists_the_questions_an_entry_would_answer_and_saves_nothing(app: Flask) -> None:  # noqa: F811
    asked(app, "is there parking at the store", "is there parking at the store", "what are your opening hours",
          web=("where can i park my car",))  # fmt: skip
    asked(app, "parking for bicycles", days_ago=45)  # older than the preview's 30 days
    client = carol(app)
    reply = client.post(
        "/agent/faq/new", data={**PARKING, "action": "preview", "csrf_token": csrf(client, "/agent/faq/new")}
    )
    page = reply.get_data(as_text=True)
    assert reply.status_code == 200 and entry(app, "parking") is None
    said = text_of(page)
    assert "Its own question “Is there parking at your store?” would get: “Parking”" in said
    # "what are your opening hours" shares the topic's words: asked again, and it keeps its answer.
    assert "Of the 3 different questions asked on the phone and the help centre in the last 30 days, the 3 with" in said
    would = part(page, "would-answer")
    assert "Would now answer or offer (2)" in would
    assert "“is there parking at the store” 2 nothing “Parking”" in would
    assert "“where can i park my car” online 1 nothing “Parking”" in would
    assert "opening hours" not in would and "bicycles" not in said
    assert 'id="would-take"' not in page and "Not saved yet" not in said
    # The category typed in another case is the existing topic; the form keeps every word typed.
    assert 'value="opening hours"' in page and "Yes: park free of charge behind the store.</textarea>" in page


def test_an_entry_that_takes_other_answers_is_saved_only_after_its_preview(app: Flask) -> None:  # noqa: F811
    asked(app, "what are your opening hours", "are you open on christmas day")
    assert answer_to(app, "what are your opening hours") == ("answer", ("opening_hours",))
    client = carol(app)
    token = csrf(client, "/agent/faq/new")
    held = client.post("/agent/faq/new", data={**HOLIDAYS, "action": "save", "csrf_token": token})
    page = held.get_data(as_text=True)
    assert held.status_code == 200 and entry(app, "holidays") is None
    assert "Not saved yet: this would change what callers get now for the questions below." in text_of(page)
    takes = part(page, "would-take")
    assert "Would take over from other entries (1)" in takes and "“what are your opening hours”" in takes
    assert "“our opening hours” a choice: “our opening hours”, “Holiday opening hours”" in takes
    assert "“are you open on christmas day”" in part(page, "would-answer")
    seen = re.search(r'name="seen" value="([0-9a-f]+)"', page).group(1)  # type: ignore[union-attr]
    # Other words than the ones previewed are previewed again, not saved.
    changed = client.post("/agent/faq/new", data={**HOLIDAYS, "answer": "Closed at Easter.", "seen": seen,
                                                  "action": "save", "csrf_token": token})  # fmt: skip
    assert "Not saved yet" in text_of(changed.get_data(as_text=True)) and entry(app, "holidays") is None
    saved = client.post("/agent/faq/new", data={**HOLIDAYS, "seen": seen, "action": "save", "csrf_token": token})
    assert saved.status_code == 302 and saved.headers["Location"] == "/agent/faq/en-US/holidays"
    assert entry(app, "holidays") is not None
    assert answer_to(app, "what are your opening hours") == ("refine", ("opening_hours", "holidays"))


def test_an_entry_is_edited_kept_as_versions_and_taken_back(app: Flask) -> None:  # noqa: F811
    client = carol(app)
    token = csrf(client, "/agent/faq/new")
    assert client.post("/agent/faq/new", data={**PARKING, "action": "save", "csrf_token": token}).status_code == 302
    form = client.get("/agent/faq/en-US/parking").get_data(as_text=True)
    assert (
        "Yes: park free of charge behind the store.</textarea>" in form
        and ">parking, park, car park</textarea>" in form
    )
    assert "Made by carol" in text_of(form) and "Undo: remove the entry" in text_of(form)
    latest = re.search(r'name="latest" value="(\d+)"', form).group(1)  # type: ignore[union-attr]
    edited = {**PARKING, "answer": "Parking is free for two hours.", "latest": latest, "action": "save",
              "csrf_token": token}  # fmt: skip
    reply = client.post("/agent/faq/en-US/parking", data=edited, follow_redirects=True)
    page = text_of(reply.get_data(as_text=True))
    assert reply.status_code == 200 and "Entry parking saved in English" in page
    assert entry(app, "parking").answer == "Parking is free for two hours."  # type: ignore[union-attr]
    assert "Changed by carol" in page and "Made by carol" in page and "Undo the last change" in page

    # Undo: the answer before; callers hear it again.
    form = client.get("/agent/faq/en-US/parking").get_data(as_text=True)
    undo_latest = re.search(
        r'action="/agent/faq/en-US/parking/undo"[^>]*>.*?name="latest" value="(\d+)"', form, re.S
    ).group(1)  # type: ignore[union-attr]
    undone = client.post("/agent/faq/en-US/parking/undo", data={"csrf_token": token, "latest": undo_latest},
                         follow_redirects=True)  # fmt: skip
    assert "Entry parking is back as it was" in text_of(undone.get_data(as_text=True))
    assert entry(app, "parking").answer == "Yes: park free of charge behind the store."  # type: ignore[union-attr]
    # The same undo again is refused: the entry changed since that page was shown.
    again = client.post("/agent/faq/en-US/parking/undo", data={"csrf_token": token, "latest": undo_latest},
                        follow_redirects=True)  # fmt: skip
    assert "Nothing changed: The entry was changed since this page was shown" in text_of(again.get_data(as_text=True))

    with app.app_context(), get_db().reading() as session:
        versions = session.scalars(select(FaqVersion).where(FaqVersion.slug == "parking").order_by(FaqVersion.id)).all()
        assert [(v.action, v.by, v.answer[:10]) for v in versions] == [
            ("created", "carol", "Yes: park "), ("edited", "carol", "Parking is"), ("restored", "carol", "Yes: park "),
        ]  # fmt: skip
        edited_version = versions[1].id
        newest = versions[2].id

    # Restore any version; undo a creation removes the entry, whose history stays.
    client.post(f"/agent/faq/en-US/parking/versions/{edited_version}", data={"csrf_token": token, "latest": newest})
    assert entry(app, "parking").answer == "Parking is free for two hours."  # type: ignore[union-attr]
    assert answer_to(app, "is there parking at your store")[1] == ("parking",)


def test_undoing_a_new_entry_removes_it_and_a_version_brings_it_back(app: Flask) -> None:  # noqa: F811
    client = carol(app)
    token = csrf(client, "/agent/faq/new")
    client.post("/agent/faq/new", data={**PARKING, "action": "save", "csrf_token": token})
    form = client.get("/agent/faq/en-US/parking").get_data(as_text=True)
    latest = re.search(r'name="latest" value="(\d+)"', form).group(1)  # type: ignore[union-attr]
    removed = client.post("/agent/faq/en-US/parking/undo", data={"csrf_token": token, "latest": latest},
                          follow_redirects=True)  # fmt: skip
    page = text_of(removed.get_data(as_text=True))
    assert "Entry parking is removed: callers no longer hear it" in page and "This entry is removed" in page
    assert entry(app, "parking") is None and answer_to(app, "is there parking at your store")[0] != "answer"
    assert "Parking" in text_of(client.get("/agent/faq?language=en-US").get_data(as_text=True)).split("Removed")[1]
    made = re.search(r'action="/agent/faq/en-US/parking/versions/(\d+)".*?name="latest" value="(\d+)"',
                     removed.get_data(as_text=True), re.S)  # fmt: skip
    assert made is not None
    client.post(
        f"/agent/faq/en-US/parking/versions/{made.group(1)}", data={"csrf_token": token, "latest": made.group(2)}
    )
    assert entry(app, "parking") is not None


def test_a_colleagues_save_is_never_overwritten_unseen(app: Flask) -> None:  # noqa: F811
    client = carol(app)
    supervisor(app, "dave")
    dave = login(app, "dave")
    form = client.get("/agent/faq/en-US/returns").get_data(as_text=True)
    latest = re.search(r'name="latest" value="(\d+)"', form).group(1)  # type: ignore[union-attr]
    fields = {name: html.unescape(re.search(rf'name="{name}"[^>]*>([^<]*)</textarea>', form).group(1))  # type: ignore[union-attr]
              for name in ("question", "answer", "keywords")}  # fmt: skip
    fields |= {name: html.unescape(re.search(rf'name="{name}" value="([^"]*)"', form).group(1))  # type: ignore[union-attr]
               for name in ("title", "category")}  # fmt: skip
    theirs = {**fields, "answer": "Dave's answer.", "latest": latest, "action": "save",
              "csrf_token": csrf(dave, "/agent/faq/en-US/returns")}  # fmt: skip
    assert dave.post("/agent/faq/en-US/returns", data=theirs).status_code == 302
    mine = {**fields, "answer": "Carol's answer.", "latest": latest, "action": "save",
            "csrf_token": csrf(client, "/agent/faq/new")}  # fmt: skip
    refused = client.post("/agent/faq/en-US/returns", data=mine)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 409 and "dave changed this entry" in text_of(page)
    assert "Carol&#39;s answer.</textarea>" in page and entry(app, "returns").answer == "Dave's answer."  # type: ignore[union-attr]
    newer = re.search(r'name="latest" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    assert newer != latest
    assert client.post("/agent/faq/en-US/returns", data={**mine, "latest": newer}).status_code == 302
    assert entry(app, "returns").answer == "Carol's answer."  # type: ignore[union-attr]


def test_only_supervisors_and_only_entries_that_exist(app: Flask) -> None:  # noqa: F811
    ann = login(app)
    token = csrf(ann, "/agent/")
    for path in ("/agent/faq", "/agent/faq/new", "/agent/faq/en-US/returns"):
        assert ann.get(path).status_code == 403, path
    assert ann.post("/agent/faq/en-US/returns/undo", data={"csrf_token": token, "latest": "1"}).status_code == 403
    assert entry(app, "returns") is not None
    client = carol(app)
    token = csrf(client, "/agent/faq")
    for path in ("/agent/faq/en-US/no_such_entry", "/agent/faq/xx-XX/returns", "/agent/faq/en-US/..%2Fetc",
                 "/agent/faq/en-US/" + "a" * 65):  # fmt: skip
        assert client.get(path).status_code == 404, path
    huge = client.post(
        "/agent/faq/en-US/returns/versions/9223372036854775808", data={"csrf_token": token, "latest": "1"}
    )
    assert huge.status_code == 404
    odd = client.post(
        "/agent/faq/en-US/returns/undo", data={"csrf_token": token, "latest": "9" * 40}, follow_redirects=True
    )
    assert "Nothing changed" in text_of(odd.get_data(as_text=True)) and entry(app, "returns") is not None
    for latest in ("²", "-1", ""):  # digits of other scripts, a sign, nothing: nothing changes, no error
        said = client.post(
            "/agent/faq/en-US/returns/undo", data={"csrf_token": token, "latest": latest}, follow_redirects=True
        )
        assert said.status_code == 200 and "Nothing changed" in text_of(said.get_data(as_text=True))
    assert client.post("/agent/faq/en-US/returns/undo", data={"latest": "1"}).status_code == 400  # no CSRF token
    # The list: a word finds entries; markup in a title is text.
    with app.app_context(), get_db().transaction() as session:
        import_entries(session, [{"slug": "tags", "category": "store", "title": "<b>Gift</b> tags", "question": "q",
                                  "answer": "a", "language": "en-US"}])  # fmt: skip
    # An entry `faq import` gave a slug the form would not take is still opened and edited by it.
    with app.app_context(), get_db().transaction() as session:
        import_entries(session, [{"slug": "Gift Tags?", "category": "store", "title": "Tags", "question": "Tags?",
                                  "answer": "Yes.", "language": "en-US"}])  # fmt: skip
    odd = client.get("/agent/faq/en-US/Gift%20Tags%3F").get_data(as_text=True)
    latest = re.search(r'name="latest" value="(\d+)"', odd).group(1)  # type: ignore[union-attr]
    saved = client.post("/agent/faq/en-US/Gift%20Tags%3F", data={"csrf_token": token, "latest": latest, "title": "Tags",
        "category": "store", "question": "Do you sell tags?", "answer": "Yes, at the till.", "action": "save"})  # fmt: skip
    assert saved.status_code == 302 and entry(app, "Gift Tags?").answer == "Yes, at the till."  # type: ignore[union-attr]
    found = text_of(client.get("/agent/faq?language=en-US&q=open_account").get_data(as_text=True))
    assert (
        "opening an account" in found and "returning an item" not in found
    )  # a slug's _ is a character, not a wildcard
    assert "No entry has those words." in text_of(client.get("/agent/faq?language=en-US&q=%25").get_data(as_text=True))
    listed = client.get("/agent/faq?language=en-US&q=gift").get_data(as_text=True)
    assert "&lt;b&gt;Gift&lt;/b&gt; tags" in listed and "<b>Gift" not in listed and "Returns" not in text_of(listed)


def test_faq_import_keeps_a_version_only_of_what_changed(app: Flask) -> None:  # noqa: F811
    item = {"slug": "tags", "category": "store", "title": "Gift tags", "question": "Do you sell gift tags?",
            "answer": "Yes.", "keywords": ["gift tags"], "language": "en-US"}  # fmt: skip
    with app.app_context():
        for answer in ("Yes.", "Yes.", "No longer."):
            with get_db().transaction() as session:
                import_entries(session, [{**item, "answer": answer}])
        with get_db().reading() as session:
            rows = session.scalars(select(FaqVersion).where(FaqVersion.slug == "tags").order_by(FaqVersion.id)).all()
            assert [(v.action, v.by, v.answer) for v in rows] == [("created", "faq import", "Yes."),
                                                                  ("edited", "faq import", "No longer.")]  # fmt: skip
            demo = session.scalars(select(FaqVersion.by).where(FaqVersion.slug == "returns")).all()
            assert demo == ["demo data"] * 3  # one per language of the demo line


def test_entries_from_before_versions_get_their_state_as_a_first_version(tmp_path: Path) -> None:
    path = tmp_path / "m.sqlite3"
    url = f"sqlite:///{path}"
    upgrade(url, "0028")
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO faq_entries (language, slug, category, title, question, answer, keywords, revised_at)"
                   " VALUES ('fi-FI', 'returns', 'r', 't', 'q', 'a', '[\"palautus\"]', '2026-11-24 10:00:00')")  # fmt: skip
    upgrade(url)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT language, slug, by, action, at, answer, keywords FROM faq_versions").fetchall() == [
            ("fi-FI", "returns", "before versions", "created", "2026-11-24 10:00:00", "a", '["palautus"]')
        ]


def made_up(start: dt.date, end: dt.date, last: dt.date) -> Figures:
    days = tuple(Day(start + dt.timedelta(days=n), 0, 0) for n in range((end - start).days + 1))
    return Figures(start, end, 0, {}, days, (), (
        Asked("park", "is there parking at the store", 4, 4, 0, "en-US", "phone", last),
        Asked("long refund take", "how long does a refund take", 3, 0, 3, "en-US", "phone", last),
        Asked("meaning life", "what is the meaning of life", 2, 2, 0, "en-US", "phone", last),
    ), Messages(0, 0, None, None, None))  # fmt: skip


def test_a_group_is_marked_handled_once_its_entry_exists(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    today = app.extensions["ivr.hours"].local(dt.datetime.now(dt.UTC)).date()
    monkeypatch.setattr(insights, "figures", lambda s, c, start, end, catalog=None: made_up(start, end, today),
                        raising=False)  # fmt: skip
    with app.app_context(), get_db().transaction() as session:  # the knowledge base as it was before these questions
        session.execute(update(FaqEntry).values(revised_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=10)))
    client = carol(app)

    def rows() -> list[str]:
        page = client.get("/agent/insights").get_data(as_text=True)
        return [text_of(row) for row in re.findall(r"<tr[^>]*>\s*<td class=\"question\">.*?</tr>", page, re.S)]

    before = rows()
    assert "parking" in before[0] and "Make an entry" in before[0]
    # An answer that did not help, unchanged since: it can be edited from here.
    assert "how long does a refund take" in before[1] and "Answered now by “refunds” Edit the answer" in before[1]
    assert "meaning of life" in before[2] and "Make an entry" in before[2]
    page = client.get("/agent/insights").get_data(as_text=True)
    assert 'href="/agent/faq/en-US/refunds">Edit the answer' in page
    client.post("/agent/faq/new", data={**PARKING, "action": "save", "csrf_token": csrf(client, "/agent/faq/new")})
    after = rows()
    assert "Edit the answer" in after[0] and "meaning of life" in after[1] and "Make an entry" in after[1]
    assert "parking" in after[2] and "✓ Handled: answered by “Parking” See the entry" in after[2]
    page = client.get("/agent/insights").get_data(as_text=True)
    assert 'href="/agent/faq/en-US/parking">See the entry' in page
    # The unhelpful answer changed: handled too.
    form = client.get("/agent/faq/en-US/refunds").get_data(as_text=True)
    fields = {name: html.unescape(re.search(rf'name="{name}"[^>]*>([^<]*)</textarea>', form).group(1))  # type: ignore[union-attr]
              for name in ("question", "answer", "keywords")}  # fmt: skip
    fields |= {name: html.unescape(re.search(rf'name="{name}" value="([^"]*)"', form).group(1))  # type: ignore[union-attr]
               for name in ("title", "category", "latest")}  # fmt: skip
    changed = client.post("/agent/faq/en-US/refunds", data={**fields, "answer": fields["answer"] + " Returns take a week.",
                                                             "action": "save", "csrf_token": csrf(client, "/agent/faq")})  # fmt: skip
    assert changed.status_code == 302
    assert [("Make an entry" in row, "✓ Handled" in row) for row in rows()] == [
        (True, False),
        (False, True),
        (False, True),
    ]


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium: apt-get install chromium")
@pytest.mark.parametrize("width", [1280, 390])
def test_the_preview_in_a_browser(site: tuple[Flask, str], width: int) -> None:  # noqa: F811
    """A supervisor types an entry, previews it, sees the questions it would answer and the answer it
    would take, saves it; undoes it from the history. Screenshots in test-output/."""
    from playwright.sync_api import expect

    app, base = site
    result = app.test_cli_runner().invoke(args=["agents", "create", "carol", "--role", "supervisor"],
                                          input=PASSWORD + "\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    asked(app, "what are your opening hours", "are you open on christmas day", "is there parking")
    with browser_page(width) as page:
        page.goto(base + "/agent/login")
        page.get_by_label("Name").fill("carol")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("link", name="Answers").click()
        expect(page.get_by_role("heading", name="Knowledge base")).to_be_visible()
        expect(page.get_by_role("link", name="our opening hours")).to_be_visible()
        no_sideways_scroll(page)
        page.screenshot(path=str(OUTPUT / f"faq-entries-{width}.png"), full_page=True)
        page.get_by_role("link", name="New entry").click()
        for label, field in (("Question", "question"), ("Keywords", "keywords"), ("Title", "title"),
                             ("Category", "category"), ("Answer", "answer"), ("Slug", "slug")):  # fmt: skip
            page.get_by_label(label).fill(HOLIDAYS[field])
        page.get_by_role("button", name="Preview").click()
        expect(page.get_by_role("heading", name="What callers would get")).to_be_visible()
        expect(page.get_by_role("table", name="Would now answer or offer (1)")).to_contain_text(
            "are you open on christmas day"
        )
        expect(page.get_by_role("table", name="Would take over from other entries (1)")).to_contain_text(
            "what are your opening hours"
        )
        expect(page.locator("textarea[name=answer]")).to_have_value(HOLIDAYS["answer"])
        no_sideways_scroll(page)
        assert serious_problems(page) == []
        page.screenshot(path=str(OUTPUT / f"faq-preview-{width}.png"), full_page=True)
        page.get_by_role("button", name="Save the entry").click()  # the preview was seen: saved at once
        expect(page.get_by_role("status").first).to_contain_text("Entry holidays saved in English")
        expect(page.get_by_role("heading", name="History")).to_be_visible()
        no_sideways_scroll(page)
        page.screenshot(path=str(OUTPUT / f"faq-history-{width}.png"), full_page=True)
        page.get_by_role("button", name="Undo: remove the entry").click()
        expect(page.get_by_role("status").first).to_contain_text("Entry holidays is removed")
    assert entry(app, "holidays") is None
    assert (OUTPUT / f"faq-preview-{width}.png").stat().st_size > 20_000


def test_on_postgresql_two_undos_at_once_take_back_one_change(postgres_url: str) -> None:  # noqa: F811
    """The first undo locks the entry's row; the second waits, then sees the change and does nothing.
    The migration's first versions and faq import's versions work on PostgreSQL as on SQLite."""
    import threading

    from ivr.db import Database
    from ivr.knowledge.entries import load_demo
    from ivr.knowledge.versions import VersionError, history, undo

    upgrade(postgres_url)
    db = Database(postgres_url)
    try:
        with db.transaction() as session:
            load_demo(session)
            import_entries(session, [{"slug": "returns", "category": "returns and refunds", "title": "returning",
                                      "question": "How do I return something?", "answer": "Changed.",
                                      "language": "en-US"}], by="carol")  # fmt: skip
        with db.reading() as session:
            latest = history(session, "en-US", "returns", 1)[0].id
        second: list[object] = []
        with db.transaction() as first:
            undo(first, "en-US", "returns", latest, "carol")  # holds the row's lock until the end of this block

            def colleague() -> None:
                try:
                    with db.transaction() as session:
                        second.append(undo(session, "en-US", "returns", latest, "dave"))
                except VersionError as error:
                    second.append(error)

            thread = threading.Thread(target=colleague)
            thread.start()
            thread.join(1.0)
            assert thread.is_alive()  # waiting for the lock
        thread.join(10)
        assert len(second) == 1 and isinstance(second[0], VersionError)
        with db.reading() as session:
            entry = session.scalar(select(FaqEntry).where(FaqEntry.language == "en-US", FaqEntry.slug == "returns"))
            assert entry is not None and entry.answer != "Changed."
            assert [(v.action, v.by) for v in history(session, "en-US", "returns")] == [
                ("restored", "carol"), ("edited", "carol"), ("created", "demo data"),
            ]  # fmt: skip
    finally:
        db.engine.dispose()
