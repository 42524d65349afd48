"""The second hardening round (issue 29): headers on every page, ids in range, the smaller points."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from ivr.db import LARGEST_ID, get_db
from ivr.models import Message
from ivr.security import csv_cell, csv_value
from ivr.simulator import media
from tests.conftest import make_app
from tests.helpers import (
    CHROMIUM,
    OUTPUT,
    PASSWORD,
    api_token,
    app,
    bearer,
    browser_page,
    leave_message,
    login,
    post,
    site,
    supervisor,
    twilio_params,
)

__all__ = ["app", "site"]

ROOT = Path(__file__).resolve().parents[1]
# A value for each kind of URL part, so that every route of the desk and the help centre is asked.
PARTS = {"action": "claim", "language": "en-US", "slug": "returns", "code": "NO-SUCH", "topic": "returns",
         "branch": "main", "anything": "nothing-here"}  # fmt: skip


def routes(app: Flask) -> list[tuple[str, str, dict[str, str]]]:
    """(method, rule, the names of its int parts) for every page and API route of the desk and the help centre."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.endswith("static") or not (rule.rule == "/" or rule.rule.startswith(("/agent", "/help"))):
            continue
        ints = {name for name, converter in rule._converters.items() if converter.__class__.__name__ == "RowId"}
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            found.append((method, rule.rule, {name: "int" for name in ints}))
    return found


def url(rule: str, ints: dict[str, str], number: int) -> str:
    def part(found: re.Match[str]) -> str:
        name = found.group(2)
        return str(number) if name in ints else PARTS[name]

    return re.sub(r"<(?:([a-z]+)(?:\([^)]*\))?:)?([a-z_]+)>", part, rule)


def as_supervisor(app: Flask) -> tuple[FlaskClient, str]:
    supervisor(app)
    client = login(app, "carol")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/agent/").get_data(as_text=True))
    assert token is not None
    return client, token.group(1)


def test_every_page_of_the_desk_and_the_help_centre_forbids_framing_and_sniffing(app: Flask) -> None:
    message_id = leave_message(app)
    client, token = as_supervisor(app)
    asked = 0
    for method, rule, ints in routes(app):
        path = url(rule, ints, message_id)
        if rule == "/agent/logout":
            continue  # asked last: it ends the session
        reply = client.open(path, method=method, data={"csrf_token": token} if method == "POST" else None)
        headers = reply.headers
        policy = headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in policy and "script-src 'unsafe-inline'" not in policy, (method, path)
        assert headers.get("X-Content-Type-Options") == "nosniff", (method, path)
        assert headers.get("X-Frame-Options") == "DENY" and headers.get("Referrer-Policy") == "same-origin", path
        asked += 1
    assert asked >= 35  # every route, not a few
    for path in ("/agent/login", "/agent/no-such-page", "/help/no-such-page"):  # logged out, and a 404
        reply = app.test_client().get(path)
        assert "frame-ancestors 'none'" in reply.headers["Content-Security-Policy"], path


def test_pages_keep_to_the_policy_no_inline_script_anywhere(app: Flask) -> None:
    message_id = leave_message(app)
    client, _token = as_supervisor(app)
    for path in ("/agent/", f"/agent/messages/{message_id}", "/agent/insights", "/agent/faq", "/agent/team", "/help/"):
        page = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), path  # scripts come from files
        assert not re.search(r"\son[a-z]+=", page), path  # no inline event handlers


def test_ids_outside_the_databases_range_are_not_found(app: Flask) -> None:
    client, token = as_supervisor(app)
    api = bearer(api_token(app, "carol"))
    checked = 0
    for method, rule, ints in routes(app):
        if not ints:
            continue
        for number in (LARGEST_ID + 1, 2**63, 10**40):
            path = url(rule, ints, number)
            page = client.open(path, method=method, data={"csrf_token": token} if method == "POST" else None)
            assert page.status_code == 404, (method, path, page.status_code)
            by_api = app.test_client().open(path, method=method, headers=api)
            assert by_api.status_code in (401, 404), (method, path, by_api.status_code)  # never a 500
            checked += 1
    assert checked >= 3 * 7  # pages, audio, versions and the API
    answer = app.test_client().get("/agent/api/messages/9223372036854775808", headers=api)
    assert answer.status_code == 404 and answer.is_json, (answer.status_code, answer.get_data(as_text=True))


def test_a_recording_sid_must_be_the_one_in_its_url(app: Flask, caplog) -> None:  # type: ignore[no-untyped-def]
    account, recording, other = "AC" + "a1" * 16, "RE" + "b2" * 16, "RE" + "c3" * 16
    report = {"RecordingSid": other, "RecordingStatus": "completed", "RecordingDuration": "7", "AccountSid": account,
              "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{account}/Recordings/{recording}"}  # fmt: skip
    reply = post(app.test_client(), "/voice/recording", twilio_params("CA" + secrets.token_hex(16), **report))
    assert reply.status_code == 200 and reply.mimetype == "text/xml"
    with app.app_context(), get_db().reading() as session:
        assert session.scalars(select(Message)).all() == []
    assert "RecordingSid is not the one in the RecordingUrl" in caplog.text
    report["RecordingSid"] = recording  # the same report with the URL's own SID makes the message
    post(app.test_client(), "/voice/recording", twilio_params("CA" + secrets.token_hex(16), **report))
    with app.app_context(), get_db().reading() as session:
        assert [m.recording_sid for m in session.scalars(select(Message))] == [recording]


def test_which_prompts_answered_is_told_only_to_signed_requests(tmp_path: Path, template_db: Path) -> None:
    params = twilio_params("CA" + secrets.token_hex(16))
    checked = make_app(tmp_path, template_db)
    signed = post(checked.test_client(), "/voice/incoming", params)
    assert signed.status_code == 200 and "en-US.yaml" in signed.headers["X-IVR-Prompts"]
    assert "X-IVR-Prompts" not in checked.test_client().post("/voice/incoming", data=params).headers  # 403
    unchecked = make_app(tmp_path, template_db, VALIDATE_SIGNATURES=False)  # a development machine
    unsigned = unchecked.test_client().post("/voice/incoming", data=params)
    assert unsigned.status_code == 200 and "<Response>" in unsigned.get_data(as_text=True)
    assert "X-IVR-Prompts" not in unsigned.headers
    assert "X-IVR-Prompts" in post(unchecked.test_client(), "/voice/incoming", params).headers


@pytest.mark.parametrize(
    "cell",
    ["=1+1", "\uff1dHYPERLINK(\"x\")", "\uff0b1", "\uff20SUM(A1)", "\uff0d1", "\u200b=1+1", "\ufeff\u200d+1",
     "\u2060@x", "\t=1"],
)  # fmt: skip
def test_a_formula_in_disguise_is_kept_as_text(cell: str) -> None:
    written = csv_cell(cell)
    assert isinstance(written, str) and written.startswith("'") and csv_value(written) == cell


@pytest.mark.parametrize("cell", ["hello", "a=b", "\u200bhello", "", "1+1", "ＡＢＣ"])
def test_plain_text_is_left_alone(cell: str) -> None:
    assert csv_cell(cell) == cell == csv_value(cell)


def test_the_simulators_media_server_has_one_port_of_its_own() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert f'"IVR_TWILIO_MEDIA_HOSTS=127.0.0.1:{media.PORT}"' in makefile  # what `make` writes to .env
    assert media.port_for({"TWILIO_MEDIA_HOSTS": f"127.0.0.1:{media.PORT}"}) == media.PORT
    assert media.port_for({"TWILIO_MEDIA_HOSTS": "127.0.0.1"}) == 0  # any port (tests, sandboxes)
    from ivr.recordings import problem

    listed = {"TWILIO_MEDIA_HOSTS": f"127.0.0.1:{media.PORT}"}
    path = f"/2010-04-01/Accounts/AC{'a1' * 16}/Recordings/RE{'b2' * 16}"
    assert problem(f"http://127.0.0.1:{media.PORT}{path}", "AC" + "a1" * 16, listed) is None
    assert "not a Twilio API host" in str(problem(f"http://127.0.0.1:5000{path}", "AC" + "a1" * 16, listed))


def test_a_media_server_on_a_given_port(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a free port, as the listed one would be
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = media.MediaServer(port)
    try:
        assert server.port == port and server.base_url == f"http://127.0.0.1:{port}"
        taken = media.MediaServer(port)  # another simulator already has it: any other port
        assert taken.port != port
        taken.server.shutdown()
        taken.server.server_close()
    finally:
        server.server.shutdown()
        server.server.server_close()


def test_the_phone_lines_own_workers_send_everyone_else_to_the_desk(tmp_path: Path, template_db: Path) -> None:
    phone = make_app(tmp_path, template_db, DESK_URL="http://127.0.0.1:5001")
    client = phone.test_client()
    for method, path in (("GET", "/"), ("GET", "/agent/?show=all"), ("POST", "/agent/login"), ("GET", "/help/")):
        sent = client.open(path, method=method)
        assert sent.status_code == 307 and sent.headers["Location"] == "http://127.0.0.1:5001" + path, path
    for hostile in ("/a%0d%0aSet-Cookie:%20x=1", "/agent/%3Fq=1%23x", "//evil.example/x"):
        sent = client.get(hostile)  # the desk's host, whatever the path says; no header of the path's own
        assert sent.status_code == 307 and sent.headers["Location"].startswith("http://127.0.0.1:5001/"), hostile
        assert "\n" not in sent.headers["Location"] and "Set-Cookie" not in sent.headers
    assert client.get("/agent/%3Fq=1").headers["Location"] == "http://127.0.0.1:5001/agent/%3Fq=1"
    call = post(client, "/voice/incoming", twilio_params("CA" + secrets.token_hex(16)))
    assert call.status_code == 200 and "<Response>" in call.get_data(as_text=True)
    refused = client.post("/voice/incoming", data=twilio_params("CA" + secrets.token_hex(16)))
    assert refused.status_code == 403  # still Twilio's only


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium: apt-get install chromium")
def test_the_pages_work_under_their_policy_in_a_browser(site: tuple[Flask, str]) -> None:  # noqa: F811
    """Chromium keeping to the policy (no bypass): nothing refused, the charts drawn, live.js running."""
    from playwright.sync_api import expect

    app, base = site
    supervisor(app)
    message_id = leave_message(app)
    refused: list[str] = []
    with browser_page(1280, bypass_csp=False) as page:
        page.on("console", lambda line: refused.append(line.text) if "Content Security Policy" in line.text else None)
        page.goto(base + "/agent/login")
        page.get_by_label("Name").fill("carol")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        for path in ("/agent/", f"/agent/messages/{message_id}", "/agent/insights", "/agent/faq", "/help/", "/"):
            page.goto(base + path)
        page.goto(base + "/agent/insights")
        chart = page.locator("figure.chart svg").first
        expect(chart).to_be_visible()
        assert chart.evaluate("svg => getComputedStyle(svg.querySelector('text')).fontFamily") != ""
        page.screenshot(path=str(OUTPUT / "insights-under-policy-1280.png"), full_page=True)
    assert refused == []
