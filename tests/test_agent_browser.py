"""A real browser (Debian's Chromium, driven by Playwright) works a message a simulated call left.

Screenshots of the queue and of the message page are saved under test-output/ for a person to look at.
"""

from __future__ import annotations

import shutil

import pytest
from flask import Flask
from sqlalchemy import update

from ivr.db import get_db
from ivr.models import Message
from ivr.simulator.scenario import load, run
from ivr.simulator.transport import FlaskTransport
from ivr.worker import Worker
from tests.conftest import ROOT, TOKEN
from tests.helpers import CHROMIUM, OUTPUT, PASSWORD, no_sideways_scroll, site

__all__ = ["site"]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no /usr/bin/chromium: apt-get install chromium (make test does it as root)"
)


def test_an_agent_finds_plays_claims_notes_and_closes_a_message(site: tuple[Flask, str]) -> None:
    from playwright.sync_api import expect, sync_playwright

    app, base = site
    outcome = run(load(ROOT / "tests" / "scenarios" / "message_out_of_hours.yaml"), FlaskTransport(app, TOKEN))
    assert outcome.ok, outcome.report()
    with app.app_context():
        Worker(get_db(), app.config).run_once()  # the copy and the transcript
    OUTPUT.mkdir(exist_ok=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"]
        )
        try:
            stranger = browser.new_page()
            for path in ("/agent/", "/agent/messages/1", "/agent/?show=done"):
                stranger.goto(base + path)
                expect(stranger.get_by_role("heading", name="Log in")).to_be_visible()
            for path in ("/agent/messages/1/audio", "/agent/api/messages", "/agent/api/messages/1"):
                assert stranger.request.get(base + path).status == 401

            page = browser.new_page(viewport={"width": 1200, "height": 800})
            page.goto(base + "/agent/")
            page.get_by_label("Name").fill("ann")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            expect(page.locator(".summary")).to_contain_text("1 new · 0 in progress · 0 mine · oldest waiting")
            row = page.locator("table.queue tbody tr").filter(has_text="(555) 010-0001")
            expect(row).to_contain_text("out of hours")
            expect(row).to_contain_text("Ada Lovelace (by caller ID)")
            page.screenshot(path=str(OUTPUT / "agent-queue.png"), full_page=True)

            row.get_by_role("link").click()
            expect(page.get_by_role("heading", name="Message from (555) 010-0001")).to_be_visible()
            audio = page.locator("audio")
            audio.evaluate("a => a.play()")
            page.wait_for_function("() => document.querySelector('audio').currentTime > 0.2", timeout=10000)
            seconds = audio.evaluate("a => a.duration")
            assert 12 < seconds < 14, seconds
            audio.evaluate("a => a.pause()")
            # The worker's transcript: the words it was unsure of are grey, and the page says why.
            unsure = page.locator("blockquote.transcript .unsure")
            assert unsure.count() > 0
            assert unsure.first.evaluate("w => getComputedStyle(w).color") == "rgb(154, 164, 174)"
            expect(page.get_by_text("Words in grey: the recogniser was unsure of them.")).to_be_visible()

            page.get_by_role("button", name="Claim").click()
            expect(page.get_by_text("You have claimed this message.")).to_be_visible()
            page.get_by_label("Add a note").fill("Called Ada back; parcel rerouted.")
            page.get_by_role("button", name="Add note").click()
            expect(page.locator("ul.notes")).to_contain_text("Called Ada back; parcel rerouted.")
            page.get_by_role("button", name="Mark done").click()
            expect(page.locator(".meta .status")).to_contain_text("done by you")
            expect(page.locator("ul.history")).to_contain_text("ann · done")
            page.screenshot(path=str(OUTPUT / "agent-message.png"), full_page=True)
        finally:
            browser.close()
    assert (OUTPUT / "agent-queue.png").stat().st_size > 10_000
    assert (OUTPUT / "agent-message.png").stat().st_size > 10_000


@pytest.mark.parametrize("width", [390, 1280])
def test_the_queue_works_on_a_phone_and_a_desk(site: tuple[Flask, str], width: int) -> None:
    """Search by name, pages, take over, every agent page without sideways scrolling; screenshots."""
    from playwright.sync_api import expect, sync_playwright

    from tests.helpers import api_token, bearer, left

    app, base = site
    runner = app.test_cli_runner()
    assert runner.invoke(args=["agents", "create", "bob"], input=PASSWORD + "\n").exit_code == 0
    assert (
        runner.invoke(args=["agents", "create", "carol", "--role", "supervisor"], input=PASSWORD + "\n").exit_code == 0
    )
    for scenario in ("message_out_of_hours.yaml", "message_after_failures.yaml"):
        outcome = run(load(ROOT / "tests" / "scenarios" / scenario), FlaskTransport(app, TOKEN))
        assert outcome.ok, outcome.report()
    long_words = "my parcel " + "extraordinarily-long-unbroken-words-" * 6 + " never came"
    held = left(app, "+15550100003", long_words, minutes_ago=5)
    for n in range(55):
        left(app, "+15550100001", f"question number {n} about my invoice", minutes_ago=300 - n)
    client = app.test_client()
    assert client.post(f"/agent/api/messages/{held}/claim", headers=bearer(api_token(app, "bob"))).status_code == 200
    with app.app_context(), get_db().transaction() as session:  # callers who spoke Finnish and Latvian
        session.execute(update(Message).where(Message.id == held).values(language="fi-FI"))
        session.execute(update(Message).where(Message.id == 1).values(language="lv-LV"))
    OUTPUT.mkdir(exist_ok=True)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": width, "height": 844 if width < 500 else 800})
            page.goto(base + "/agent/")
            no_sideways_scroll(page)
            page.get_by_label("Name").fill("ann")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            expect(page.locator(".found")).to_contain_text("58 messages in open · page 1 of 2")
            assert page.title().startswith("(57 new) Queue")
            no_sideways_scroll(page)
            expect(page.locator("table.queue tbody")).to_contain_text("Latvian")
            page.screenshot(path=str(OUTPUT / f"agent-queue-{width}.png"), full_page=True)
            page.get_by_role("navigation", name="Caller's language").get_by_role("link", name="Finnish").click()
            expect(page.locator(".found")).to_contain_text("1 message in open, left in Finnish")
            expect(page.locator("table.queue tbody tr")).to_have_count(1)
            no_sideways_scroll(page)
            page.screenshot(path=str(OUTPUT / f"agent-language-{width}.png"), full_page=True)
            page.get_by_role("link", name="every language").click()  # the filter stays with a search until then
            expect(page.locator(".found")).to_contain_text("58 messages in open · page 1 of 2")

            page.get_by_label("Search messages").fill("Lovelace")
            page.get_by_label("Search messages").press("Enter")
            expect(page.locator(".found")).to_contain_text("56 messages match “Lovelace” in open · page 1 of 2")
            no_sideways_scroll(page)
            page.get_by_role("link", name="Next →").click()
            expect(page.locator(".pages")).to_contain_text("Page 2 of 2 (56 messages)")
            no_sideways_scroll(page)
            page.screenshot(path=str(OUTPUT / f"agent-search-{width}.png"), full_page=True)

            page.goto(base + "/agent/?q=Turing")
            expect(page.locator(".found")).to_contain_text("1 message matches “Turing” in open")
            page.locator("tbody tr").first.get_by_role("link").click()
            expect(page.get_by_role("button", name="Take over from bob")).to_be_visible()
            expect(page.locator(".meta")).to_contain_text("in Finnish")
            expect(page.get_by_role("button", name="Mark done")).to_have_count(0)
            no_sideways_scroll(page)
            page.get_by_role("button", name="Take over from bob").click()
            expect(page.get_by_text("You have taken this message over")).to_be_visible()
            expect(page.locator("ul.history")).to_contain_text("took over (from bob)")
            no_sideways_scroll(page)
            page.screenshot(path=str(OUTPUT / f"agent-message-{width}.png"), full_page=True)

            page.goto(base + "/agent/team")
            expect(page.get_by_role("heading", name="Not for you")).to_be_visible()
            no_sideways_scroll(page)
            boss = browser.new_page(viewport={"width": width, "height": 844 if width < 500 else 800})
            boss.goto(base + "/agent/login")
            boss.get_by_label("Name").fill("carol")
            boss.get_by_label("Password").fill(PASSWORD)
            boss.get_by_role("button", name="Log in").click()
            boss.get_by_role("link", name="Team").click()
            expect(boss.locator("table.team")).to_contain_text("ann")
            expect(boss.locator("table.team")).to_contain_text("1 in progress")
            no_sideways_scroll(boss)
            boss.screenshot(path=str(OUTPUT / f"agent-team-{width}.png"), full_page=True)
            if shutil.which("dot"):  # the call flows, a diagram per branch (Debian's graphviz draws them)
                boss.get_by_role("link", name="Call flows").click()
                expect(boss.get_by_role("heading", name="orders")).to_be_visible()
                for image in boss.locator("section.flow img").all():
                    image.scroll_into_view_if_needed()
                    expect(image).to_have_js_property("complete", True)
                    assert image.evaluate("i => i.naturalWidth > 0 && i.clientWidth <= i.parentElement.clientWidth")
                no_sideways_scroll(boss)
                boss.screenshot(path=str(OUTPUT / f"agent-flows-{width}.png"), full_page=True)
        finally:
            browser.close()
    for name in ("queue", "language", "search", "message", "team"):
        assert (OUTPUT / f"agent-{name}-{width}.png").stat().st_size > 10_000


@pytest.mark.parametrize("width", [1280, 390])
def test_the_queue_updates_without_losing_what_the_agent_types(site: tuple[Flask, str], width: int) -> None:
    """A search half typed when the queue changes keeps its text and its focus; the new message is
    announced (the title, a polite live region), not pushed into the list, until the agent asks."""
    import re

    from playwright.sync_api import expect

    from tests.helpers import browser_page, left

    app, base = site
    app.config["LIVE_SECONDS"] = 1
    left(app, "+15550100001", "my parcel has not come")
    with browser_page(width) as page:
        page.goto(base + "/agent/")
        page.get_by_label("Name").fill("ann")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        rows = page.locator("table.queue tbody tr[data-id]")
        expect(rows).to_have_count(1)
        search = page.get_by_label("Search messages")
        search.click()
        search.type("Lovel")
        left(app, "+15550100002", "I would like a refund")  # meanwhile, a new message
        expect(page.locator("#news")).to_contain_text("1 new message", timeout=10_000)
        expect(page).to_have_title(re.compile(r"^\(2 new\) Queue"))
        expect(page.locator("[data-live=counts]")).to_contain_text("2 new")
        assert search.input_value() == "Lovel"
        assert page.evaluate("document.activeElement.getAttribute('name')") == "q"
        expect(rows).to_have_count(1)  # not pushed into view
        page.screenshot(path=str(OUTPUT / f"agent-queue-live-{width}.png"), full_page=True)
        no_sideways_scroll(page)
        page.get_by_role("button", name="Show them").click()
        expect(rows).to_have_count(2)
        expect(page.locator("#news")).to_be_empty()
        assert search.input_value() == "Lovel"


def test_a_message_page_shows_a_colleagues_note_while_one_is_typed(site: tuple[Flask, str]) -> None:
    from playwright.sync_api import expect

    from tests.helpers import api_token, bearer, browser_page, left

    app, base = site
    app.config["LIVE_SECONDS"] = 1
    message_id = left(app, "+15550100001", "my parcel has not come")
    app.test_cli_runner().invoke(args=["agents", "create", "bob"], input=PASSWORD + "\n")
    with browser_page(1280) as page:
        page.goto(base + f"/agent/messages/{message_id}")
        page.get_by_label("Name").fill("ann")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        note = page.get_by_label("Add a note")
        note.click()
        note.type("Rang her at noon,")
        bob = app.test_client().post(f"/agent/api/messages/{message_id}/note", json={"text": "She rang again.\nAsked for a refund."},
                                     headers=bearer(api_token(app, "bob")))  # fmt: skip
        assert bob.status_code == 200
        expect(page.locator("ul.notes")).to_contain_text("She rang again.", timeout=10_000)
        # The note keeps its lines.
        assert "She rang again.\nAsked for a refund." in page.locator("ul.notes li p").last.inner_text()
        expect(page.locator("ul.history")).to_contain_text("bob · note")
        assert note.input_value() == "Rang her at noon,"
        assert page.evaluate("document.activeElement.getAttribute('name')") == "text"


def test_the_search_forgives_accents_starts_and_numbers(site: tuple[Flask, str]) -> None:
    from playwright.sync_api import expect

    from ivr.models import Customer
    from tests.helpers import browser_page, left

    app, base = site
    with app.app_context(), get_db().transaction() as session:
        session.add(Customer(name="Aino Mäkinen", phone="+358401234567", account_number="FI-1", pin_hash="x"))
    aino = left(app, "+358401234567", "soitan tilauksesta")
    ada = left(app, "+15550100001", "where is my parcel", collected={"order_number": "5001"})
    left(app, "+15550100002", "please send the invoice again")
    with browser_page(390) as page:
        page.goto(base + "/agent/")
        page.get_by_label("Name").fill("ann")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        for typed, meant in (("Makinen", aino), ("Lovel", ada), ("order 5001", ada), ("0001", ada)):
            search = page.get_by_label("Search messages")
            search.fill(typed)
            search.press("Enter")
            expect(page.locator(".found")).to_contain_text(f"1 message matches “{typed}”")
            expect(page.locator("table.queue tbody tr[data-id]")).to_have_attribute("data-id", str(meant))
        page.screenshot(path=str(OUTPUT / "agent-search-390.png"), full_page=True)


@pytest.mark.parametrize("width", [1280, 390])
def test_done_on_an_unclaimed_message_asks_first(site: tuple[Flask, str], width: int) -> None:
    from playwright.sync_api import expect

    from tests.helpers import browser_page, left

    app, base = site
    first = left(app, "+15550100001", "my parcel has not come")
    second = left(app, "+15550100002", "please send the invoice again")
    with browser_page(width) as page:
        page.goto(base + f"/agent/messages/{first}")
        page.get_by_label("Name").fill("ann")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("button", name="Mark done").click()
        expect(page.get_by_role("alert")).to_contain_text("Mark done without reading?")
        page.screenshot(path=str(OUTPUT / f"agent-done-asks-{width}.png"), full_page=True)
        no_sideways_scroll(page)
        page.get_by_role("button", name="Mark done anyway").click()
        expect(page.get_by_text("Marked done.")).to_be_visible()
        page.get_by_role("link", name="Next message").click()
        expect(page.get_by_role("heading", name="Message from (555) 010-0002")).to_be_visible()
        assert page.url.endswith(f"/agent/messages/{second}")


@pytest.mark.parametrize("width", [1280, 390])
def test_a_stale_claim_shows_on_the_queue_and_the_team_page(site: tuple[Flask, str], width: int) -> None:
    import datetime as dt

    from playwright.sync_api import expect

    from tests.helpers import api_token, bearer, browser_page, left, supervisor

    app, base = site
    message_id = left(app, "+15550100001", "my parcel has not come")
    assert (
        app.test_client().post(f"/agent/api/messages/{message_id}/claim", headers=bearer(api_token(app))).status_code
        == 200
    )
    with app.app_context(), get_db().transaction() as session:
        session.execute(update(Message).where(Message.id == message_id)
                        .values(touched_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=30)))  # fmt: skip
    supervisor(app)
    with browser_page(width) as page:
        page.goto(base + "/agent/team")
        page.get_by_label("Name").fill("carol")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.locator("table.team")).to_contain_text("stale")
        page.screenshot(path=str(OUTPUT / f"agent-team-stale-{width}.png"), full_page=True)
        no_sideways_scroll(page)
        page.get_by_role("link", name="ann", exact=True).click()  # the team page leads to what ann holds
        expect(page.locator(".found")).to_contain_text("held by ann")
        row = page.locator(f"table.queue tbody tr[data-id='{message_id}']")
        expect(row).to_contain_text("untouched since")
        page.screenshot(path=str(OUTPUT / f"agent-queue-stale-{width}.png"), full_page=True)
