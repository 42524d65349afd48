"""Throttled log-ins (ivr/agents/throttle.py): a crowd's guesses slow the guessing, never lock the agent out."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from ivr.agents import auth, throttle
from ivr.db import get_db
from ivr.models import LoginAttempt, as_utc
from tests.helpers import PASSWORD, app, csrf

__all__ = ["app"]

DESK = "198.51.100.20"


def log_in(client: FlaskClient, address: str, name: str, password: str):  # type: ignore[no-untyped-def]
    client.environ_base["REMOTE_ADDR"] = address
    return client.post(
        "/agent/login", data={"name": name, "password": password, "csrf_token": csrf(client, "/agent/login")}
    )


@pytest.fixture
def hashes(monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    """The passwords checked against a hash: a refused attempt never gets that far."""
    checked: list[str] = []
    real = auth.check_password_hash
    monkeypatch.setattr(auth, "check_password_hash", lambda h, p: checked.append(p) or real(h, p))
    return checked


def test_a_crowd_of_strangers_never_locks_the_agent_out(app: Flask, hashes: list[str]) -> None:
    desk = app.test_client()
    assert log_in(desk, DESK, "ann", PASSWORD).status_code == 302  # her desk is a known device from now on
    assert desk.get_cookie(throttle.COOKIE, path="/agent") is not None
    hashes.clear()
    refused = 0
    for n in range(10):  # 10 addresses, 5 wrong guesses each
        stranger = app.test_client()
        for _ in range(5):
            reply = log_in(stranger, f"203.0.113.{n + 1}", "ann", "guess")
            refused += reply.status_code in (429, 503)  # waiting, or the host's checks all taken
    assert len(hashes) + refused == 50 and refused > 0  # the crowd was slowed down...
    assert len(hashes) <= throttle.CROWD.free + 3  # ...to a few checks (a wait of 1 s, 2 s... passes meanwhile)

    checked, hashes[:] = len(hashes), []
    back = log_in(desk, DESK, "ann", PASSWORD)  # from her known device: at once
    assert back.status_code == 302 and hashes == [PASSWORD]
    told = desk.get(back.headers["Location"]).get_data(as_text=True)
    assert f"There were {checked} failed log-ins for your name since you last logged in." in told

    laptop = app.test_client()  # a new browser at a new address: waits, never longer than the crowd's ceiling
    waiting = log_in(laptop, "192.0.2.99", "ann", PASSWORD)
    assert waiting.status_code == 429 and "Try again in" in waiting.get_data(as_text=True)
    seconds = int(waiting.headers["Retry-After"])
    assert 0 < seconds <= throttle.CROWD.longest.total_seconds()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds + 1)
    with app.test_request_context():
        assert auth.verify("ann", PASSWORD, "192.0.2.99", now=later) is not None  # after the delay: in


def test_however_long_a_crowd_goes_on_the_wait_stays_under_a_minute(app: Flask, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(throttle, "BURST", 10**6)  # the waits, not the host's checks a second
    start = dt.datetime(2030, 1, 7, 9, 0, tzinfo=dt.UTC)
    now, longest = start, dt.timedelta(0)
    with app.test_request_context():
        for n in range(300):  # the crowd tries again the moment each wait is over
            address = f"203.0.113.{n % 200 + 1}"
            try:
                assert auth.verify("ann", f"guess {n}", address, now=now) is None
                now += dt.timedelta(milliseconds=10)
            except throttle.TooManyFailures as wait:
                longest = max(longest, dt.timedelta(seconds=wait.seconds))
                now += dt.timedelta(seconds=wait.seconds)
        assert longest == throttle.CROWD.longest  # it grew to its ceiling, and no further
        assert now - start > dt.timedelta(minutes=30)  # 300 guesses took the crowd more than half an hour
        try:  # the agent, right after the crowd's last guess, waits at most the ceiling
            auth.verify("ann", PASSWORD, "192.0.2.99", now=now)
        except throttle.TooManyFailures as wait:
            assert wait.seconds <= throttle.CROWD.longest.total_seconds()
        assert auth.verify("ann", PASSWORD, "192.0.2.99", now=now + throttle.CROWD.longest) is not None


def test_an_address_trying_many_names_waits(app: Flask, hashes: list[str], monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(throttle, "BURST", 10**6)  # the waits, not the host's checks a second
    now = dt.datetime(2030, 1, 7, 9, 0, tzinfo=dt.UTC)
    with app.test_request_context():
        for n in range(throttle.ADDRESS.free):  # a new name each time: no name's own limit is reached
            assert auth.verify(f"user{n}", "guess", "203.0.113.7", now=now + dt.timedelta(seconds=n)) is None
        hashes.clear()
        with pytest.raises(throttle.TooManyFailures) as refused:
            auth.verify("ann", PASSWORD, "203.0.113.7", now=now + dt.timedelta(seconds=30))
        assert hashes == [] and refused.value.seconds > 0  # refused before any password hash
        assert auth.verify("ann", PASSWORD, "198.51.100.20", now=now + dt.timedelta(seconds=30)) is not None
        with app.app_context(), get_db().reading() as session:
            assert session.scalar(select(func.count()).select_from(LoginAttempt).where(LoginAttempt.ok)) == 1


def crowd(app: Flask, name: str, guesses: int) -> None:
    """What a crowd's failed guesses for `name` leave, from as many addresses, over the last minute."""
    now = dt.datetime.now(dt.UTC)
    with app.app_context(), get_db().transaction() as session:
        session.add_all(
            LoginAttempt(name=name, address=f"203.0.113.{n + 1}", ok=False, at=now - dt.timedelta(seconds=60 - n))
            for n in range(guesses)
        )


def test_only_the_agents_own_device_cookie_passes_a_crowd(app: Flask) -> None:
    desk, bobs = app.test_client(), app.test_client()
    assert log_in(desk, DESK, "ann", PASSWORD).status_code == 302
    assert log_in(bobs, "192.0.2.5", "bob", PASSWORD).status_code == 302
    crowd(app, "ann", 30)
    assert log_in(desk, DESK, "ann", PASSWORD).status_code == 302  # ann's own cookie: no wait
    assert log_in(bobs, "192.0.2.5", "ann", PASSWORD).status_code == 429  # bob's cookie is no key to ann's name
    forged = app.test_client()
    forged.set_cookie(throttle.COOKIE, throttle.device_cookie("another secret", 1, "0123456789abcdef"), path="/agent")
    assert log_in(forged, "192.0.2.6", "ann", PASSWORD).status_code == 429

    for _ in range(throttle.DEVICE.free):  # ann mistypes at her own desk
        assert log_in(desk, DESK, "ann", "typo").status_code == 401
    assert log_in(desk, DESK, "ann", PASSWORD).status_code == 429  # her device's own failures make it wait


def test_the_device_cookie_is_httponly_and_secure_behind_https(app: Flask) -> None:
    reply = log_in(app.test_client(), DESK, "ann", PASSWORD)
    cookie = next(c for c in reply.headers.getlist("Set-Cookie") if c.startswith(throttle.COOKIE + "="))
    assert "HttpOnly" in cookie and "Path=/agent" in cookie and "Secure" not in cookie  # http here
    client, https = app.test_client(), "https://desk.example"  # behind a proxy that says https (IVR_PROXY_HOPS)
    page = client.get("/agent/login", base_url=https).get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    reply = client.post("/agent/login", base_url=https, headers={"Referer": f"{https}/agent/login"},
                        data={"name": "ann", "password": PASSWORD, "csrf_token": token})  # fmt: skip
    assert reply.status_code == 302 and len(reply.headers.getlist("Set-Cookie")) == 2
    assert all("; Secure" in c for c in reply.headers.getlist("Set-Cookie"))


def test_attempts_are_forgotten_after_the_window_but_the_agent_is_still_told(app: Flask) -> None:
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    with app.test_request_context():
        for n in range(3):
            assert auth.verify("ann", "guess", f"203.0.113.{n}", now=long_ago) is None
        assert throttle.forget(get_db(), dt.datetime.now(dt.UTC)) == 3
        assert throttle.forget(get_db(), dt.datetime.now(dt.UTC)) == 0
        with get_db().reading() as session:
            assert session.scalar(select(func.count()).select_from(LoginAttempt)) == 0
        user = auth.verify("ann", PASSWORD, DESK)
        assert user is not None and user.failed_before == 3
        assert auth.verify("ann", PASSWORD, DESK).failed_before == 0  # type: ignore[union-attr]


def test_a_host_checks_few_passwords_at_once_and_keeps_one_for_known_devices(app: Flask, hashes: list[str]) -> None:
    desk = app.test_client()
    assert log_in(desk, DESK, "ann", PASSWORD).status_code == 302
    hashes.clear()
    with throttle.password_check(app.config["DATA_DIR"], known=False):  # a guess being checked
        busy = log_in(app.test_client(), "192.0.2.7", "bob", PASSWORD)
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "1"
        assert "Try again in a moment" in busy.get_data(as_text=True)
        assert hashes == []  # told at once: nothing checked, nothing recorded
        assert log_in(desk, DESK, "ann", PASSWORD).status_code == 302  # her known device has a check of its own
    with app.app_context(), get_db().reading() as session:
        assert session.scalars(select(LoginAttempt.name).where(LoginAttempt.name == "bob")).all() == []
    assert log_in(app.test_client(), "192.0.2.7", "bob", PASSWORD).status_code == 302  # free again


def test_each_worker_pass_forgets_attempts_older_than_the_window(app: Flask) -> None:
    from ivr.worker import Worker

    now = dt.datetime.now(dt.UTC)
    with app.app_context(), get_db().transaction() as session:
        session.add_all(
            LoginAttempt(name="ann", address="203.0.113.9", ok=False, at=now - age)
            for age in (throttle.WINDOW + dt.timedelta(seconds=1), dt.timedelta(days=30), dt.timedelta(minutes=1))
        )
    with app.app_context():
        Worker(get_db(), app.config, catalog=app.extensions["ivr.catalog"]).run_once(now)
        with get_db().reading() as session:  # the minute-old one still counts
            assert [as_utc(at) for at in session.scalars(select(LoginAttempt.at))] == [now - dt.timedelta(minutes=1)]


def test_a_sustained_flood_gets_a_few_checks_a_second_and_a_team_logging_in_is_never_refused(
    app: Flask, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    clock = [1_000_000.0]
    monkeypatch.setattr(throttle.time, "time", lambda: clock[0])
    folder = app.config["DATA_DIR"]

    def checks(attempts: int) -> int:
        taken = 0
        for _ in range(attempts):
            try:
                with throttle.password_check(folder, known=False):
                    taken += 1
            except throttle.Busy:
                pass
        return taken

    assert checks(throttle.BURST) == throttle.BURST  # a team logging in at once
    assert checks(100) == 0  # then a flood, in the same instant: none
    taken = 0
    for _ in range(10):  # ten seconds of flood: RATE a second, however many try
        clock[0] += 1
        taken += checks(50)
    assert taken == 10 * throttle.RATE
    with throttle.password_check(folder, known=True):  # a known device's own check is never spent
        pass
    (Path(folder) / "locks" / "log-in-0.lock").write_text("nan nan")  # a bucket that reads as nothing
    assert checks(3) == 0
    clock[0] += 1
    assert checks(3) == 2


def test_an_address_the_agent_logged_in_from_is_spared_the_crowds_wait(app: Flask) -> None:
    assert log_in(app.test_client(), DESK, "ann", PASSWORD).status_code == 302  # the office, cookies not kept
    crowd(app, "ann", 30)
    assert log_in(app.test_client(), DESK, "ann", PASSWORD).status_code == 302  # a new browser at the office
    assert log_in(app.test_client(), "192.0.2.50", "ann", PASSWORD).status_code == 429  # elsewhere: the wait
    for _ in range(throttle.NAME_AND_ADDRESS.free):  # but the office's own failures still count
        assert log_in(app.test_client(), DESK, "ann", "typo").status_code == 401
    assert log_in(app.test_client(), DESK, "ann", PASSWORD).status_code == 429


def test_password_checks_go_on_when_their_lock_files_cannot_be_made(app: Flask, caplog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    blocked = tmp_path / "a-file-not-a-folder"
    blocked.write_text("")
    app.config["DATA_DIR"] = str(blocked)
    assert log_in(app.test_client(), DESK, "ann", PASSWORD).status_code == 302
    assert "password checks are not capped" in caplog.text


def test_an_unnamed_proxy_in_front_of_the_log_ins_is_told_in_the_log(app: Flask, caplog) -> None:  # type: ignore[no-untyped-def]
    import ivr.agents.views as views

    views._warned_about_proxy = False
    client = app.test_client()
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.77"
    log_in(client, "127.0.0.1", "ann", PASSWORD)
    assert "IVR_PROXY_HOPS is 0" in caplog.text
