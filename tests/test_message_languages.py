"""Agents see the caller's language (issue 17): a message keeps its call's language, the queue and the
message page say it and filter by it, the API gives it and filters, the team's notifications carry it;
a transcript is made only where a speech model hears the language, and otherwise the page says so."""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, update

from ivr.db import get_db, upgrade
from ivr.errors import ConfigError
from ivr.languages import Languages, line_languages
from ivr.messages import search
from ivr.models import Call, Message, MessageHistory
from ivr.simulator import media
from ivr.simulator.phone import SimulatedCall
from ivr.simulator.transport import FlaskTransport
from ivr.speech import recognizer as speech
from ivr.speech.matching import Words
from ivr.worker import Worker
from tests.conftest import TOKEN, make_app
from tests.helpers import KOREAN_MODEL, PASSWORD, api_token, app, bearer, login, team, work  # noqa: F401 (fixtures)

__all__ = ["app", "team"]

MESSAGES = Path(__file__).parent / "fixtures" / "messages"
KOREAN_CLIP = Path(__file__).parent / "fixtures" / "audio" / "ko" / "weather.wav"
LABEL = '<span class="language" title="the caller\'s language">{}</span>'
NO_LATVIAN_MODEL = "No transcript: there is no speech model for Latvian on this server (IVR_VOSK_MODELS)."


def left_in(app: Flask, language: str, clip: Path = MESSAGES / "ada.wav", caller: str = "+15550100001") -> int:
    """A message left in a call whose language is `language`, reported as Twilio reports a recording
    (the status callback carries no language: the call's row knows it)."""
    call = SimulatedCall(FlaskTransport(app, TOKEN), caller)
    call.dial()
    with app.app_context(), get_db().transaction() as session:
        session.execute(update(Call).where(Call.call_sid == call.call_sid).values(language=language))
    sid = "RE" + secrets.token_hex(16)
    url = media.server().publish(clip, call.account_sid, TOKEN, sid)
    params = {**call._base_params(first=False), "RecordingSid": sid, "RecordingUrl": url,
              "RecordingStatus": "completed", "RecordingDuration": "9"}  # fmt: skip
    assert FlaskTransport(app, TOKEN).post("/voice/recording", params).status == 200
    with app.app_context(), get_db().reading() as session:
        found = session.scalar(select(Message.id).where(Message.recording_sid == sid))
        assert found is not None
        return found


def message(app: Flask, message_id: int) -> Message:
    with app.app_context(), get_db().reading() as session:
        found = session.get(Message, message_id)
        assert found is not None
        return found


def listed(app: Flask, query: str) -> dict:  # type: ignore[type-arg]
    reply = app.test_client().get(f"/agent/api/messages?{query}", headers=bearer(app.config["_token"]))
    assert reply.status_code == 200, reply.get_data(as_text=True)
    return reply.get_json()


def test_a_message_keeps_its_calls_language_and_the_queue_shows_and_filters_it(app: Flask) -> None:
    finnish = left_in(app, "fi-FI")
    english = left_in(app, "en-US", caller="+15550100002")
    assert (message(app, finnish).language, message(app, english).language) == ("fi-FI", "en-US")
    ann = login(app)
    # A line speaking English only: the Finnish message is labelled, the English one is not.
    queue = ann.get("/agent/").get_data(as_text=True)
    assert queue.count(LABEL.format("Finnish")) == 1 and LABEL.format("English") not in queue
    assert 'aria-label="Caller\'s language"' in queue  # a language the queue holds can be filtered by
    only = ann.get("/agent/?language=fi-FI").get_data(as_text=True)
    assert f'/agent/messages/{finnish}"' in only and f'/agent/messages/{english}"' not in only
    assert "1 message in open, left in Finnish" in only
    assert 'class="on">Finnish</a>' in only and '<input type="hidden" name="language" value="fi-FI">' in only
    page = ann.get(f"/agent/messages/{finnish}").get_data(as_text=True)
    assert f"in {LABEL.format('Finnish')}" in page
    assert LABEL.format("English") not in ann.get(f"/agent/messages/{english}").get_data(as_text=True)
    # The API gives each message's language, and filters by it with counts that follow.
    app.config["_token"] = api_token(app)
    everything = listed(app, "show=all")
    assert {m["id"]: m["language"] for m in everything["messages"]} == {finnish: "fi-FI", english: "en-US"}
    assert everything["languages"] == ["en-US", "fi-FI"] and everything["language"] is None
    filtered = listed(app, "show=all&language=fi-FI")
    assert [m["id"] for m in filtered["messages"]] == [finnish] and filtered["language"] == "fi-FI"
    assert filtered["total"] == 1 and filtered["counts"]["new"] == 1
    assert [m["id"] for m in listed(app, "show=all&language=en-US")["messages"]] == [english]
    # A line that speaks several languages labels every message, English too.
    app.config["LANGUAGES"] = "en-US,fi-FI,lv-LV"
    assert LABEL.format("English") in ann.get(f"/agent/messages/{english}").get_data(as_text=True)
    several = ann.get("/agent/").get_data(as_text=True)
    assert several.count(LABEL.format("English")) == 1 and ">Latvian</a>" in several


HOSTILE = ['<script>alert("x")</script>', "xx-XX", 'fi-FI"><b>x</b>', "fi-fi", "FI-FI", "fi-FI ", "%00", "de-DE"]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_language_the_queue_does_not_know_is_ignored_by_the_page_and_refused_by_the_api(
    app: Flask, value: str
) -> None:
    finnish = left_in(app, "fi-FI")
    english = left_in(app, "en-US", caller="+15550100002")
    reply = login(app).get("/agent/", query_string={"language": value})
    body = reply.get_data(as_text=True)
    assert reply.status_code == 200
    assert f'/agent/messages/{finnish}"' in body and f'/agent/messages/{english}"' in body  # every language
    assert "left in" not in body and (value not in body or value == "fi-FI ")  # never shown back
    assert "alert(" not in body and "<b>x</b>" not in body
    api = app.test_client().get("/agent/api/messages", query_string={"language": value}, headers=bearer(api_token(app)))
    assert api.status_code == 400 and api.mimetype == "application/json"
    error = api.get_json()["error"]
    assert error == "there is no such language in the queue: use one of en-US, fi-FI"


@pytest.fixture
def korean_app(tmp_path: Path, template_db: Path) -> Iterator[Flask]:
    """A line with a Vosk model for Korean (the test model here) and none for Latvian."""
    app = make_app(tmp_path, template_db, SECRET_KEY="test-secret-key", VOSK_MODELS=f"ko-KR={KOREAN_MODEL}")
    result = app.test_cli_runner().invoke(args=["agents", "create", "ann"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    yield app
    app.extensions["ivr.db"].engine.dispose()


def history(app: Flask, message_id: int) -> list[tuple[str, str]]:
    with app.app_context(), get_db().reading() as session:
        rows = session.scalars(select(MessageHistory).where(MessageHistory.message_id == message_id))
        return [(row.action, row.detail) for row in rows]


def test_a_transcript_is_made_only_by_a_model_for_the_messages_language(korean_app: Flask) -> None:
    app = korean_app
    korean = left_in(app, "ko-KR", clip=KOREAN_CLIP)
    latvian = left_in(app, "lv-LV", caller="+15550100002")
    with app.app_context():
        Worker(get_db(), app.config, threads=1).run_once()
    heard = message(app, korean)
    assert heard.transcript_status == "done" and any("\uac00" <= c <= "\ud7a3" for c in heard.transcript)
    assert [d for a, d in history(app, korean) if a == "transcribed"][0].startswith("vosk")
    unheard = message(app, latvian)
    assert (unheard.audio_status, unheard.transcript_status, unheard.transcript) == ("stored", "no_model", "")
    assert unheard.next_try_at is None and unheard.transcript_attempts == 0  # never tried, never again
    assert ("no transcript", "no speech model for lv-LV (IVR_VOSK_MODELS)") in history(app, latvian)
    ann = login(app)
    page = ann.get(f"/agent/messages/{latvian}").get_data(as_text=True)
    assert NO_LATVIAN_MODEL in page and "being transcribed" not in page
    assert "no transcript: no Latvian speech model" in ann.get("/agent/").get_data(as_text=True)
    data = app.test_client().get(f"/agent/api/messages/{latvian}", headers=bearer(api_token(app))).get_json()
    assert data["language"] == "lv-LV"
    assert data["transcript"]["status"] == "no_model" and data["transcript"]["note"] == NO_LATVIAN_MODEL
    assert data["transcript"]["text"] == "" and data["transcript"]["error"] is None


def test_which_model_hears_which_language() -> None:
    settings = {"SPEECH_BACKEND": "pocketsphinx", "VOSK_MODELS": f"ko-KR={KOREAN_MODEL}"}
    assert speech.recognizer_for(settings, "ko-KR") == speech.Choice("vosk", str(KOREAN_MODEL))
    assert speech.recognizer_for(settings, "en-US") == speech.Choice("pocketsphinx", "")
    assert speech.recognizer_for(settings, "lv-LV") is None and speech.recognizer_for(settings, "fi-FI") is None
    assert speech.vosk_models({}) == {} and speech.vosk_models({"VOSK_MODELS": " "}) == {}


@pytest.mark.parametrize(
    ("declared", "said"),
    [
        ("fi-FI", "IVR_VOSK_MODELS: cannot read 'fi-FI'; write language=folder"),
        ("finnish=models/x", "IVR_VOSK_MODELS: cannot read 'finnish=models/x'"),
        ("fi-FI=", "IVR_VOSK_MODELS: cannot read 'fi-FI='"),
        ("fi-FI=models/nowhere", "IVR_VOSK_MODELS: the Vosk model folder for fi-FI, "),
        (f"ko-KR={KOREAN_MODEL},ko-KR={KOREAN_MODEL}", "IVR_VOSK_MODELS gives ko-KR a model twice"),
    ],
)
def test_a_wrong_model_declaration_stops_the_app_at_start_up(
    declared: str, said: str, tmp_path: Path, template_db: Path
) -> None:
    with pytest.raises(ConfigError, match=said.replace("(", r"\(").replace(".", r"\.")):
        make_app(tmp_path, template_db, VOSK_MODELS=declared)


def test_a_partial_model_folder_is_named(tmp_path: Path) -> None:
    partial = tmp_path / "vosk-model-small-lv"
    (partial / "am").mkdir(parents=True)
    (partial / "am" / "final.mdl").write_bytes(b"x")
    with pytest.raises(ConfigError, match=r"the Vosk model folder for lv-LV, .*vosk-model-small-lv, is incomplete"):
        speech.choose({"VOSK_MODELS": f"lv-LV={partial}"})


@pytest.mark.parametrize(
    ("settings", "offered"),
    [
        ({}, ("en-US",)),
        ({"LANGUAGES": "", "LANGUAGE": ""}, ("en-US",)),
        ({"LANGUAGES": "", "LANGUAGE": "lv-LV"}, ("lv-LV",)),  # the one language setting alone
        ({"LANGUAGES": " fi-FI , lv-LV,en-US ", "LANGUAGE": "lv-LV"}, ("fi-FI", "lv-LV", "en-US")),
    ],
)
def test_the_lines_languages_are_read_in_one_place(settings: dict[str, str], offered: tuple[str, ...]) -> None:
    """The agents' pages, a message's language and the search read the languages the calls are offered."""
    assert line_languages(settings) == Languages.from_settings(settings).offered == offered


@pytest.mark.parametrize(
    ("settings", "said"),
    [
        ({"LANGUAGES": "lv-LV,fi-fi"}, "IVR_LANGUAGES: 'fi-fi' is not a language code like lv-LV"),
        ({"LANGUAGE": "english"}, "IVR_LANGUAGE: 'english' is not a language code like lv-LV"),
        ({"LANGUAGES": " , "}, "IVR_LANGUAGES names no language"),
        ({"LANGUAGES": "en-US,fi-FI,en-US"}, "IVR_LANGUAGES names a language twice: en-US,fi-FI,en-US"),
    ],
)
def test_a_wrong_line_language_is_refused_not_left_out(settings: dict[str, str], said: str) -> None:
    """A line never runs on part of what was meant: a wrong code is an error, not left out."""
    with pytest.raises(ConfigError, match=re.escape(said)):
        line_languages(settings)


def test_a_wrong_line_language_stops_the_app_at_start_up(tmp_path: Path, template_db: Path) -> None:
    with pytest.raises(ConfigError, match="IVR_LANGUAGES names a language twice: en-US,fi-FI,en-US"):
        make_app(tmp_path, template_db, LANGUAGES="en-US,fi-FI,en-US")


class FinnishToo:
    """The prompt catalog, with a Finnish one declaring Snowball's Finnish stemmer (until
    prompts/fi-FI.yaml is written, a language without a catalog is stemmed as English)."""

    def __init__(self, catalog) -> None:  # type: ignore[no-untyped-def]
        self.catalog = catalog

    def words(self, language: str) -> Words:
        return Words(stemmer="finnish") if language == "fi-FI" else self.catalog.words(language)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.catalog, name)


def test_a_message_is_found_by_its_words_stemmed_in_its_language(app: Flask) -> None:
    app.extensions["ivr.catalog"] = FinnishToo(app.extensions["ivr.catalog"])
    app.config["LANGUAGES"] = "en-US,fi-FI"
    app.config["_token"] = api_token(app)
    finnish, english = left_in(app, "fi-FI"), left_in(app, "en-US", caller="+15550100002")
    with app.app_context(), get_db().transaction() as session:
        for message_id, said in ((finnish, "haluan kopion laskun"), (english, "please send the invoices")):
            found = session.get(Message, message_id)
            assert found is not None
            found.transcript, found.transcript_status = said, "done"
            search.refresh(session, found, app.extensions["ivr.catalog"])
    assert "lasku" in message(app, finnish).search_text.split()  # Finnish "laskun" (the invoice's)
    for query, expected in (("laskua", [finnish]), ("laskusta", [finnish]), ("invoice", [english]),
                            ("kopion laskua", [finnish])):  # fmt: skip
        assert [m["id"] for m in listed(app, f"show=all&q={query}")["messages"]] == expected, query
    # No message has both: each has one of them.
    assert sorted(m["id"] for m in listed(app, "show=all&q=laskua invoice")["messages"]) == sorted([finnish, english])
    # A language with no catalog is stemmed as English, whatever the line says.
    assert search.language_words("lv-LV").stemmer == "english"


def test_the_teams_notification_says_the_language_and_why_there_is_no_transcript(team) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    app, inbox, receiver = team
    latvian = left_in(app, "lv-LV")
    with app.app_context():
        Worker(get_db(), app.config, threads=1).run_once()
    work(app, 61)
    [(_headers, body)] = receiver.got
    said = json.loads(body)
    assert said["message_id"] == latvian and said["language"] == "lv-LV"
    assert said["transcript"] is None and said["transcript_note"] == NO_LATVIAN_MODEL
    text = message_from_bytes(inbox.mails[0], policy=policy.default).get_content()  # type: ignore[attr-defined]
    assert "Language: Latvian" in text and NO_LATVIAN_MODEL in text


def test_the_migration_gives_earlier_messages_their_calls_language_and_takes_it_back(tmp_path: Path) -> None:
    from alembic import command

    from ivr.db import alembic_config

    path = tmp_path / "m.sqlite3"
    url = f"sqlite:///{path}"
    before = "0014" if any((Path(__file__).parent.parent / "db/migrations/versions").glob("0014_*.py")) else "0013"
    upgrade(url, before)
    with sqlite3.connect(path) as db:
        for sid, language in (("CAlv", "lv-LV"), ("CAen", "en-US")):
            db.execute("INSERT INTO calls (call_sid, from_number, to_number, language, node, step, retries,"
                       " collected, last_twiml, started_at, updated_at, events) VALUES (?, '+1', '+2', ?, 'call_over',"
                       " 1, 0, '{}', '', '2026-11-24 10:00:00', '2026-11-24 10:00:00', '[]')", (sid, language))  # fmt: skip
        for number, sid in enumerate(("CAlv", "CAen", "CAgone")):
            db.execute("INSERT INTO messages (recording_sid, call_sid, account_sid, recording_url, caller, branch,"
                       " reason, path, duration_seconds, created_at, search_text, changed_at, status, audio_status,"
                       " audio_attempts, audio_error, transcript, transcript_status, transcript_attempts,"
                       " transcript_error) VALUES (?, ?, '', 'u', '', '', '', '[]', 5, '2026-11-24 10:00:30', '',"
                       " '2026-11-24 10:00:30', 'new', 'pending', 0, '', '', 'waiting', 0, '')", (f"RE{number}", sid))  # fmt: skip
    upgrade(url)
    with sqlite3.connect(path) as db:
        languages = dict(db.execute("SELECT call_sid, language FROM messages"))
        indexes = {row[1] for row in db.execute("PRAGMA index_list(messages)")}
        # The search triggers of 0009 are still there: a plain ADD COLUMN, no copy of the table.
        triggers = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert languages == {"CAlv": "lv-LV", "CAen": "en-US", "CAgone": "en-US"}
    assert "ix_messages_language_status" in indexes and "message_search_update" in triggers
    command.downgrade(alembic_config(url), before)
    with sqlite3.connect(path) as db:
        assert "language" not in {row[1] for row in db.execute("PRAGMA table_info(messages)")}
        assert db.execute("SELECT count(*) FROM messages").fetchone() == (3,)
