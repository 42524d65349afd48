"""The product directory in a real browser (Debian's Chromium, driven by Playwright) at a phone's width and
a desk's, on the demo line: a Latvian search typed without its accents, a category filter, a product's
page, a Finnish order look-up wrong then right; each page checked by axe-core for serious or critical
problems. Screenshots go to test-output/."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import free_port, make_app
from tests.helpers import AXE, CHROMIUM, OUTPUT, browser_page, no_sideways_scroll, serious_problems

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="no /usr/bin/chromium: apt-get install chromium (make test does it as root)"
    ),
    pytest.mark.skipif(not AXE.exists(), reason="no axe-core: `make axe` (npm ci in tests/browser; make test does it)"),
]


@pytest.fixture
def shop(tmp_path: Path, template_db: Path) -> Iterator[str]:
    app = make_app(tmp_path, template_db, LANGUAGES="en-US,fi-FI,lv-LV", SECRET_KEY="products-browser")
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        app.extensions["ivr.db"].engine.dispose()


@pytest.mark.parametrize("width", [390, 1280])
def test_a_visitor_finds_a_product_without_typing_its_accents(shop: str, width: int) -> None:
    from playwright.sync_api import expect

    with browser_page(width, "lv-LV") as page:
        problems: list[str] = []
        page.goto(shop + "/help/?lang=lv-LV")
        page.get_by_role("link", name="Preces").click()
        expect(page.get_by_role("heading", name="Preces", exact=True)).to_be_visible()
        expect(page.get_by_role("heading", name="Atrastas preces: 40")).to_be_visible()

        # Typed on a keyboard without Latvian letters.
        page.get_by_label("Meklēt preci").fill("tejkanna")
        page.get_by_role("button", name="Meklēt").click()
        results = page.locator("ul.products li")
        expect(results).to_have_count(3)
        expect(results.first).to_contain_text("tējkanna")
        expect(page.get_by_role("heading", name="Atrastas preces: 3")).to_be_visible()
        expect(page.get_by_text("Vairs netiek pārdota")).to_be_visible()  # the stovetop kettle
        problems += serious_problems(page)
        no_sideways_scroll(page)
        page.screenshot(path=str(OUTPUT / f"products-search-lv-{width}.png"), full_page=True)

        # A category, its count beside it, with the search kept.
        page.get_by_label("Meklēt preci").fill("")
        page.get_by_role("button", name="Meklēt").click()
        kitchen = page.get_by_role("navigation", name="Kategorijas").get_by_role("link", name="Virtuve")
        expect(page.locator("nav.categories li").filter(has_text="Virtuve")).to_contain_text("6")
        kitchen.click()
        expect(page.locator("ul.products li")).to_have_count(6)
        expect(kitchen).to_have_attribute("aria-current", "page")
        problems += serious_problems(page)
        no_sideways_scroll(page)
        page.screenshot(path=str(OUTPUT / f"products-category-lv-{width}.png"), full_page=True)

        # A product's page: its price in the visitor's way of writing money, and whether it can be had.
        page.get_by_role("link", name="Stikla tējkanna").click()
        expect(page.get_by_role("heading", name="Stikla tējkanna")).to_be_visible()
        expect(page.locator(".product .price")).to_contain_text("49,00")
        expect(page.locator(".product .stock")).to_have_text("Ir noliktavā")
        problems += serious_problems(page)
        no_sideways_scroll(page)
        page.screenshot(path=str(OUTPUT / f"product-lv-{width}.png"), full_page=True)

        # The same in English, by the language link.
        page.get_by_role("link", name="English").click()
        expect(page.get_by_role("heading", name="Glass kettle")).to_be_visible()
        expect(page.locator(".product .price")).to_have_text("$49.00")
        assert problems == []


@pytest.mark.parametrize("width", [390, 1280])
def test_a_visitor_looks_up_an_order_wrong_then_right(shop: str, width: int) -> None:
    from playwright.sync_api import expect

    with browser_page(width, "fi-FI") as page:
        page.goto(shop + "/help/?lang=fi-FI")
        page.get_by_role("link", name="Missä tilaukseni on?").click()
        page.get_by_label("Tilausnumero").fill("5001")
        page.get_by_label("Puhelinnumeron neljä viimeistä numeroa tai postinumero").fill("1234")
        page.get_by_role("button", name="Näytä tila").click()
        expect(page.get_by_role("alert")).to_contain_text("Emme löytäneet tilausta")
        expect(page.get_by_label("Tilausnumero")).to_have_value("5001")  # the number kept, the digits not
        expect(page.get_by_label("Puhelinnumeron neljä viimeistä numeroa tai postinumero")).to_have_value("")
        problems = serious_problems(page)
        no_sideways_scroll(page)
        page.screenshot(path=str(OUTPUT / f"order-wrong-fi-{width}.png"), full_page=True)

        page.get_by_label("Puhelinnumeron neljä viimeistä numeroa tai postinumero").fill("0001")
        page.get_by_role("button", name="Näytä tila").click()
        expect(page.get_by_role("heading", name="Tilaus 5001")).to_be_visible()
        expect(page.get_by_role("status")).to_contain_text("UPS")
        problems += serious_problems(page)
        no_sideways_scroll(page)
        page.screenshot(path=str(OUTPUT / f"order-right-fi-{width}.png"), full_page=True)
        assert problems == []
