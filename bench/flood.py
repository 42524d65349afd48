"""A flood of log-ins beside the phone line: how long a caller's step takes, quiet and flooded.

One caller at a time (this process) makes calls: a new call (POST /voice/incoming) and its first
key at the main menu, signed as Twilio signs them, one after another; each step's time is kept.
Meanwhile wrk floods the desk's log-in form from 30 connections with a new name and a wrong password
each time, in two ways:
  - "one address": every guess from the same address (the per-address limit soon refuses them);
  - "a crowd": every guess from a new address (X-Forwarded-For behind a proxy), so no wait applies
    and only the host's few password checks a second (ivr/agents/throttle.py) bound the hashing.
Two setups, side by side in one run, each on a fresh copy of one seeded SQLite database:
  - "together" (the baseline, as before): one gunicorn with 2 workers answers everything;
  - "desk apart" (the production recipe, docs/production.md): the phone line's gunicorn (2 workers,
    IVR_DESK_URL set) on every core, and the desk's own gunicorn (2 workers) at `nice -n 10` on the
    last core (`taskset`); the flood goes to the desk's, as the proxy sends /agent there.
wrk itself runs on the desk's core at `nice -n 19`: on a real line the flood's senders are other
machines, and its cost here should fall where the desk's does. A control row, "desk core busy",
keeps that core busy with a loop at the lowest priority and no flood: what any load there costs.
The target: a voice step's p99 flooded within 20% of its quiet value with the desk apart.
Run: .venv/bin/python bench/flood.py [--seconds 15]   (needs wrk: apt-get install wrk)
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from statistics import median
from urllib.parse import urlencode

import requests
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent

from bench.webhooks import free_port, params  # noqa: E402

CONNECTIONS, THREADS, WORKERS = 30, 2, 2
PASSWORD = "the agent's own password"
TOKEN = secrets.token_hex(16)

FLOOD = """
local counter = 0
function setup(thread) thread:set("id", counter); counter = counter + 1 end
function init(args) n = id * 1000000 end
function request()
  n = n + 1
  local headers = {["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = "{COOKIE}"}
  if {CROWD} then headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256) end
  return wrk.format("POST", "/agent/login", headers, "name=guess" .. n .. "&password=wrong" .. n .. "&csrf_token={CSRF}")
end
function done(summary, latency, requests)
  io.write(string.format("RESULT %d %f\\n", summary.requests, summary.duration / 1e6))
end
"""


def env(database: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "IVR_DATABASE_URL": f"sqlite:///{database}", "IVR_TWILIO_AUTH_TOKEN": TOKEN,
            "IVR_SECRET_KEY": TOKEN, "IVR_PROXY_HOPS": "1", **extra}  # fmt: skip


def seeded(folder: Path) -> Path:
    database = folder / "seeded.sqlite3"
    for command in (["db", "upgrade"], ["seed"], ["agents", "create", "dave"]):
        subprocess.run([str(BIN / "flask"), "--app", "wsgi", *command], cwd=ROOT, env=env(database), check=True,
                       capture_output=True, input=f"{PASSWORD}\n", text=True)  # fmt: skip
    return database


# The desk's share of this machine: its last core, at a lower priority (as docs/production.md runs it).
DESK_CORE = str((os.cpu_count() or 1) - 1)
ON_THE_DESKS_CORE = ["taskset", "-c", DESK_CORE]


def gunicorn(port: int, environment: dict[str, str], log: Path, desk: bool = False) -> subprocess.Popen:  # type: ignore[type-arg]
    command = [str(BIN / "gunicorn"), "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}", "wsgi:app"]
    if desk:
        command = [*ON_THE_DESKS_CORE, "nice", "-n", "10", *command]
    process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log.open("w"), stderr=subprocess.STDOUT)
    for _ in range(400):
        try:
            requests.get(f"http://127.0.0.1:{port}/voice/none", timeout=1)
            return process
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.05)
    raise RuntimeError(f"gunicorn on {port} did not start; see {log}")


class Caller(threading.Thread):
    """Calls one after another until stopped: each call's first two steps, timed (milliseconds)."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port, self.times, self.failures = port, [], 0
        self.stopping = threading.Event()

    def step(self, session: requests.Session, path: str, form: dict[str, str]) -> None:
        url = f"http://127.0.0.1:{self.port}{path}"
        signature = RequestValidator(TOKEN).compute_signature(url, form)
        started = time.perf_counter()
        reply = session.post(url, data=urlencode(form), timeout=30, headers={
            "X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
        self.times.append(1000 * (time.perf_counter() - started))
        if reply.status_code != 200 or "<Response>" not in reply.text:
            self.failures += 1

    def run(self) -> None:
        with requests.Session() as session:
            while not self.stopping.is_set():
                sid = "CA" + secrets.token_hex(16)
                self.step(session, "/voice/incoming", params(sid))
                self.step(session, "/voice/step/main_menu?n=1", params(sid, CallStatus="in-progress", Digits="2"))


def flood_script(port: int, crowd: bool, folder: Path) -> Path:
    """wrk's script, with a session cookie and its CSRF token from the log-in page."""
    page = requests.get(f"http://127.0.0.1:{port}/agent/login", timeout=10)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None, page.text[:500]
    cookie = "; ".join(f"{name}={value}" for name, value in page.cookies.items())
    script = folder / f"flood-{port}-{crowd}.lua"
    script.write_text(FLOOD.replace("{COOKIE}", cookie).replace("{CSRF}", csrf.group(1))
                      .replace("{CROWD}", "true" if crowd else "false"))  # fmt: skip
    return script


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)]


def measure(voice: int, desk: int, flood: str, seconds: int, folder: Path) -> dict[str, float]:
    caller = Caller(voice)
    load = None
    if flood == "desk core busy":
        load = subprocess.Popen([*ON_THE_DESKS_CORE, "chrt", "--idle", "0", sys.executable, "-c", "while True: pass"])
    elif flood != "quiet":
        script = flood_script(desk, flood == "a crowd", folder)
        load = subprocess.Popen(
            [*ON_THE_DESKS_CORE, "nice", "-n", "19", "wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds + 2}s",
             "--timeout", "30s", "-s", str(script), f"http://127.0.0.1:{desk}"], stdout=subprocess.PIPE, text=True)  # fmt: skip
    if load is not None:
        time.sleep(1)  # under way before the first call
    caller.start()
    time.sleep(seconds)
    caller.stopping.set()
    caller.join()
    guesses = 0.0
    if flood == "desk core busy" and load is not None:
        load.kill()
        load.wait()
    elif load is not None:
        out, _ = load.communicate()
        found = next(line for line in out.splitlines() if line.startswith("RESULT "))
        count, duration = found.split()[1:]
        guesses = int(count) / float(duration)
    return {"p50": percentile(caller.times, 0.5), "p99": percentile(caller.times, 0.99), "steps": len(caller.times),
            "failed": caller.failures, "guesses": guesses}  # fmt: skip


def hashed(database: Path) -> int:
    import sqlite3

    with sqlite3.connect(database) as db:
        return int(db.execute("SELECT count(*) FROM login_attempts").fetchone()[0])


SETUPS = ("together", "desk apart")
LOADS = ("quiet", "desk core busy", "one address", "a crowd")


def row(setup: str, flood: str, template: Path, folder: Path, seconds: int) -> dict[str, float]:
    """One row once: its servers started on a fresh copy of the database, measured, stopped."""
    database = folder / f"{setup}-{flood}.sqlite3".replace(" ", "-")
    shutil.copy(template, database)
    voice, desk = free_port(), free_port()
    started = []
    if setup == "together":
        started.append(gunicorn(voice, env(database), folder / f"{voice}.log"))
        desk = voice
    else:
        started.append(gunicorn(desk, env(database), folder / f"{desk}.log", desk=True))
        started.append(gunicorn(voice, env(database, IVR_DESK_URL=f"http://127.0.0.1:{desk}"), folder / f"{voice}.log"))
    try:
        measured = measure(voice, desk, flood, seconds, folder)
    finally:
        for process in started:
            process.terminate()
            process.wait()
    measured["hashed"] = hashed(database)
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=15, help="how long each row's calls go on")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every row, taking turns; medians shown")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    folder = Path(tempfile.mkdtemp(prefix="ivr-flood-"))
    template = seeded(folder)
    runs: dict[tuple[str, str], list[dict[str, float]]] = {}
    for n in range(args.rounds):  # the rows take turns, so a slow moment of the machine falls on no row alone
        for setup in SETUPS:
            for flood in LOADS:
                runs.setdefault((setup, flood), []).append(row(setup, flood, template, folder, args.seconds))
        print(f"  round {n + 1} of {args.rounds} done", file=sys.stderr)
    rows = {key: {name: median(m[name] for m in measured) for name in measured[0]} for key, measured in runs.items()}
    print(f"\nA voice step (new call, then a key at the menu), one caller, {args.seconds} s a row, medians of "
          f"{args.rounds} rounds; wrk floods /agent/login from {CONNECTIONS} connections")  # fmt: skip
    print(f"{'setup':<12} {'flood':<14} {'steps':>6} {'p50 ms':>8} {'p99 ms':>8} {'p99/quiet':>9} "
          f"{'guesses/s':>10} {'hashed':>7} {'failed':>6}")  # fmt: skip
    for (setup, flood), m in rows.items():
        ratio = m["p99"] / rows[setup, "quiet"]["p99"]
        print(f"{setup:<12} {flood:<14} {m['steps']:>6.0f} {m['p50']:>8.1f} {m['p99']:>8.1f} {ratio:>9.2f} "
              f"{m['guesses']:>10.0f} {m['hashed']:>7.0f} {m['failed']:>6.0f}")  # fmt: skip
    worst = max(rows["desk apart", flood]["p99"] / rows["desk apart", "quiet"]["p99"] for flood in LOADS[2:])
    verdict = "met" if worst <= 1.2 else "NOT met"
    print(f"\nTarget (desk apart: flooded p99 within 20% of quiet): {verdict}, worst {worst:.2f}x")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
