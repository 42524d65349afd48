"""The help centre in a real browser (Debian's Chromium, driven by Playwright) at a phone's width and
a desk's: a search with an answer, with options, with none; every help-centre page checked by axe-core for
serious or critical accessibility problems. Screenshots go to test-output/ for a person to look at."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from werkzeug.serving import make_server

from tests.conftest import free_port, make_app
from tests.helpers import AXE, CHROMIUM, OUTPUT, PASSWORD, Inbox, no_sideways_scroll, serious_problems, supervisor

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="no /usr/bin/chromium: apt-get install chromium (make test does it as root)"
    ),
    pytest.mark.skipif(not AXE.exists(), reason="no axe-core: `make axe` (npm ci in tests/browser; make test does it)"),
]


@pytest.fixture
def help_site(tmp_path: Path, template_db: Path) -> Iterator[tuple[str, Inbox]]:
    """The line served over HTTP, with a real (local) SMTP server, aiosmtpd's, for the team's answers."""
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    app = make_app(tmp_path, template_db, LANGUAGES="en-US,fi-FI,lv-LV", CLOCK="2026-11-24T10:00:00-05:00",
                   SECRET_KEY="help-browser", SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port, SMTP_STARTTLS=False,
                   MAIL_FROM="help@northwind.example")  # fmt: skip
    supervisor(app)
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", inbox
    finally:
        server.shutdown()
        smtp.stop()
        app.extensions["ivr.db"].engine.dispose()


@pytest.mark.parametrize("width", [390, 1280])
def test_a_visitor_searches_and_reads_answers_at_a_phones_width_and_a_desks(
    help_site: tuple[str, Inbox], width: int
) -> None:
    from playwright.sync_api import expect, sync_playwright

    help_site, inbox = help_site  # type: ignore[assignment]
    OUTPUT.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            # axe runs as a script the page's policy would refuse: the test's browser lets it in.
            context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True, locale="en-US")
            page = context.new_page()
            page.goto(help_site + "/help/")
            expect(page.get_by_role("heading", name="How can we help?")).to_be_visible()
            checked = [page.url]
            problems = serious_problems(page)
            page.screenshot(path=str(OUTPUT / f"help-home-{width}.png"), full_page=True)

            page.get_by_label("Your question").press_sequentially("how much is deliv", delay=20)
            expect(page.locator("#suggestions")).to_contain_text("Delivery costs")  # as they type
            for asked, heading, name in [
                ("how do I return an item", "Returning an item", "answer"),
                ("delivery", "Did you mean one of these?", "options"),
                ("do you sell gift cards", "We have no answer to that", "none"),
            ]:
                page.get_by_label("Your question").fill(asked)
                page.get_by_role("button", name="Search").click()
                expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
                no_sideways_scroll(page)
                problems += serious_problems(page)
                checked.append(page.url)
                page.screenshot(path=str(OUTPUT / f"help-{name}-{width}.png"), full_page=True)

            page.get_by_role("link", name="Delivery", exact=True).click()  # a topic, from "no answer"
            expect(page.get_by_role("heading", level=1)).to_have_text("Delivery")
            page.get_by_role("link", name="How much does delivery cost?").click()
            expect(page.locator("article")).to_contain_text("Standard delivery costs 4 dollars 99")
            problems += serious_problems(page)
            page.get_by_role("button", name="No").click()  # "Was this helpful?", then why not
            page.get_by_role("button", name="Not clear").click()
            expect(page.locator("#helpful")).to_contain_text("Thank you for telling us.")
            problems += serious_problems(page)
            page.screenshot(path=str(OUTPUT / f"help-article-voted-{width}.png"), full_page=True)
            page.get_by_role("link", name="suomi").click()
            expect(page.locator("html")).to_have_attribute("lang", "fi-FI")
            expect(page.locator("article")).to_contain_text("Tavallinen toimitus maksaa 4 dollaria 99 senttiä")
            page.goto(help_site + "/help/")  # remembered
            expect(page.get_by_role("heading", name="Miten voimme auttaa?")).to_be_visible()
            no_sideways_scroll(page)
            problems += serious_problems(page)
            page.screenshot(path=str(OUTPUT / f"help-home-fi-{width}.png"), full_page=True)
            assert not problems, "\n".join(problems)

            page.keyboard.press("Tab")  # the first stop is the skip link, then the page
            assert page.evaluate("document.activeElement.className") == "skip"

            # A question with no answer sent to the team, then the supervisor's insights count it all.
            page.goto(help_site + "/help/search?lang=en-US&q=do+you+sell+gift+cards")
            page.get_by_label("E-mail").fill("ada@example.com")
            page.get_by_role("button", name="Send").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
            desk = context.new_page()
            desk.goto(help_site + "/agent/login")
            desk.get_by_label("Name").fill("carol")
            desk.get_by_label("Password").fill(PASSWORD)
            desk.get_by_role("button", name="Log in").click()
            expect(desk.locator(".queue")).to_contain_text("do you sell gift cards")
            row = desk.locator("table.queue tbody tr").filter(has_text="ada@example.com")
            expect(row).to_contain_text("online")
            row.locator("a").first.click()
            expect(desk.get_by_role("heading", level=1)).to_have_text("Written message from ada@example.com")
            desk.get_by_label("Answer by e-mail to ada@example.com").fill("We do: ask at any store.")
            desk.get_by_role("button", name="Send the answer").click()
            expect(desk.locator(".flash")).to_contain_text("Your answer was sent to ada@example.com.")
            assert len(inbox.mails) == 1 and b"We do: ask at any store." in inbox.mails[0]
            desk.screenshot(path=str(OUTPUT / f"help-answered-{width}.png"), full_page=True)
            desk.goto(help_site + "/agent/insights?from=2026-11-24&to=2026-11-24")
            card = desk.locator("#web")
            expect(card).to_contain_text("0 helpful · 1 not (not clear 1)")
            expect(card).to_contain_text("1 messages sent")
            desk.screenshot(path=str(OUTPUT / f"help-insights-{width}.png"), full_page=True)

        finally:
            browser.close()
