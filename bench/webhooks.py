"""Throughput and latency of one full call step, beside a bare Flask endpoint, in the same run.

Both run under gunicorn with 2 sync workers on this machine; wrk drives 20 connections. A full
step is a signed POST that checks the signature, loads and saves the call state, appends the event
log and renders TwiML. Every request is a different call, so no request takes the replay shortcut:
  - "incoming": POST /voice/incoming for a new CallSid (creates the call)
  - "menu step": POST /voice/step/main_menu?n=1 Digits=2 for a call already at the main menu
The rows take turns for several rounds (bare, incoming, step, bare, ...) so that a slow moment of the
shared machine does not fall on one row only; each figure is the median over the rounds. Beside each
row, the CPU time the server (gunicorn's processes) and wrk spent per request: on this 2-core machine
they share the cores, so a row's throughput is about the cores used over their sum.
Run: .venv/bin/python bench/webhooks.py [--seconds 5] [--rounds 3]   (needs wrk: apt-get install wrk)
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from urllib.parse import urlencode

import requests
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CONNECTIONS, THREADS, WORKERS = 20, 2, 2

LUA = """
local requests = {REQUESTS}
local counter = 0
local threads = {THREADS}
function setup(thread) thread:set("thread_id", counter); counter = counter + 1 end
function init(args) i = thread_id end
function request()
  local r = requests[(i % #requests) + 1]
  i = i + threads
  return wrk.format("POST", r[1], {["Content-Type"] = "application/x-www-form-urlencoded",
                                   ["X-Twilio-Signature"] = r[3]}, r[2])
end
function done(summary, latency, requests)
  io.write(string.format('RESULT {"requests": %d, "seconds": %f, "p50": %f, "p99": %f, "status_errors": %d, "socket_errors": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def params(call_sid: str, **extra: str) -> dict[str, str]:
    return {"CallSid": call_sid, "AccountSid": "AC" + "1" * 32, "From": "+15550100001", "To": "+15550100000",
            "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01", **extra}  # fmt: skip


def lua_script(requests_: list[tuple[str, str, str]], path: Path) -> Path:
    rows = ",\n".join("{" + ", ".join(json.dumps(x) for x in r) + "}" for r in requests_)
    path.write_text(LUA.replace("{REQUESTS}", "{" + rows + "}").replace("{THREADS}", str(THREADS)))
    return path


def start(app: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen:  # type: ignore[type-arg]
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}", app],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    for _ in range(200):
        try:
            requests.post(f"http://127.0.0.1:{port}/voice/incoming", timeout=1)
            return process
        except requests.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError(f"{app} did not start; see {log}")


def server_cpu_seconds(server: subprocess.Popen) -> float:  # type: ignore[type-arg]
    """CPU time (user + system) used so far by a gunicorn master and its workers (Linux /proc)."""
    pids = [server.pid, *map(int, Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split())]
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def measured(server: subprocess.Popen, port: int, script: Path, seconds: int) -> dict:  # type: ignore[type-arg]
    """One wrk run, with the server's and wrk's CPU time per request: where a row's time goes."""
    server_before, children_before = server_cpu_seconds(server), os.times()
    result = wrk(port, script, seconds)
    server_after, children_after = server_cpu_seconds(server), os.times()
    requests_ = max(result["requests"], 1)
    wrk_cpu = (children_after.children_user + children_after.children_system) - (
        children_before.children_user + children_before.children_system
    )
    result["server_ms"] = 1000 * (server_after - server_before) / requests_
    result["wrk_ms"] = 1000 * wrk_cpu / requests_
    return result


def wrk(port: int, script: Path, seconds: int) -> dict:  # type: ignore[type-arg]
    out = subprocess.run(
        ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "-s", str(script), f"http://127.0.0.1:{port}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:])


def waiting_at_the_main_menu(database: Path, answered: str, sids: list[str]) -> None:
    """Calls at the main menu exactly as the incoming webhook leaves them (state, last answer, event
    log): copies of the row of a call the server answered (setup, not timed)."""
    columns = ("from_number, to_number, language, node, step, retries, collected, verified_customer_id, last_twiml,"
               " started_at, updated_at, events")  # fmt: skip
    with sqlite3.connect(database, timeout=30) as db:
        assert db.execute("SELECT node FROM calls WHERE call_sid = ?", (answered,)).fetchone() == ("main_menu",)
        db.executemany(
            f"INSERT INTO calls (call_sid, {columns}) SELECT ?, {columns} FROM calls WHERE call_sid = ?",
            [(sid, answered) for sid in sids],
        )
    db.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install wrk")
        return 2
    work = Path(tempfile.mkdtemp(prefix="ivr-bench-"))
    token = secrets.token_hex(16)
    env = {**os.environ, "IVR_DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}", "IVR_TWILIO_AUTH_TOKEN": token}
    for command in (["db", "upgrade"], ["seed"]):
        subprocess.run(
            [str(BIN / "flask"), "--app", "wsgi", *command], cwd=ROOT, env=env, check=True, capture_output=True
        )

    ivr_port, bare_port = free_port(), free_port()
    validator = RequestValidator(token)
    # Enough distinct calls that none repeats within the run (well above what 2 workers can serve).
    count = 4000 * args.seconds * args.rounds
    incoming = []
    new_sids = ["CA" + secrets.token_hex(16) for _ in range(count)]
    for sid in new_sids:
        form = params(sid)
        signature = validator.compute_signature(f"http://127.0.0.1:{ivr_port}/voice/incoming", form)
        incoming.append(("/voice/incoming", urlencode(form), signature))
    menu_sids = ["CA" + secrets.token_hex(16) for _ in range(count)]
    step_url = "/voice/step/main_menu?n=1"
    steps = []
    for sid in menu_sids:
        form = params(sid, CallStatus="in-progress", Digits="2")
        steps.append(
            (step_url, urlencode(form), validator.compute_signature(f"http://127.0.0.1:{ivr_port}{step_url}", form))
        )

    processes = []
    results: dict[str, list[dict]] = {}  # type: ignore[type-arg]
    try:
        processes.append(start("wsgi:app", ivr_port, env, work / "ivr.log"))
        processes.append(start("bench.bare_app:app", bare_port, env, work / "bare.log"))
        # The bare endpoint gets the very requests the IVR gets (same bytes on the wire), and ignores them.
        bare_script = lua_script(incoming[-200:], work / "bare.lua")
        warmup = lua_script(incoming[-200:], work / "warm.lua")
        wrk(ivr_port, warmup, 1)
        wrk(bare_port, bare_script, 1)
        waiting_at_the_main_menu(work / "bench.sqlite3", new_sids[-1], menu_sids)
        share = (count - 200) // args.rounds
        for n in range(args.rounds):
            part = slice(n * share, (n + 1) * share)
            ivr, bare_server = processes
            scripts = {
                "bare Flask, constant TwiML": (bare_server, bare_port, bare_script),
                "IVR incoming (new call)": (ivr, ivr_port, lua_script(incoming[part], work / f"in{n}.lua")),
                "IVR menu step (press 2)": (ivr, ivr_port, lua_script(steps[part], work / f"step{n}.lua")),
            }
            for name, (server, port, script) in scripts.items():
                results.setdefault(name, []).append(measured(server, port, script, args.seconds))
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
    log = (work / "ivr.log").read_text()
    locked = log.count("database is locked")

    print(f"gunicorn {WORKERS} sync workers, wrk {THREADS} threads x {CONNECTIONS} connections, {os.cpu_count()} cores,"
          f" SQLite (WAL); {args.rounds} rounds of {args.seconds} s per row, medians")  # fmt: skip
    print(f"{'endpoint':32} {'requests':>9} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>7}"
          f" {'server CPU ms/req':>18} {'wrk CPU ms/req':>15}")  # fmt: skip
    rates = {name: [r["requests"] / r["seconds"] for r in rows] for name, rows in results.items()}
    broken = locked > 0
    for name, rows in results.items():
        errors = sum(r["status_errors"] + r["socket_errors"] for r in rows)
        broken |= any(r["status_errors"] for r in rows)
        print(
            f"{name:32} {sum(r['requests'] for r in rows):>9} {median(rates[name]):>8.0f}"
            f" {median(r['p50'] for r in rows):>7.2f} {median(r['p99'] for r in rows):>7.2f} {errors:>7}"
            f" {median(r['server_ms'] for r in rows):>18.3f} {median(r['wrk_ms'] for r in rows):>15.3f}"
        )
    bare = rates["bare Flask, constant TwiML"]
    for name in ("IVR incoming (new call)", "IVR menu step (press 2)"):
        # Each round's ratio compares rows measured minutes apart at most; the median of those.
        ratio = median(rate / base for rate, base in zip(rates[name], bare, strict=True))
        p99 = median(r["p99"] for r in results[name])
        print(f"{name}: {ratio:.0%} of bare throughput (target >= 50%: {'met' if ratio >= 0.5 else 'MISSED'}), "
              f"p99 {p99:.1f} ms (target <= 25 ms: {'met' if p99 <= 25 else 'MISSED'})")  # fmt: skip
    print(f"'database is locked' in the server log: {locked}")
    shutil.rmtree(work, ignore_errors=True)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
