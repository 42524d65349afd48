"""Call steps through nginx in front of one app host and in front of two, side by side in one run, on one
PostgreSQL, as deploy/ sets them up (tests/cluster.py starts it); and the same while the hosts' workers
transcribe long voice messages.

Each row: wrk (2 threads x 20 connections, over https) posts signed call steps to nginx, every request
a different call (no replay shortcut):
  - "new call": POST /voice/incoming (creates the call's row)
  - "menu step": POST /voice/step/main_menu?n=1 Digits=2 for a call waiting at the main menu
With one host, nginx's ivr-hosts.conf lists host A; with two, A and B (reloaded between rows; both
hosts run throughout, each with 2 phone-line workers, a desk worker and the background worker). The
rows take turns for several rounds; each figure is the median over the rounds. After each row the
database says what became of the calls: "lost" counts steps answered 200 whose call did not move.
On this 2-core machine both hosts share the same cores: the point is no errors and no loss.
Run: .venv/bin/python bench/hosts.py [--seconds 5] [--rounds 3]   (needs wrk, nginx, PostgreSQL)
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from urllib.parse import urlencode

import numpy as np
import soundfile
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.webhooks import CONNECTIONS, THREADS, lua_script, params  # noqa: E402
from ivr.models import Call, Message, RecordingAudio  # noqa: E402
from tests.cluster import Host, Nginx, nginx_binary, throwaway_postgres  # noqa: E402

TOKEN = "bench-hosts-token"
FLASK = [str(Path(sys.executable).with_name("flask")), "--app", "wsgi"]
# Each row's requests: more than wrk sends in a row here, so that no call is posted twice.
PER_ROW = 8000
# The voice messages waiting to be transcribed through the "workers transcribing" rows: enough to keep
# both hosts' workers at it to the end.
BUSY_MESSAGES, BUSY_SECONDS = 40, 60
NEW, MENU = "new call", "menu step"


def wrk(url: str, script: Path, seconds: int) -> dict:  # type: ignore[type-arg]
    out = subprocess.run(
        ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:])


class Bench:
    def __init__(self, url: str, folder: Path) -> None:
        self.db: Engine = create_engine(url)
        self.folder = folder
        self.nginx = Nginx(folder / "nginx", [])
        env = {**os.environ, "IVR_DATABASE_URL": url, "IVR_TWILIO_AUTH_TOKEN": TOKEN, "IVR_SECRET_KEY": TOKEN,
               "IVR_PROXY_HOPS": "1", "IVR_AUDIO_RETENTION_DAYS": "0"}  # fmt: skip
        self.env = env
        self.a = Host("A", folder / "a", env, self.nginx.url)
        self.b = Host("B", folder / "b", env, self.nginx.url)
        self.nginx.hosts = [self.a, self.b]
        self.validator = RequestValidator(TOKEN)
        self.template = ""

    def start(self) -> None:
        booting = [self.a.prepare(), self.b.prepare()]
        for process in booting:
            assert process.wait(300) == 0, process.communicate()[0]
            process.communicate()
        subprocess.run([*FLASK, "seed"], cwd=ROOT, env=self.env, check=True, capture_output=True)
        for host in (self.a, self.b):
            host.start("ivr-phone", workers=2)
            host.start("ivr-desk", workers=1)
            host.start("ivr-worker")
        for host in (self.a, self.b):
            host.serving()
        self.nginx.start()
        # One call answered for real: the row every "menu step" call is copied from.
        self.template = "CA" + secrets.token_hex(16)
        session = self.nginx.session()
        url = "/voice/incoming"
        form = params(self.template)
        answer = session.post(self.nginx.url + url, data=form, timeout=30,
                              headers={"X-Twilio-Signature": self.signed(url, form)})  # fmt: skip
        assert answer.status_code == 200, answer.text

    def signed(self, url: str, form: dict[str, str]) -> str:
        return self.validator.compute_signature(self.nginx.url + url, form)

    def requests_for(self, kind: str) -> tuple[list[str], Path]:
        """New calls' ids and a wrk script posting one step of each."""
        sids = ["CA" + secrets.token_hex(16) for _ in range(PER_ROW)]
        rows = []
        if kind == NEW:
            for sid in sids:
                form = params(sid)
                rows.append(("/voice/incoming", urlencode(form), self.signed("/voice/incoming", form)))
        else:
            self.waiting_at_the_main_menu(sids)
            url = "/voice/step/main_menu?n=1"
            for sid in sids:
                form = params(sid, CallStatus="in-progress", Digits="2")
                rows.append((url, urlencode(form), self.signed(url, form)))
        return sids, lua_script(rows, self.folder / f"{kind.replace(' ', '-')}.lua")

    def waiting_at_the_main_menu(self, sids: list[str]) -> None:
        """Calls exactly as the incoming webhook left the template call (setup, not timed)."""
        columns = ", ".join(column.name for column in Call.__table__.columns if column.name != "call_sid")
        with self.db.begin() as connection:
            connection.execute(
                text(f"INSERT INTO calls (call_sid, {columns}) SELECT sid, {columns} FROM calls, "
                     "unnest(CAST(:sids AS text[])) AS sid WHERE call_sid = :template"),
                {"sids": sids, "template": self.template},
            )  # fmt: skip

    def moved(self, kind: str, sids: list[str]) -> int:
        """How many of the row's calls the database shows answered: made, or moved past the main menu."""
        query = select(func.count()).select_from(Call).where(Call.call_sid.in_(sids))
        if kind == MENU:
            query = query.where(Call.step == 2)
        with self.db.connect() as connection:
            return connection.scalar(query) or 0

    def messages_to_transcribe(self, audio: bytes) -> None:
        """BUSY_MESSAGES long messages, their audio kept, waiting for a transcript: the workers start on them."""
        now = dt.datetime.now(dt.UTC)
        with Session(self.db) as session, session.begin():
            for _ in range(BUSY_MESSAGES):
                sid = "RE" + secrets.token_hex(16)
                name = f"database:bench-{sid}.wav"
                session.add(RecordingAudio(name=name, data=audio, size=len(audio)))
                session.add(Message(recording_sid=sid, call_sid="CA" + secrets.token_hex(16), recording_url="",
                                    audio_status="stored", audio_path=name, transcript_status="pending",
                                    next_try_at=now, duration_seconds=BUSY_SECONDS))  # fmt: skip

    def transcribed(self) -> int:
        with self.db.connect() as connection:
            return (
                connection.scalar(select(func.count()).select_from(Message).where(Message.transcript_status == "done"))
                or 0
            )

    def row(self, kind: str, hosts: int, seconds: int) -> dict:  # type: ignore[type-arg]
        """One row: wrk through nginx listing `hosts` hosts, and what the database says of its calls."""
        self.nginx.reload([self.a, self.b][:hosts])
        sids, script = self.requests_for(kind)
        result = wrk(self.nginx.url, script, seconds)
        if result["requests"] > PER_ROW:
            print(f"warning: {kind} sent {result['requests']} requests, more than the {PER_ROW} calls made")
        time.sleep(1)  # the steps still in flight when wrk stopped
        result["lost"] = max(result["requests"] - result["status_errors"] - self.moved(kind, sids), 0)
        return result

    def stop(self) -> None:
        self.nginx.stop()
        for host in (self.a, self.b):
            host.stop()
        self.db.dispose()


def long_message() -> bytes:
    """BUSY_SECONDS of a caller's speech (the test's recorded message, again and again), as WAV."""
    said, rate = soundfile.read(ROOT / "tests" / "fixtures" / "messages" / "ada.wav", dtype="int16")
    samples = np.tile(said, BUSY_SECONDS * rate // len(said) + 1)[: BUSY_SECONDS * rate]
    out = io.BytesIO()
    soundfile.write(out, samples, rate, subtype="PCM_16", format="WAV")
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    missing = [tool for tool in ("wrk", "openssl") if not shutil.which(tool)] + ([] if nginx_binary() else ["nginx"])
    if missing:
        print(f"missing: {', '.join(missing)} (apt-get install {' '.join(missing)})")
        return 1
    rows = [(kind, hosts, busy) for busy in (False, True) for kind in ((NEW, MENU) if not busy else (MENU,))
            for hosts in (1, 2)]  # fmt: skip
    results: dict[tuple[str, int, bool], list[dict]] = {row: [] for row in rows}  # type: ignore[type-arg]
    audio = long_message()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a kill stops the hosts and PostgreSQL too
    with throwaway_postgres("ivr-bench-pg-") as url, tempfile.TemporaryDirectory(prefix="ivr-bench-hosts-") as folder:
        bench = Bench(url, Path(folder))
        try:
            bench.start()
            started = time.monotonic()  # (again when the busy rows start)
            # The quiet rows first, then the busy ones: a transcription once started runs to its end.
            for busy in (False, True):
                if busy:
                    bench.messages_to_transcribe(audio)
                    started = time.monotonic()
                    time.sleep(2)  # the workers have taken them up
                for _round in range(options.rounds):
                    for row in [row for row in rows if row[2] == busy]:
                        results[row].append(bench.row(row[0], row[1], options.seconds))
            transcribed, minutes = bench.transcribed(), (time.monotonic() - started) / 60
        finally:
            bench.stop()
    print(f"nginx (https) in front of 1 or 2 app hosts (gunicorn, 2 sync workers each, and a worker), one PostgreSQL;"
          f" wrk {THREADS} threads x {CONNECTIONS} connections, {options.seconds} s a row, median of {options.rounds}"
          f" rounds, {os.cpu_count()} cores")  # fmt: skip
    print(f"{'row':44} {'hosts':>5} {'steps/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>7} {'lost':>5}")
    for kind, hosts, busy in rows:
        done = results[(kind, hosts, busy)]
        name = kind + (f", workers transcribing {BUSY_SECONDS} s messages" if busy else "")
        errors = sum(r["status_errors"] + r["socket_errors"] for r in done)
        print(f"{name:44} {hosts:>5} {median(r['requests'] / r['seconds'] for r in done):>8.0f}"
              f" {median(r['p50'] for r in done):>7.1f} {median(r['p99'] for r in done):>7.1f}"
              f" {errors:>7} {sum(r['lost'] for r in done):>5}")  # fmt: skip
    print(f"Meanwhile the workers transcribed {transcribed} of the {BUSY_MESSAGES} messages of {BUSY_SECONDS} s queued,"
          f" in the {minutes:.1f} min of the busy rows.")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
