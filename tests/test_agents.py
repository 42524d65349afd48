"""The agents' queue: logins, CSRF, claiming, notes, done and reopen, call back, the JSON API."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from ivr.db import get_db
from ivr.models import Agent, Message
from ivr.worker import Worker
from tests.conftest import TOKEN
from tests.helpers import PASSWORD, FakeTwilio, api_token, app, bearer, csrf, leave_message, login, supervisor

__all__ = ["app"]


def test_passwords_are_hashed_and_agents_are_listed(app: Flask) -> None:
    with app.app_context(), get_db().reading() as session:
        ann = session.scalar(select(Agent).where(Agent.name == "ann"))
        assert ann is not None and PASSWORD not in ann.password_hash and ann.password_hash.startswith("scrypt:")
    listed = app.test_cli_runner().invoke(args=["agents", "list"]).output
    assert "ann" in listed and "+15550100777" in listed and "bob" in listed
    short = app.test_cli_runner().invoke(args=["agents", "create", "eve"], input="short\n")
    assert short.exit_code != 0 and "at least 8 characters" in short.output


def test_every_agent_url_refuses_anyone_not_logged_in(app: Flask) -> None:
    message_id = leave_message(app)
    client = app.test_client()
    for path in ("/agent/", f"/agent/messages/{message_id}", "/agent/?show=done"):
        reply = client.get(path)
        assert reply.status_code == 302 and "/agent/login" in reply.headers["Location"]
    for path in (f"/agent/messages/{message_id}/audio", "/agent/api/messages", f"/agent/api/messages/{message_id}"):
        assert client.get(path).status_code == 401
    for action in ("claim", "note", "done", "reopen", "call"):
        assert client.post(f"/agent/api/messages/{message_id}/{action}").status_code in (400, 401)
        assert client.post(f"/agent/messages/{message_id}/{action}").status_code in (302, 400)
    with app.app_context(), get_db().reading() as session:
        message = session.get(Message, message_id)
        assert message is not None and message.status == "new" and not message.notes


def test_a_wrong_password_is_refused_and_forms_need_the_csrf_token(app: Flask) -> None:
    client = app.test_client()
    token = csrf(client, "/agent/login")
    wrong = client.post("/agent/login", data={"name": "ann", "password": "nope", "csrf_token": token})
    assert wrong.status_code == 401 and "do not match" in wrong.get_data(as_text=True)
    forged = app.test_client().post("/agent/login", data={"name": "ann", "password": PASSWORD})
    assert forged.status_code == 400
    session_cookie = login(app).get_cookie("session")
    assert session_cookie is not None and session_cookie.http_only and session_cookie.same_site == "Lax"


def test_claim_note_done_reopen_with_history(app: Flask) -> None:
    message_id = leave_message(app)
    ann, bob = login(app, "ann"), login(app, "bob")
    page = f"/agent/messages/{message_id}"
    token = csrf(ann, page)
    assert "Claim" in ann.get(page).get_data(as_text=True)
    ann.post(f"{page}/claim", data={"csrf_token": token})
    refused = bob.post(f"{page}/claim", data={"csrf_token": csrf(bob, page)}, follow_redirects=True)
    assert "already in progress, with ann: take it over if you are to work on it." in refused.get_data(as_text=True)
    ann.post(f"{page}/note", data={"csrf_token": token, "text": "Called back, left a voicemail."})
    empty = ann.post(f"{page}/note", data={"csrf_token": token, "text": "   "}, follow_redirects=True)
    assert "The note is empty: type what you want to say" in empty.get_data(as_text=True)
    ann.post(f"{page}/done", data={"csrf_token": token})
    assert "(0)" in ann.get("/agent/?show=open").get_data(as_text=True) or "No messages here" in ann.get(
        "/agent/"
    ).get_data(as_text=True)
    bob.post(f"{page}/reopen", data={"csrf_token": csrf(bob, page)})
    detail = json.loads(bob.get(f"/agent/api/messages/{message_id}").get_data(as_text=True))
    assert (detail["status"], detail["assignee"]) == ("in_progress", "bob")
    assert [n["text"] for n in detail["notes"]] == ["Called back, left a voicemail."]
    assert [(h["agent"], h["action"]) for h in detail["history"]] == [
        (None, "left"), ("ann", "claimed"), ("ann", "note"), ("ann", "done"), ("bob", "reopened")]  # fmt: skip


def test_a_note_sent_from_an_expired_session_is_not_lost(app: Flask) -> None:
    message_id = leave_message(app)
    client = app.test_client()  # no session: the CSRF token cannot match
    reply = client.post(
        f"/agent/messages/{message_id}/note", data={"csrf_token": "stale", "text": "Customer wants a refund"}
    )
    body = reply.get_data(as_text=True)
    assert reply.status_code == 400 and "session has expired" in body and "Customer wants a refund" in body
    # Logging in from that page carries the note on to the message's form.
    token = re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)  # type: ignore[union-attr]
    logged = client.post("/agent/login", data={"name": "ann", "password": PASSWORD, "csrf_token": token,
                                               "next": f"/agent/messages/{message_id}", "draft": "Customer wants a refund"})  # fmt: skip
    assert logged.headers["Location"] == f"/agent/messages/{message_id}"
    assert "Customer wants a refund</textarea>" in client.get(logged.headers["Location"]).get_data(as_text=True)


def test_the_queue_filters_counts_search_and_the_oldest_wait(app: Flask) -> None:
    first = leave_message(app)
    leave_message(app, "message_hangup_during_recording.yaml")
    with app.app_context():
        Worker(get_db(), app.config).run_once()
    ann = login(app)
    page = ann.get("/agent/").get_data(as_text=True)
    assert "2</strong> new" in page and "oldest waiting" in page and "live.js" in page  # it keeps up by itself
    ann.post(f"/agent/messages/{first}/claim", data={"csrf_token": csrf(ann, "/agent/")})
    api = json.loads(ann.get("/agent/api/messages?show=mine").get_data(as_text=True))
    assert [m["id"] for m in api["messages"]] == [first] and api["counts"]["new"] == 1
    assert api["messages"][0]["customer"] == {"id": 1, "name": "Ada Lovelace", "account": "100001", "verified": False}
    word = json.loads(ann.get(f"/agent/api/messages/{first}").get_data(as_text=True))["transcript"]["text"].split()[0]
    found = json.loads(ann.get(f"/agent/api/messages?show=all&q={word}").get_data(as_text=True))["messages"]
    assert first in [m["id"] for m in found]
    assert json.loads(ann.get("/agent/api/messages?show=all&q=zzzz-nothing").get_data(as_text=True))["messages"] == []


def test_the_audio_is_served_to_agents_as_pcm_wav(app: Flask) -> None:
    message_id = leave_message(app)
    with app.app_context():
        Worker(get_db(), app.config).run_once()
    reply = login(app).get(f"/agent/messages/{message_id}/audio")
    assert reply.status_code == 200 and reply.mimetype == "audio/wav"
    data = reply.get_data()
    assert data[:4] == b"RIFF" and data[20:22] == b"\x01\x00"  # format 1: PCM


def test_click_to_call_rings_the_agent_then_the_caller(app: Flask) -> None:
    message_id = leave_message(app)
    fake = app.extensions["ivr.twilio_http"] = FakeTwilio()
    app.config["TWILIO_ACCOUNT_SID"] = "AC" + "1" * 32
    ann = login(app)
    page = f"/agent/messages/{message_id}"
    done = ann.post(f"{page}/call", data={"csrf_token": csrf(ann, page)}, follow_redirects=True)
    assert "Calling your phone (+15550100777)" in done.get_data(as_text=True)
    [sent] = fake.requests
    assert sent["method"] == "POST" and sent["url"].endswith(f"/Accounts/{'AC' + '1' * 32}/Calls.json")
    assert sent["data"]["To"] == "+15550100777" and sent["data"]["From"] == "+15550100000"
    assert "<Number>+15550100001</Number>" in sent["data"]["Twiml"] and sent["auth"] == ("AC" + "1" * 32, TOKEN)
    # Twilio refusing is a clear error for the agent, and recorded nowhere as a call back.
    app.extensions["ivr.twilio_http"] = FakeTwilio(status=400)
    refused = ann.post(f"{page}/call", data={"csrf_token": csrf(ann, page)}, follow_redirects=True)
    assert "Twilio refused the call" in refused.get_data(as_text=True)
    history = json.loads(ann.get(f"/agent/api/messages/{message_id}").get_data(as_text=True))["history"]
    assert [h["action"] for h in history].count("called back") == 1
    # ...but the attempt is in the history, with why, from the page and from the API alike.
    failed = [h for h in history if h["action"] == "click-to-call failed"]
    assert len(failed) == 1 and "Twilio refused the call" in failed[0]["detail"] and failed[0]["agent"] == "ann"
    api = app.test_client().post(f"/agent/api/messages/{message_id}/call", headers=bearer(api_token(app)))
    assert api.status_code == 502
    history = json.loads(ann.get(f"/agent/api/messages/{message_id}").get_data(as_text=True))["history"]
    assert [h["action"] for h in history].count("click-to-call failed") == 2
    # An agent without a phone gets the tel: link and is told why click-to-call is not there.
    bob_page = login(app, "bob").get(page).get_data(as_text=True)
    assert 'href="tel:+15550100001"' in bob_page and "Click-to-call needs your phone number" in bob_page
    assert "IVR_" not in bob_page and "agents phone" not in bob_page  # the server's settings are not an agent's
    app.config["TWILIO_ACCOUNT_SID"] = ""
    unset = login(app, "bob").get(page).get_data(as_text=True)
    assert "Click-to-call is not set up; call with the phone link." in unset and "IVR_" not in unset
    supervisor(app)
    told = login(app, "carol").get(page).get_data(as_text=True)
    assert "IVR_TWILIO_ACCOUNT_SID" in told  # a supervisor is told what is missing


def test_done_on_a_message_nobody_claimed_asks_first_then_offers_the_next(app: Flask) -> None:
    first, second = leave_message(app), leave_message(app)
    ann = login(app)
    page = f"/agent/messages/{first}"
    asked = ann.post(f"{page}/done", data={"csrf_token": csrf(ann, page)}, follow_redirects=True).get_data(as_text=True)
    assert "Mark done without reading?" in asked and "Mark done anyway" in asked
    assert json.loads(ann.get(f"/agent/api/messages/{first}").get_data(as_text=True))["status"] == "new"  # not yet
    done = ann.post(f"{page}/done", data={"csrf_token": csrf(ann, page), "unread": "yes"}, follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "Marked done." in text and "Mark done without reading?" not in text
    assert f'href="/agent/messages/{second}">Next message' in text
    # A claimed message closes at once.
    page = f"/agent/messages/{second}"
    ann.post(f"{page}/claim", data={"csrf_token": csrf(ann, page)})
    closed = ann.post(f"{page}/done", data={"csrf_token": csrf(ann, page)}, follow_redirects=True).get_data(
        as_text=True
    )
    assert "Marked done." in closed and "Next message" not in closed  # nothing new waits


def test_an_agents_phone_is_set_without_touching_their_password(app: Flask) -> None:
    ann = login(app)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["agents", "phone", "ann", "+15550100999"])
    assert result.exit_code == 0 and "click-to-call rings +15550100999" in result.output
    assert ann.get("/agent/").status_code == 200  # still logged in
    refused = runner.invoke(args=["agents", "phone", "ann", "5550100999"])
    assert refused.exit_code != 0 and "must be E.164" in refused.output
    assert runner.invoke(args=["agents", "phone", "nobody", "+15550100999"]).exit_code != 0
    assert "no phone" in runner.invoke(args=["agents", "phone", "ann"]).output


def basic(name: str, password: str) -> dict[str, str]:
    import base64

    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()}


def test_the_api_takes_an_agents_token_and_refuses_anything_else(app: Flask) -> None:
    message_id = leave_message(app)
    client, good = app.test_client(), bearer(api_token(app))
    for bad in (bearer("ivr_" + "A" * 43), bearer("not a token"), bearer(""), basic("ann", PASSWORD), {}):
        refused = client.get("/agent/api/messages", headers=bad)
        assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer"), bad
    claimed = client.post(f"/agent/api/messages/{message_id}/claim", headers=good)
    assert claimed.status_code == 200 and claimed.get_json()["assignee"] == "ann"
    again = client.post(f"/agent/api/messages/{message_id}/claim", headers=good)
    assert again.status_code == 409 and "already yours" in again.get_json()["error"]
    note = client.post(f"/agent/api/messages/{message_id}/note", headers=good, json={"text": "via the API"})
    assert note.status_code == 200 and note.get_json()["notes"][-1]["text"] == "via the API"
    assert client.get("/agent/api/messages/999", headers=good).status_code == 404


def test_a_token_is_shown_once_kept_only_as_a_hash_and_replaced_or_revoked(app: Flask, tmp_path: Path) -> None:
    first = api_token(app)
    assert first.startswith("ivr_") and len(first) > 40
    client = app.test_client()
    assert client.get("/agent/api/messages", headers=bearer(first)).status_code == 200
    second = api_token(app)
    assert client.get("/agent/api/messages", headers=bearer(first)).status_code == 401  # replaced
    assert client.get("/agent/api/messages", headers=bearer(second)).status_code == 200
    with app.app_context(), get_db().reading() as session:
        kept = session.scalars(select(Agent.api_token_hash)).all()
    assert second not in kept and not any(second in (k or "") for k in kept)
    for stored in tmp_path.rglob("*.sqlite3*"):
        assert second.encode() not in stored.read_bytes()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["agents", "token", "ann", "--revoke"]).exit_code == 0
    assert client.get("/agent/api/messages", headers=bearer(second)).status_code == 401
    assert "no agent named" in runner.invoke(args=["agents", "token", "nobody"]).output


def test_api_polls_compute_no_password_hash_and_an_unchanged_queue_is_not_read(app: Flask, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import ivr.agents.auth as agents
    from ivr.agents import queue

    hashed: list[str] = []
    real = agents.check_password_hash
    monkeypatch.setattr(agents, "check_password_hash", lambda h, p: hashed.append(p) or real(h, p))
    message_id = leave_message(app)
    client, ann, bob = app.test_client(), bearer(api_token(app)), bearer(api_token(app, "bob"))
    first = client.get("/agent/api/messages", headers=ann)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and [m["id"] for m in first.get_json()["messages"]] == [message_id]
    listed: list[str] = []
    real_listing = queue.listing
    monkeypatch.setattr(queue, "listing", lambda *a, **k: listed.append("read") or real_listing(*a, **k))
    for _ in range(10):
        unchanged = client.get("/agent/api/messages", headers={**ann, "If-None-Match": etag})
        assert unchanged.status_code == 304 and unchanged.data == b"" and unchanged.headers["ETag"] == etag
    assert listed == [] and hashed == []
    # Another agent's view ("mine", the counts) and another filter or search have their own ETag.
    for other in (client.get("/agent/api/messages", headers={**bob, "If-None-Match": etag}),
                  client.get("/agent/api/messages?show=all", headers={**ann, "If-None-Match": etag}),
                  client.get("/agent/api/messages?q=x", headers={**ann, "If-None-Match": etag})):  # fmt: skip
        assert other.status_code == 200 and other.headers["ETag"] != etag
    # Any change to a message (a claim, a note, a transcript) is a new version of the queue.
    assert client.post(f"/agent/api/messages/{message_id}/claim", headers=bob).status_code == 200
    changed = client.get("/agent/api/messages", headers={**ann, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.get_json()["messages"][0]["assignee"] == "bob"
    assert changed.headers["ETag"] != etag and changed.headers["Cache-Control"] == "private, no-cache"
    etag = changed.headers["ETag"]
    with app.app_context(), get_db().transaction() as session:
        message = session.get(Message, message_id)
        assert message is not None
        message.transcript = "a new transcript"
    after_worker = client.get("/agent/api/messages", headers={**ann, "If-None-Match": etag})
    assert after_worker.status_code == 200 and after_worker.get_json()["messages"][0]["transcript"]["text"] == (
        "a new transcript"
    )
    assert after_worker.get_json()["oldest_waiting_since"] is None  # claimed: nothing waits unclaimed
    assert hashed == []


def test_guessing_passwords_is_throttled_per_name(app: Flask) -> None:
    client = app.test_client()
    token = csrf(client, "/agent/login")
    for _ in range(5):
        reply = client.post("/agent/login", data={"name": "bob", "password": "guess", "csrf_token": token})
        assert "do not match" in reply.get_data(as_text=True)
    # Now even the right password waits (an integration's API token is another credential).
    refused = client.post("/agent/login", data={"name": "bob", "password": PASSWORD, "csrf_token": token})
    assert refused.status_code == 429 and "Too many failed log-ins" in refused.get_data(as_text=True)
    assert refused.headers["Retry-After"] == "30"
    login(app, "ann")  # another name is not affected
    with app.app_context(), get_db().reading() as session:
        from ivr.models import LoginAttempt

        attempts = session.scalars(select(LoginAttempt).where(LoginAttempt.name == "bob")).all()
        assert len(attempts) == 5 and not any(a.ok for a in attempts)
        assert all(PASSWORD not in (a.name + a.address) for a in attempts)


def test_a_cookie_session_needs_the_csrf_token_whatever_authorization_it_sends(app: Flask) -> None:
    message_id = leave_message(app)
    ann = login(app)
    for headers in ({}, basic("ann", PASSWORD), bearer("ivr_forged"), bearer(api_token(app))):
        for action in ("claim", "done"):
            refused = ann.post(f"/agent/api/messages/{message_id}/{action}", headers=headers)
            assert refused.status_code == 400, (headers, action, refused.get_data(as_text=True))
        note = ann.post(f"/agent/api/messages/{message_id}/note", headers=headers, json={"text": "forged"})
        assert note.status_code == 400
    with app.app_context(), get_db().reading() as session:
        message = session.get(Message, message_id)
        assert message is not None and message.status == "new" and message.assignee_id is None
        assert [n.text for n in message.notes] == []


def test_a_page_of_another_site_cannot_act_with_credentials_a_browser_keeps(app: Flask) -> None:
    """A browser may send cached Basic credentials along with a cross-site form; the API does not take
    them. A Bearer token a browser never sends on its own."""
    message_id = leave_message(app)
    client = app.test_client()
    cross = {**basic("ann", PASSWORD), "Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}
    assert client.post(f"/agent/api/messages/{message_id}/done", headers=cross).status_code in (400, 401)
    with app.app_context(), get_db().reading() as session:
        message = session.get(Message, message_id)
        assert message is not None and message.status == "new"
    api = app.test_client().post(f"/agent/api/messages/{message_id}/claim", headers=bearer(api_token(app)))
    assert api.status_code == 200  # an API client: a token and no cookie, so no CSRF token needed


def still_in(client: FlaskClient, message_id: int) -> bool:
    """Whether this browser's session still opens the queue and may post a note."""
    page = client.get("/agent/")
    if page.status_code != 200:
        return False
    note = client.post(f"/agent/messages/{message_id}/note", data={"csrf_token": csrf(client, "/agent/"), "text": "hi"})
    return note.status_code == 302 and "/login" not in note.headers.get("Location", "")


def test_log_out_ends_every_session_of_the_agent(app: Flask) -> None:
    message_id = leave_message(app)
    desk, phone, bob = login(app), login(app), login(app, "bob")
    assert still_in(desk, message_id) and still_in(phone, message_id)
    desk.post("/agent/logout", data={"csrf_token": csrf(desk, "/agent/")})
    assert not still_in(desk, message_id) and not still_in(phone, message_id)
    assert still_in(bob, message_id)  # another agent's session is not touched
    assert still_in(login(app), message_id)  # and ann may log in again


@pytest.mark.parametrize(
    "command",
    [["agents", "password", "ann"], ["agents", "create", "ann"], ["agents", "disable", "ann"]],
    ids=["password", "create again", "disable"],
)
def test_a_new_password_or_disabling_ends_every_session(app: Flask, command: list[str]) -> None:
    message_id = leave_message(app)
    ann, token = login(app), bearer(api_token(app))
    assert still_in(ann, message_id)
    result = app.test_cli_runner().invoke(args=command, input="a new password 123\n")
    assert result.exit_code == 0 and "sessions have ended" in result.output
    assert not still_in(ann, message_id)
    # The integration's token is its own credential: revoked with the agent, not with the password.
    api = app.test_client().get("/agent/api/messages", headers=token)
    assert api.status_code == (401 if command[1] == "disable" else 200)


def test_a_disabled_agent_cannot_log_in_until_enabled(app: Flask) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["agents", "disable", "ann"]).exit_code == 0
    client = app.test_client()
    refused = client.post("/agent/login", data={"name": "ann", "password": PASSWORD,
                                                "csrf_token": csrf(client, "/agent/login")})  # fmt: skip
    assert refused.status_code == 401
    assert "is disabled" in runner.invoke(args=["agents", "token", "ann"]).output  # no token for them either
    assert runner.invoke(args=["agents", "enable", "ann"]).exit_code == 0
    login(app)
    assert "no agent named" in runner.invoke(args=["agents", "disable", "nobody"]).output


def log_in_from(app: Flask, address: str, name: str, password: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client, client.post(
        "/agent/login", data={"name": name, "password": password, "csrf_token": csrf(client, "/agent/login")}
    )


def test_a_strangers_guesses_do_not_lock_the_agent_out(app: Flask) -> None:
    for _ in range(6):
        _client, guess = log_in_from(app, "203.0.113.7", "ann", "guess")
    assert guess.status_code == 429 and "Too many failed log-ins" in guess.get_data(as_text=True)
    ann, reply = log_in_from(app, "198.51.100.20", "ann", PASSWORD)
    assert reply.status_code == 302
    page = ann.get(reply.headers["Location"]).get_data(as_text=True)
    assert "There were 5 failed log-ins for your name since you last logged in." in page
    _client, still = log_in_from(app, "203.0.113.7", "ann", PASSWORD)
    assert still.status_code == 429  # the stranger's address waits, even with the right password


def test_unknown_names_take_a_password_check_too(app: Flask, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import ivr.agents.auth as agents

    checked: list[str] = []
    real = agents.check_password_hash
    monkeypatch.setattr(agents, "check_password_hash", lambda h, p: checked.append(p) or real(h, p))
    with app.app_context():
        assert agents.verify("nobody", "guess") is None
        assert agents.verify("ann", "guess") is None
    assert checked == ["guess", "guess"]  # the same work, so the time does not tell names apart


def test_guesses_sent_at_once_are_counted_one_after_another(app: Flask, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from concurrent.futures import ThreadPoolExecutor

    import ivr.agents.auth as agents
    from ivr.agents import throttle

    checked: list[str] = []
    real = agents.check_password_hash
    monkeypatch.setattr(agents, "check_password_hash", lambda h, p: checked.append(p) or real(h, p))
    monkeypatch.setattr(throttle, "CHECKS", 40)  # as many checks at once as guesses: only the count refuses

    def guess(n: int) -> str:
        with app.app_context():
            try:
                agents.verify("ann", f"guess {n}", "203.0.113.7")
                return "checked"
            except throttle.TooManyFailures:
                return "refused"

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(guess, range(40)))
    assert results.count("checked") == throttle.NAME_AND_ADDRESS.free == len(checked)


def test_words_and_numbers_read_as_people_write_them(app: Flask) -> None:
    from ivr.agents.views import _hours
    from tests.helpers import left

    home, abroad = left(app, "+15550100001", "hello"), left(app, "+442079460000", "hello from London")
    stranger = left(app, "+15550199999", "where is it", collected={"order_number": "5001"})
    ann = login(app)
    queue_page = ann.get("/agent/?show=all").get_data(as_text=True)
    assert "(555) 010-0001" in queue_page and "+44 20 7946 0000" in queue_page  # national at home, else international
    assert "Message from (555) 010-0001" in ann.get(f"/agent/messages/{home}").get_data(as_text=True)
    assert 'href="tel:+442079460000"' in ann.get(f"/agent/messages/{abroad}").get_data(as_text=True)
    page = f"/agent/messages/{stranger}"
    assert "Order 5001 (given in the call): <strong>shipped</strong>" in ann.get(page).get_data(as_text=True)
    ann.post(f"{page}/claim", data={"csrf_token": csrf(ann, page)})
    in_progress = ann.get("/agent/?show=in_progress").get_data(as_text=True)
    assert "1 message in progress" in in_progress and "in in progress" not in in_progress
    assert (_hours(None), _hours(1 / 60), _hours(0.5), _hours(0.999), _hours(2.5)) == (
        "—",
        "1 min",
        "30 min",
        "60 min",
        "2.5 h",
    )


def test_a_missing_message_and_a_failed_log_in_keep_the_agent_on_the_desk(app: Flask) -> None:
    ann = login(app)
    missing = ann.get("/agent/messages/999999")
    text = missing.get_data(as_text=True)
    assert missing.status_code == 404 and "Not here" in text and 'href="/agent/"' in text and "Log out" in text
    client = app.test_client()
    refused = client.post(
        "/agent/login", data={"name": "ann", "password": "wrong", "csrf_token": csrf(client, "/agent/login")}
    )
    page = refused.get_data(as_text=True)
    assert refused.status_code == 401 and 'value="ann"' in page and "wrong" not in page
    hostile = client.post("/agent/login", data={"name": '"><script>x</script>', "password": "x",
                                                 "csrf_token": csrf(client, "/agent/login")})  # fmt: skip
    assert "<script>x</script>" not in hostile.get_data(as_text=True)
