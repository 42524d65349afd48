"""Claims with rules: only the holder closes or calls back; anyone may take over (written in the
history) or add a note; an untouched claim shows as stale. Every API answer is JSON, with zoned times."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy import update

from ivr.db import get_db
from ivr.models import Message
from tests.helpers import FakeTwilio, api_token, app, bearer, csrf, leave_message, login, supervisor  # noqa: F401

__all__ = ["app"]


def post(client, message_id: int, action: str, headers: dict[str, str], **json):  # type: ignore[no-untyped-def]
    return client.post(f"/agent/api/messages/{message_id}/{action}", headers=headers, json=json or None)


def test_only_the_holder_closes_or_calls_back_and_a_take_over_is_written_down(app: Flask) -> None:
    app.config["TWILIO_ACCOUNT_SID"] = "AC" + "1" * 32
    app.extensions["ivr.twilio_http"] = FakeTwilio()
    message_id = leave_message(app)
    client, ann, bob = app.test_client(), bearer(api_token(app)), bearer(api_token(app, "bob"))
    assert post(client, message_id, "claim", ann).status_code == 200
    for action in ("done", "call"):
        refused = post(client, message_id, action, bob)
        assert refused.status_code == 409, action
        assert refused.get_json()["error"].startswith(f"ann holds message {message_id}: take it over first")
    note = post(client, message_id, "note", bob, text="ann is off today; I'll take it")
    assert note.status_code == 200  # notes stay open to all
    taken = post(client, message_id, "take_over", bob)
    assert taken.status_code == 200 and taken.get_json()["assignee"] == "bob"
    assert post(client, message_id, "take_over", bob).get_json()["error"] == f"Message {message_id} is already yours."
    assert post(client, message_id, "done", ann).status_code == 409  # now ann is the one who must take over
    done = post(client, message_id, "done", bob)
    assert done.status_code == 200 and done.get_json()["status"] == "done"
    assert post(client, message_id, "take_over", ann).status_code == 409  # nothing to take over
    reopened = post(client, message_id, "reopen", ann)  # a closed message is anyone's to reopen
    assert reopened.status_code == 200 and reopened.get_json()["assignee"] == "ann"
    history = [(h["agent"], h["action"], h["detail"]) for h in reopened.get_json()["history"]]
    assert history[-5:] == [("ann", "claimed", ""), ("bob", "note", ""), ("bob", "took over", "from ann"),
                            ("bob", "done", ""), ("ann", "reopened", "")]  # fmt: skip


def test_calling_back_a_new_message_claims_it(app: Flask) -> None:
    app.config["TWILIO_ACCOUNT_SID"] = "AC" + "1" * 32
    app.extensions["ivr.twilio_http"] = FakeTwilio()
    message_id = leave_message(app)
    client, ann, bob = app.test_client(), bearer(api_token(app)), bearer(api_token(app, "bob"))
    called = post(client, message_id, "call", ann)
    assert called.status_code == 200 and called.get_json()["assignee"] == "ann"
    assert [h["action"] for h in called.get_json()["history"]][-2:] == ["claimed", "called back"]
    assert post(client, message_id, "call", bob).status_code == 409


def test_the_message_page_offers_what_the_agent_may_do(app: Flask) -> None:
    message_id = leave_message(app)
    ann, bob = login(app), login(app, "bob")
    page = f"/agent/messages/{message_id}"
    ann.post(f"{page}/claim", data={"csrf_token": csrf(ann, page)})
    seen = bob.get(page).get_data(as_text=True)
    assert "Take over from ann" in seen and "Mark done" not in seen
    refused = bob.post(f"{page}/done", data={"csrf_token": csrf(bob, page)}, follow_redirects=True)
    assert f"ann holds message {message_id}: take it over first" in refused.get_data(as_text=True)
    taken = bob.post(f"{page}/take_over", data={"csrf_token": csrf(bob, page)}, follow_redirects=True)
    text = taken.get_data(as_text=True)
    assert "You have taken this message over" in text and "took over (from ann)" in text and "Mark done" in text
    assert "in progress, you" in text


def test_a_claim_nobody_touches_shows_as_stale(app: Flask) -> None:
    message_id = leave_message(app)
    client, ann = app.test_client(), bearer(api_token(app))
    post(client, message_id, "claim", ann)
    bob = login(app, "bob")
    assert "untouched" not in bob.get(f"/agent/messages/{message_id}").get_data(as_text=True)
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=30)
    with app.app_context(), get_db().transaction() as session:
        session.execute(update(Message).where(Message.id == message_id).values(touched_at=long_ago))
    # What the system does to the message since (a transcript arriving) is no agent's touch.
    with app.app_context(), get_db().transaction() as session:
        session.get(Message, message_id).transcript = "I would like a refund"  # type: ignore[union-attr]
    assert "untouched for 30 h" in bob.get(f"/agent/messages/{message_id}").get_data(as_text=True)
    assert "untouched since" in bob.get("/agent/?show=in_progress").get_data(as_text=True)
    touched = client.get(f"/agent/api/messages/{message_id}", headers=ann).get_json()
    assert dt.datetime.fromisoformat(touched["touched_at"]) < dt.datetime.fromisoformat(touched["changed_at"])
    supervisor(app)
    team = login(app, "carol").get("/agent/team").get_data(as_text=True)
    assert "stale" in team and 'href="/agent/?show=in_progress&amp;held_by=ann"' in team
    app.config["CLAIM_STALE_HOURS"] = 48
    assert "untouched" not in bob.get(f"/agent/messages/{message_id}").get_data(as_text=True)
    app.config["CLAIM_STALE_HOURS"] = 24
    post(client, message_id, "note", ann, text="still on it")  # a note touches the claim
    assert "untouched" not in bob.get(f"/agent/messages/{message_id}").get_data(as_text=True)
    assert "stale" not in login(app, "carol").get("/agent/team").get_data(as_text=True)


def test_the_queue_lists_one_agents_messages(app: Flask) -> None:
    mine, bobs, nobodys = leave_message(app), leave_message(app), leave_message(app)
    client, ann, bob = app.test_client(), bearer(api_token(app)), bearer(api_token(app, "bob"))
    post(client, mine, "claim", ann)
    post(client, bobs, "claim", bob)
    page = login(app, "bob").get("/agent/?show=all&held_by=ann").get_data(as_text=True)
    assert f"/agent/messages/{mine}" in page and "held by ann" in page
    assert f"/agent/messages/{bobs}" not in page and f"/agent/messages/{nobodys}" not in page
    assert "<option selected>ann</option>" in page
    anyone = login(app, "bob").get("/agent/?show=all&held_by=<b>nobody</b>").get_data(as_text=True)
    assert all(f"/agent/messages/{m}" in anyone for m in (mine, bobs, nobodys)) and "<b>nobody" not in anyone


def test_every_api_answer_is_json_with_zoned_times(app: Flask) -> None:
    message_id = leave_message(app)
    client, ann = app.test_client(), bearer(api_token(app))
    for method, path, status in (("GET", "/agent/api/nothing", 404), ("POST", f"/agent/api/messages/{message_id}/fly", 404),
                                 ("GET", f"/agent/api/messages/{message_id}/claim", 404),
                                 ("GET", "/agent/api/messages/abc", 404), ("GET", "/agent/api/messages?show=odd", 400),
                                 ("DELETE", "/agent/api/messages", 404)):  # fmt: skip
        reply = client.open(path, method=method, headers=ann)
        assert reply.status_code == status and reply.is_json and reply.get_json()["error"], (method, path)
    assert client.get("/agent/api/nothing").get_json()["error"].startswith("log in first")
    cookie = login(app)
    forged = cookie.post(f"/agent/api/messages/{message_id}/claim")
    assert forged.status_code == 400 and "X-CSRFToken" in forged.get_json()["error"]
    one = client.get(f"/agent/api/messages/{message_id}", headers=ann).get_json()
    post(client, message_id, "note", ann, text="zoned")
    one = client.get(f"/agent/api/messages/{message_id}", headers=ann).get_json()
    for moment in (one["created_at"], one["touched_at"], one["notes"][0]["at"], one["history"][0]["at"]):
        assert dt.datetime.fromisoformat(moment).utcoffset() == dt.timedelta(0), moment
    listing = client.get("/agent/api/messages", headers=ann).get_json()
    assert dt.datetime.fromisoformat(listing["oldest_waiting_since"]).utcoffset() == dt.timedelta(0)


def test_an_unexpected_failure_in_the_api_is_json(app: Flask, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from ivr.agents import queue

    message_id = leave_message(app)
    monkeypatch.setattr(queue, "listing", lambda *a, **k: 1 / 0)
    reply = app.test_client().get("/agent/api/messages", headers=bearer(api_token(app)))
    assert reply.status_code == 500 and "nothing was changed" in reply.get_json()["error"]
    assert message_id


def test_the_desks_pages_answer_not_modified_until_something_changes(app: Flask) -> None:
    """What static/live.js asks every IVR_LIVE_SECONDS: the page, or 304 while nothing changed."""
    message_id = leave_message(app)
    ann = login(app)
    live = {"X-Requested-With": "live"}
    for path in ("/agent/", f"/agent/messages/{message_id}"):
        first = ann.get(path)
        page = first.get_data(as_text=True)
        assert first.status_code == 200 and first.headers["ETag"] and 'http-equiv="refresh"' not in page
        assert f'data-live-etag="&quot;{first.headers["ETag"].strip(chr(34))}&quot;"' in page and "live.js" in page
        again = ann.get(path, headers={"If-None-Match": first.headers["ETag"], **live})
        assert again.status_code == 304 and again.get_data() == b""
        other = path + ("&" if "?" in path else "?") + "show=all"
        assert ann.get(other, headers={"If-None-Match": first.headers["ETag"], **live}).status_code == 200
        # A person opening the page gets it whole (with what was flashed to them), never a 304.
        assert ann.get(path, headers={"If-None-Match": first.headers["ETag"]}).status_code == 200
    etag = ann.get("/agent/").headers["ETag"]
    leave_message(app)  # a new message: the queue has changed
    assert ann.get("/agent/", headers={"If-None-Match": etag, **live}).status_code == 200
    assert login(app, "bob").get("/agent/", headers={"If-None-Match": etag, **live}).status_code == 200  # another's


def test_a_live_update_never_takes_what_was_meant_for_the_next_page(app: Flask) -> None:
    """A note refused (empty after trimming) is kept with its error for the page the agent opens
    next; a live update of any page in between takes neither."""
    first, second = leave_message(app), leave_message(app)
    ann = login(app)
    page = f"/agent/messages/{first}"
    ann.post(f"{page}/note", data={"csrf_token": csrf(ann, page), "text": "x" * 6000})
    seen = ann.get(f"/agent/messages/{second}", headers={"X-Requested-With": "live"}).get_data(as_text=True)
    assert "x" * 6000 not in seen and "characters long" not in seen
    shown = ann.get(page).get_data(as_text=True)
    assert "x" * 6000 in shown and "characters long" in shown
