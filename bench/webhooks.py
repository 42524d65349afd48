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
With --baseline REF (a git commit, e.g. the one before a change), that commit's IVR runs beside
this one, checked out in a temporary worktree with its own database, and gets the same two rows.
With --api-clients N, each IVR also gets a menu-step row while N clients of the agents' JSON API
poll it once a second each with an agent's API token and the ETag they were last given
(what an integration does), and a control row with the same clients polling the bare server instead.
Run: .venv/bin/python bench/webhooks.py [--seconds 5] [--rounds 3] [--baseline REF]
     (needs wrk: apt-get install wrk)
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
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


def start(app: str, port: int, env: dict[str, str], log: Path, tree: Path = ROOT) -> subprocess.Popen:  # type: ignore[type-arg]
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}", app],
        cwd=tree, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    for _ in range(200):
        try:
            requests.post(f"http://127.0.0.1:{port}/voice/incoming", timeout=1)
            return process
        except (requests.ConnectionError, requests.Timeout):  # not listening yet, or still loading the app
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


@dataclass
class Server:
    """One IVR under test (this tree, or the baseline's worktree) and the signed requests it gets."""

    name: str
    tree: Path
    database: Path
    port: int = field(default_factory=free_port)
    incoming: list[tuple[str, str, str]] = field(default_factory=list)
    steps: list[tuple[str, str, str]] = field(default_factory=list)
    new_sids: list[str] = field(default_factory=list)
    menu_sids: list[str] = field(default_factory=list)
    process: subprocess.Popen | None = None  # type: ignore[type-arg]
    api_headers: dict[str, str] = field(default_factory=dict)

    def env(self, token: str) -> dict[str, str]:
        return {**os.environ, "IVR_DATABASE_URL": f"sqlite:///{self.database}", "IVR_TWILIO_AUTH_TOKEN": token,
                "IVR_SECRET_KEY": token}  # fmt: skip

    def prepare(self, token: str, count: int, steps: int) -> None:
        """A migrated, seeded database with an API agent, and `count` new calls and `steps` menu steps,
        signed for this port."""
        for command in (["db", "upgrade"], ["seed"], ["agents", "create", "bench"]):
            subprocess.run([str(BIN / "flask"), "--app", "wsgi", *command], cwd=self.tree, env=self.env(token),
                           check=True, capture_output=True, input=f"{API_PASSWORD}\n", text=True)  # fmt: skip
        # The agent's API token; a tree from before tokens takes the agent's Basic credentials.
        made = subprocess.run([str(BIN / "flask"), "--app", "wsgi", "agents", "token", "bench"], cwd=self.tree,
                              env=self.env(token), capture_output=True, text=True)  # fmt: skip
        basic = base64.b64encode(f"bench:{API_PASSWORD}".encode()).decode()
        self.api_headers = {"Authorization": f"Bearer {made.stdout.split()[-1]}" if made.returncode == 0 and
                            made.stdout.strip() else f"Basic {basic}"}  # fmt: skip
        validator = RequestValidator(token)
        self.new_sids = ["CA" + secrets.token_hex(16) for _ in range(count)]
        for sid in self.new_sids:
            form = params(sid)
            signature = validator.compute_signature(f"http://127.0.0.1:{self.port}/voice/incoming", form)
            self.incoming.append(("/voice/incoming", urlencode(form), signature))
        self.menu_sids = ["CA" + secrets.token_hex(16) for _ in range(steps)]
        step_url = "/voice/step/main_menu?n=1"
        for sid in self.menu_sids:
            form = params(sid, CallStatus="in-progress", Digits="2")
            signature = validator.compute_signature(f"http://127.0.0.1:{self.port}{step_url}", form)
            self.steps.append((step_url, urlencode(form), signature))


API_PASSWORD = "bench api password"
# The API rows: clients polling the IVR's own API, and the control: the same clients polling the bare
# server instead (on this 2-core machine their own work and wake-ups cost the IVR's workers some p99
# too, which an integration running elsewhere would not).
POLLING, CONTROL = "API clients polling", "API clients polling elsewhere"


class Pollers:
    """`clients` API clients, each asking for the open messages about once a second, while in `with`. Like
    a well-behaved integration, each sends back the ETag it was last given (If-None-Match)."""

    def __init__(self, port: int, clients: int, headers: dict[str, str]) -> None:
        self.url, self.clients, self.headers = f"http://127.0.0.1:{port}/agent/api/messages", clients, headers
        self.stop = threading.Event()
        self.latencies: list[float] = []
        self.failures = self.not_modified = 0

    def _poll(self, phase: float) -> None:
        etag = ""
        if self.stop.wait(phase):
            return
        with requests.Session() as session:
            while not self.stop.wait(1.0):
                started = time.perf_counter()
                try:
                    got = session.get(self.url, timeout=30,
                                      headers={**self.headers, **({"If-None-Match": etag} if etag else {})})  # fmt: skip
                    ok = got.status_code in (200, 304)
                    etag = got.headers.get("ETag", "")
                    self.not_modified += got.status_code == 304
                except requests.RequestException:
                    ok = False
                self.latencies.append(time.perf_counter() - started)
                self.failures += not ok

    def __enter__(self) -> Pollers:
        # Independent clients: their polls spread over the second, not all at the same moment.
        self.threads = [
            threading.Thread(target=self._poll, args=(n / self.clients,), daemon=True) for n in range(self.clients)
        ]
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=35)


def baseline_tree(ref: str, work: Path) -> Path:
    tree = work / "baseline"
    subprocess.run(["git", "worktree", "add", "--detach", str(tree), ref], cwd=ROOT, check=True, capture_output=True)
    return tree


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", help="a git commit whose IVR runs beside this one")
    parser.add_argument("--api-clients", type=int, default=0, help="a row with this many API clients polling")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install wrk")
        return 2
    work = Path(tempfile.mkdtemp(prefix="ivr-bench-"))
    token = secrets.token_hex(16)
    servers = [Server("IVR", ROOT, work / "bench.sqlite3")]
    if args.baseline:
        servers.append(
            Server(f"baseline {args.baseline[:10]}", baseline_tree(args.baseline, work), work / "base.sqlite3")
        )
    # Enough distinct calls that none repeats within the run (well above what 2 workers can serve).
    # The API rows take menu steps of their own, so that the step rows' database is the same size.
    count = 4000 * args.seconds * args.rounds
    step_count = count * (3 if args.api_clients else 1)
    for server in servers:
        server.prepare(token, count, step_count)
    bare_port = free_port()
    env = servers[0].env(token)

    results: dict[str, list[dict]] = {}  # type: ignore[type-arg]
    polls: dict[str, list[float]] = {}
    poll_failures = 0
    not_modified: dict[str, int] = {}
    bare_server = None
    try:
        for server in servers:
            server.process = start("wsgi:app", server.port, server.env(token), work / f"{server.port}.log", server.tree)
        bare_server = start("bench.bare_app:app", bare_port, env, work / "bare.log")
        # The bare endpoint gets the very requests the IVR gets (same bytes on the wire), and ignores them.
        bare_script = lua_script(servers[0].incoming[-200:], work / "bare.lua")
        wrk(bare_port, bare_script, 1)
        for server in servers:
            wrk(server.port, lua_script(server.incoming[-200:], work / f"warm{server.port}.lua"), 1)
            waiting_at_the_main_menu(server.database, server.new_sids[-1], server.menu_sids)
        share = (count - 200) // args.rounds
        for n in range(args.rounds):
            part = slice(n * share, (n + 1) * share)
            scripts = {"bare Flask, constant TwiML": (bare_server, bare_port, bare_script)}
            for server in servers:
                scripts[f"{server.name} incoming (new call)"] = (
                    server.process,
                    server.port,
                    lua_script(server.incoming[part], work / f"in{server.port}-{n}.lua"),
                )
                steps = server.steps[n * len(server.steps) // args.rounds : (n + 1) * len(server.steps) // args.rounds]
                third = len(steps) // 3 if args.api_clients else len(steps)
                scripts[f"{server.name} menu step (press 2)"] = (
                    server.process,
                    server.port,
                    lua_script(steps[:third], work / f"st{server.port}-{n}.lua"),
                )
                if args.api_clients:
                    for k, row in enumerate((CONTROL, POLLING), start=1):
                        scripts[f"{server.name} menu step, {args.api_clients} {row}"] = (
                            server.process,
                            server.port,
                            lua_script(steps[k * third : (k + 1) * third], work / f"s{k}{server.port}-{n}.lua"),
                        )
            for name, (process, port, script) in scripts.items():
                if name.endswith((CONTROL, POLLING)):
                    polled = bare_port if name.endswith(CONTROL) else port
                    headers = next(s.api_headers for s in servers if s.port == port)
                    with Pollers(polled, args.api_clients, headers) as pollers:
                        results.setdefault(name, []).append(measured(process, port, script, args.seconds))
                    polls.setdefault(name, []).extend(pollers.latencies)
                    poll_failures += pollers.failures
                    not_modified[name] = not_modified.get(name, 0) + pollers.not_modified
                else:
                    results.setdefault(name, []).append(measured(process, port, script, args.seconds))
    finally:
        for process in [s.process for s in servers] + [bare_server]:
            if process is not None:
                process.terminate()
                process.wait(timeout=10)
        if args.baseline:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(servers[1].tree)], cwd=ROOT, capture_output=True
            )
    locked = sum((work / f"{s.port}.log").read_text().count("database is locked") for s in servers)

    print(f"gunicorn {WORKERS} sync workers, wrk {THREADS} threads x {CONNECTIONS} connections, {os.cpu_count()} cores,"
          f" SQLite (WAL); {args.rounds} rounds of {args.seconds} s per row, medians")  # fmt: skip
    print(f"{'endpoint':56} {'requests':>9} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>7}"
          f" {'server CPU ms/req':>18} {'wrk CPU ms/req':>15}")  # fmt: skip
    rates = {name: [r["requests"] / r["seconds"] for r in rows] for name, rows in results.items()}
    broken = locked > 0
    for name, rows in results.items():
        errors = sum(r["status_errors"] + r["socket_errors"] for r in rows)
        broken |= any(r["status_errors"] for r in rows)
        print(
            f"{name:56} {sum(r['requests'] for r in rows):>9} {median(rates[name]):>8.0f}"
            f" {median(r['p50'] for r in rows):>7.2f} {median(r['p99'] for r in rows):>7.2f} {errors:>7}"
            f" {median(r['server_ms'] for r in rows):>18.3f} {median(r['wrk_ms'] for r in rows):>15.3f}"
        )
    bare = rates["bare Flask, constant TwiML"]
    for server in servers:
        for row in ("incoming (new call)", "menu step (press 2)"):
            name = f"{server.name} {row}"
            # Each round's ratio compares rows measured minutes apart at most; the median of those.
            ratio = median(rate / base for rate, base in zip(rates[name], bare, strict=True))
            p99 = median(r["p99"] for r in results[name])
            print(f"{name}: {ratio:.0%} of bare throughput (target >= 50%: {'met' if ratio >= 0.5 else 'MISSED'}), "
                  f"p99 {p99:.1f} ms (target <= 25 ms: {'met' if p99 <= 25 else 'MISSED'})")  # fmt: skip
    if args.baseline:
        base = servers[1].name
        for row in ("incoming (new call)", "menu step (press 2)"):
            ratio = median(a / b for a, b in zip(rates[f"IVR {row}"], rates[f"{base} {row}"], strict=True))
            print(f"{row}: this tree at {ratio:.0%} of the baseline's throughput "
                  f"(target: no step slower by more than 10%: {'met' if ratio >= 0.9 else 'MISSED'})")  # fmt: skip
    for server in servers if args.api_clients else ():
        quiet = median(r["p99"] for r in results[f"{server.name} menu step (press 2)"])
        control = median(r["p99"] for r in results[f"{server.name} menu step, {args.api_clients} {CONTROL}"])
        name = f"{server.name} menu step, {args.api_clients} {POLLING}"
        busy = median(r["p99"] for r in results[name])
        waits = sorted(polls.get(name, [0.0]))
        print(f"{name}: p99 {busy:.1f} ms against {control:.1f} ms with the same clients polling the bare"
              f" server ({quiet:.1f} ms with no clients) (target within 10%: {'met' if busy <= control * 1.1 else 'MISSED'});"
              f" the polls' median {1000 * waits[len(waits) // 2]:.1f} ms, {len(waits)} polls,"
              f" {not_modified.get(name, 0)} answered 304 Not Modified")  # fmt: skip
    if poll_failures:
        print(f"API polls that failed: {poll_failures}")
    print(f"'database is locked' in the server logs: {locked}")
    shutil.rmtree(work, ignore_errors=True)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
