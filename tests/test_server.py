"""The production server: gunicorn with several workers on one SQLite file, played over HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from ivr.simulator.phone import SimulatedCall
from ivr.simulator.scenario import load, run
from ivr.simulator.transport import HttpTransport
from tests.conftest import TOKEN, wait_until_serving

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_scenario_over_http(server: str) -> None:
    outcome = run(load(ROOT / "tests" / "scenarios" / "order_status_keypad.yaml"), HttpTransport(server, TOKEN))
    assert outcome.ok, outcome.report()


def test_unsigned_http_request_is_refused(server: str) -> None:
    assert requests.post(f"{server}/voice/incoming", data={"CallSid": "CA" + "0" * 32}, timeout=5).status_code == 403


def test_many_calls_at_once_on_sqlite(server: str) -> None:
    """20 callers at once, each step possibly on another worker: every one hears their order."""

    def one_call(n: int) -> str:
        call = SimulatedCall(HttpTransport(server, TOKEN), caller=f"+1555020{n:04d}").dial()
        call.press("2")
        call.press(f"500{n % 5 + 1}#")
        heard = call.heard
        call.hangup()
        return heard

    with ThreadPoolExecutor(max_workers=20) as pool:
        heard = list(pool.map(one_call, range(60)))
    assert all("Order 5 0 0" in text for text in heard), heard


def test_the_same_step_posted_five_times_at_once_advances_once(server: str, tmp_path: Path) -> None:
    import sqlite3

    from tests.helpers import sid, twilio_params

    transport = HttpTransport(server, TOKEN)
    call = sid()
    transport.post("/voice/incoming", twilio_params(call))
    with ThreadPoolExecutor(max_workers=5) as pool:
        replies = list(
            pool.map(lambda _: transport.post("/voice/step/main_menu?n=1", twilio_params(call, Digits="2")), range(5))
        )
    assert {reply.status for reply in replies} == {200}
    assert len({reply.body for reply in replies}) == 1 and "order number" in replies[0].body
    with sqlite3.connect(tmp_path / "server.sqlite3") as db:
        assert db.execute("SELECT step, node FROM calls WHERE call_sid = ?", (call,)).fetchone() == (2, "order_number")
        events = db.execute("SELECT events FROM calls WHERE call_sid = ?", (call,)).fetchone()[0]
        assert [event["step"] for event in json.loads(events)] == [1, 2]


def test_make_run_leaves_no_control_socket_another_checkout_could_take(tmp_path: Path, template_db: Path) -> None:
    """gunicorn keeps one control socket per user (~/.gunicorn/gunicorn.ctl) unless told not to: two
    checkouts' `make run` on one host would replace and delete each other's."""
    import shlex

    lines = [line for line in (ROOT / "Makefile").read_text().splitlines() if "/gunicorn " in line]
    assert len(lines) == 2  # the phone line's and the desk's
    flags = shlex.split(lines[-1].split("/gunicorn", 1)[1].split("wsgi:app")[0])  # its settings: gunicorn.dev.conf.py
    assert "--bind" not in flags  # the phone line's: the port comes from the settings file
    database, home = tmp_path / "run.sqlite3", tmp_path / "home"
    database.write_bytes(template_db.read_bytes())
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "IVR_DATABASE_URL": f"sqlite:///{database}", "IVR_TWILIO_AUTH_TOKEN": TOKEN}
    servers = []
    for _ in range(2):  # two instances side by side, as two checkouts would run them
        port = free_port()
        bind = [*flags, "--bind", f"127.0.0.1:{port}"]
        servers.append((port, subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), *bind, "wsgi:app"],
                                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))  # fmt: skip
    try:
        for port, process in servers:
            wait_until_serving(f"http://127.0.0.1:{port}", process)
        assert not (home / ".gunicorn").exists() or not list((home / ".gunicorn").iterdir())
    finally:
        for _port, process in servers:
            process.terminate()
            process.wait(timeout=10)
