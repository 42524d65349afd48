"""The queue's search: people, accounts, numbers in any format, order numbers said, transcript words;
ranked by the database's full-text index; wildcards literal; counts and pages that combine with it."""

from __future__ import annotations

from flask import Flask

from tests.helpers import app, bearer, check_search, found, ids, leave_message, left, login, token_of  # noqa: F401

__all__ = ["app"]


def test_search_finds_people_numbers_orders_and_words(app: Flask) -> None:
    check_search(app)


def test_counts_and_pages_combine_with_the_search(app: Flask) -> None:
    for n in range(120):
        left(app, "+15550100003" if n % 2 else "+15550100009", f"parcel number {n}", minutes_ago=200 - n)
    reply = found(app, "", show="open")
    assert reply["total"] == 120 and reply["pages"] == 3 and len(reply["messages"]) == 50
    assert len(found(app, "", "open", 3)["messages"]) == 20 and found(app, "", "open", 99)["page"] == 3
    turing = found(app, "turing", show="open")
    assert turing["total"] == 60 and turing["counts"]["open"] == 60 and turing["counts"]["all"] == 60
    every = ids(found(app, "turing", "open", 1)) + ids(found(app, "turing", "open", 2))
    assert len(set(every)) == 60  # no message twice, none left out
    # Claimed ones leave "new" for "in progress" in the search's counts too.
    client, token = app.test_client(), bearer(token_of(app))
    for message_id in every[:5]:
        assert client.post(f"/agent/api/messages/{message_id}/claim", headers=token).status_code == 200
    counts = found(app, "turing", "open")["counts"]
    assert (counts["new"], counts["in_progress"], counts["mine"]) == (55, 5, 5)


def test_the_queue_page_says_what_was_searched_and_pages(app: Flask) -> None:
    for n in range(60):
        left(app, "+15550100001", f"question {n}", minutes_ago=100 - n)
    ann = login(app)
    first = ann.get("/agent/?q=lovelace").get_data(as_text=True)
    assert "60 messages match “lovelace” in open" in first and "page 1 of 2" in first and 'rel="next"' in first
    second = ann.get("/agent/?q=lovelace&page=2").get_data(as_text=True)
    assert 'rel="prev"' in second and 'rel="next"' not in second and second.count('data-label="Left"') == 10
    nothing = ann.get("/agent/?q=%25").get_data(as_text=True)
    assert "No messages match “%” in open." in nothing and "Search all messages" in nothing
    assert "(60 new) Queue" in first  # the title counts what waits, whatever the search


def test_a_message_left_by_a_call_is_found_by_its_caller(app: Flask) -> None:
    message_id = leave_message(app)  # +15550100001: Ada, by caller ID
    assert ids(found(app, "Ada Lovelace")) == [message_id]


def test_the_tab_shows_how_many_new_messages_wait(app: Flask) -> None:
    from urllib.parse import unquote

    ann = login(app)
    import re

    def icon() -> str:
        page = ann.get("/agent/").get_data(as_text=True)
        return unquote(re.search(r'rel="icon" href="data:image/svg\+xml,([^"]+)"', page).group(1))  # type: ignore[union-attr]

    assert "✉" in icon() and "#1f3a5f" in icon()
    for n in range(3):
        left(app, "+15550100001", f"hello {n}")
    assert ">3</text>" in icon() and "#cf222e" in icon()
