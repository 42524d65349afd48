"""The same app on PostgreSQL, by IVR_DATABASE_URL alone: migrations, demo data, a whole call.

The fixture starts a throw-away PostgreSQL cluster of its own (initdb + pg_ctl in a temp folder, as
the postgres user when run as root); `.ci/run` installs the server where it is missing.
"""

from __future__ import annotations

from pathlib import Path

from ivr import create_app
from ivr.db import get_db, upgrade
from ivr.seed import load_demo_data
from ivr.simulator.phone import SimulatedCall
from ivr.simulator.transport import FlaskTransport
from tests.conftest import NO_RETENTION, TOKEN
from tests.helpers import postgres_url

__all__ = ["postgres_url"]


def test_a_whole_call_on_postgresql(postgres_url: str) -> None:
    upgrade(postgres_url)
    app = create_app({"DATABASE_URL": postgres_url, "TWILIO_AUTH_TOKEN": TOKEN})
    assert app.extensions["ivr.db"].is_postgresql
    with app.app_context(), get_db().transaction() as session:
        load_demo_data(session)
        load_demo_data(session)  # loading twice changes nothing
    call = SimulatedCall(FlaskTransport(app, TOKEN), caller="+15550100002").dial()
    call.press("2")
    call.say("five oh oh four")
    call.hears(r"cancelled. We.ve issued a refund of \$19\.99")
    call.press("1")
    call.press("5001#")
    call.hears("shipped with UPS")
    call.hangup()
    app.extensions["ivr.db"].engine.dispose()


def test_voice_messages_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    """The callback storm's race is won by the unique RecordingSid on PostgreSQL too; the worker works."""
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import select

    from ivr.models import Message
    from ivr.simulator import media
    from ivr.worker import Worker

    upgrade(postgres_url)
    config = {"DATABASE_URL": postgres_url, "TWILIO_AUTH_TOKEN": TOKEN, "DATA_DIR": str(tmp_path),
              "TWILIO_MEDIA_HOSTS": "127.0.0.1", "AUDIO_RETENTION_DAYS": NO_RETENTION,
              "CLOCK": "2026-11-24T21:00:00-05:00"}  # fmt: skip
    app = create_app(config)
    with app.app_context(), get_db().transaction() as session:
        load_demo_data(session)
    call = SimulatedCall(FlaskTransport(app, TOKEN), caller="+15550100001").dial()
    call.press("0")
    call.press("1")
    clip = Path(__file__).parent / "fixtures" / "messages" / "ada.wav"
    call.record(clip, callbacks=5)
    call.press("3")
    call.hears("Your message has been sent")
    sid = "RE" + "4" * 32
    url = media.server().publish(clip, call.account_sid, TOKEN, sid)
    storm = {**call._base_params(first=False), "RecordingSid": sid, "RecordingUrl": url,
             "RecordingStatus": "completed", "RecordingDuration": "13"}  # fmt: skip
    with ThreadPoolExecutor(5) as pool:
        statuses = list(pool.map(lambda _: FlaskTransport(app, TOKEN).post("/voice/recording", storm).status, range(5)))
    assert statuses == [200] * 5
    with app.app_context():
        Worker(get_db(), app.config).run_once()
        with get_db().reading() as session:
            messages = session.scalars(select(Message).where(Message.call_sid == call.call_sid)).all()
    assert sorted(m.recording_sid == sid for m in messages) == [False, True]
    assert all(m.audio_status == "stored" and m.transcript_status == "done" for m in messages)
    app.extensions["ivr.db"].engine.dispose()


def test_nul_bytes_are_harmless_on_postgresql(postgres_url: str) -> None:
    """PostgreSQL refuses NUL in text: every place a request's text reaches the database drops it."""
    from xml.etree import ElementTree

    from tests.helpers import PASSWORD, api_token, bearer, csrf, post, sid, twilio_params

    upgrade(postgres_url)
    app = create_app({"DATABASE_URL": postgres_url, "TWILIO_AUTH_TOKEN": TOKEN, "SECRET_KEY": "k"})
    with app.app_context(), get_db().transaction() as session:
        load_demo_data(session)
    client, call = app.test_client(), sid()
    for path, fields in (("/voice/incoming", {"From": "+1555\x000100"}),
                         ("/voice/step/main_menu?n=1", {"SpeechResult": "where is\x00 my order"}),
                         ("/voice/status", {"CallStatus": "completed\x00", "CallDuration": "12"})):  # fmt: skip
        response = post(client, path, twilio_params(call, **fields))
        assert response.status_code == 200 and ElementTree.fromstring(response.data).tag == "Response"
    assert app.test_cli_runner().invoke(args=["agents", "create", "ann"], input=PASSWORD + "\n").exit_code == 0
    assert client.get("/agent/api/messages?q=%00", headers=bearer(api_token(app))).status_code == 200
    assert client.get("/agent/api/messages", headers=bearer("ivr_\x00" + "A" * 42)).status_code == 401
    refused = client.post("/agent/login", data={"name": "\x00nobody", "password": "x",
                                                "csrf_token": csrf(client, "/agent/login")})  # fmt: skip
    assert refused.status_code == 401
    assert app.test_cli_runner().invoke(args=["agents", "role", "ann", "supervisor"]).exit_code == 0
    message_id = leave_message_here(app)
    given = app.test_client().post(  # an API client: no cookie
        f"/agent/api/messages/{message_id}/reassign", headers=bearer(api_token(app)), json={"to": "\x00bob"}
    )
    assert given.status_code == 409 and "no agent named 'bob'" in given.get_json()["error"]
    app.extensions["ivr.db"].engine.dispose()


def leave_message_here(app) -> int:  # type: ignore[no-untyped-def]
    from tests.helpers import left

    return left(app, "+15550100002", "a message on PostgreSQL")


def test_search_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    """The queue's search through PostgreSQL's tsvector: the same behaviour as SQLite's FTS5."""
    from sqlalchemy import delete

    from ivr.models import Message, MessageHistory, MessageNote
    from tests.helpers import PASSWORD, check_search

    upgrade(postgres_url)
    app = create_app({"DATABASE_URL": postgres_url, "TWILIO_AUTH_TOKEN": TOKEN, "SECRET_KEY": "k",
                      "DATA_DIR": str(tmp_path)})  # fmt: skip
    with app.app_context(), get_db().transaction() as session:
        load_demo_data(session)
        for table in (MessageHistory, MessageNote, Message):  # this test's messages only
            session.execute(delete(table))
    assert app.test_cli_runner().invoke(args=["agents", "create", "ann"], input=PASSWORD + "\n").exit_code == 0
    check_search(app)
    app.extensions["ivr.db"].engine.dispose()
