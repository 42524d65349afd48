"""The agents' queue at the size of a line that has run for a while: 100,000 messages and their calls.

Times, over HTTP against gunicorn as `make run` starts it, an agent's three commonest looks:
  - the queue page (open messages, newest counts),
  - a search by a customer's name (all messages),
  - a search by a word of the transcripts (all messages),
  - searches that forgive: a name typed without its accents ("Makinen"), the start of a name
    ("Lovel"), the last four digits of a phone number,
each `--requests` times, on SQLite and on PostgreSQL (a throwaway cluster, when its binaries are
installed), printed side by side with p50 and p95 (target: p95 <= 150 ms).
The data: 5,000 customers; messages spread over a year, 2% new, 3% in progress, the rest done; a
third of the callers unknown; transcripts made of everyday sentences with order numbers said in
words; each message with its call and event log. PostgreSQL is vacuumed and analysed after the
bulk insert, as its autovacuum does by itself within a minute (before it, its index-only scans
still read the table: the queue's counts took 40 ms instead of 7).
Run: .venv/bin/python bench/agents.py [--messages 100000] [--requests 60]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from sqlalchemy import create_engine, insert, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent

from ivr.db import upgrade  # noqa: E402
from ivr.messages import search  # noqa: E402
from ivr.models import Agent, Call, Customer, Message  # noqa: E402
from tests.cluster import postgres_bin, throwaway_postgres  # noqa: E402

FIRST = ("Ada Grace Alan Edsger Barbara Donald Frances Ken Margaret Dennis Radia Tim Shafi Leslie Lynn Guido "
         "Anita Niklaus Sophie John Mary Katherine Annie Jean Hedy Karen Yukihiro Bjarne Linus Ida").split()  # fmt: skip
LAST = ("Lovelace Hopper Turing Dijkstra Liskov Knuth Allen Thompson Hamilton Ritchie Perlman Berners-Lee Goldwasser "
        "Lamport Conway Rossum Borg Wirth Wilson McCarthy Shaw Johnson Easley Bartik Lamarr Jones Matsumoto Stroustrup "
        "Torvalds Rhodes Kowalski Ozols Virtanen Bērziņš Kalniņa Nieminen Mäkinen Korhonen").split()  # fmt: skip
SENTENCES = [
    "hello I am calling about my order {order} it has not arrived yet",
    "my parcel was delivered to the wrong address please call me back",
    "I would like a refund for order {order} the item was broken",
    "can you tell me when the invoice will be sent",
    "I was charged twice this month for the same payment",
    "please change the delivery date of order {order}",
    "the driver never came and nobody answered the phone",
    "I need help with my account password and my pin",
    "thank you for the quick delivery I just have a question about the warranty",
    "could someone explain the late fee on my bill",
]
PASSWORD = "bench agents password"
DIGITS = "zero one two three four five six seven eight nine".split()


def said(number: str) -> str:
    """A number as a transcript has it: digit by digit, in words."""
    return " ".join(DIGITS[int(d)] for d in number)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fill(url: str, messages: int, seed: int = 7) -> dict[str, str]:
    """A migrated database with customers, calls and messages; what to search for."""
    upgrade(url)
    rng = random.Random(seed)
    engine = create_engine(url)
    customers = []
    for n in range(5000):
        customers.append({"id": n + 1, "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                          "phone": f"+1555{n:07d}", "account_number": f"{200000 + n}", "pin_hash": "x"})  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    calls, rows = [], []
    for n in range(messages):
        customer = customers[rng.randrange(len(customers))] if rng.random() > 0.33 else None
        caller = customer["phone"] if customer else f"+1666{rng.randrange(10**7):07d}"
        order = str(rng.randrange(5000, 99999))
        transcript = rng.choice(SENTENCES).format(order=said(order))
        sid = f"CA{n:032x}"
        at = now - dt.timedelta(minutes=rng.randrange(365 * 24 * 60))
        roll = rng.random()
        status = "new" if roll < 0.02 else "in_progress" if roll < 0.05 else "done"
        verified = customer is not None and rng.random() < 0.5
        events = [{"step": i, "node": node, "matched": matched, "at": at.isoformat()} for i, (node, matched) in
                  enumerate([("main_menu", "order_status"), ("order_number", order), ("order_result", "leave_message")])]  # fmt: skip
        calls.append({"call_sid": sid, "from_number": caller, "to_number": "+15550100000", "node": "call_over",
                      "collected": {"order_number": order}, "events": events, "started_at": at, "updated_at": at,
                      "outcome": "message_left"})  # fmt: skip
        holder = SimpleCustomer(customer) if customer else None
        rows.append({"recording_sid": f"RE{n:032x}", "call_sid": sid, "recording_url": "https://api.twilio.com/x",
                     "caller": caller, "customer_id": customer["id"] if verified else None, "reason": "caller_choice",
                     "branch": "order_result", "path": ["main_menu: order_status", "order_number: " + order],
                     "duration_seconds": rng.randrange(5, 120), "created_at": at, "changed_at": at, "status": status,
                     "assignee_id": 1 if status != "new" else None, "audio_status": "stored",
                     "transcript": transcript, "transcript_status": "done",
                     "search_text": search.document(caller, holder, transcript, {"order_number": order})})  # fmt: skip
    with engine.begin() as db:
        bob = db.execute(insert(Agent).values(name="bob", password_hash="x").returning(Agent.id)).scalar_one()
        for row in rows:
            row["assignee_id"] = bob if row["assignee_id"] else None
        db.execute(insert(Customer), customers)
        for start in range(0, messages, 5000):
            db.execute(insert(Call), calls[start : start + 5000])
            db.execute(insert(Message), rows[start : start + 5000])
    if engine.dialect.name == "postgresql":  # what autovacuum does by itself within a minute of a bulk insert
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
            db.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    name = customers[17]["name"].split()[-1]
    return {"name": name, "word": "refund"}


class SimpleCustomer:
    def __init__(self, row: dict) -> None:  # type: ignore[type-arg]
        self.name, self.account_number, self.phone = row["name"], row["account_number"], row["phone"]


def serve(url: str, work: Path, role: str = "agent", **settings: str) -> tuple[subprocess.Popen, str]:  # type: ignore[type-arg]
    """gunicorn as `make run` starts it, on `url` (and any other IVR_ `settings`), with the agent "ann"
    (in `role`) to log in as."""
    env = {**os.environ, "IVR_DATABASE_URL": url, "IVR_SECRET_KEY": "bench", "IVR_TWILIO_AUTH_TOKEN": "bench",
           **{f"IVR_{name}": value for name, value in settings.items()}}  # fmt: skip
    subprocess.run([str(BIN / "flask"), "--app", "wsgi", "agents", "create", "ann", "--role", role], cwd=ROOT, env=env,
                   check=True, input=PASSWORD + "\n", text=True, capture_output=True)  # fmt: skip
    port = free_port()
    log = (work / f"{port}.log").open("w")
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "--workers", "2", "--no-control-socket", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            requests.get(base + "/agent/login", timeout=5)
            return process, base
        except requests.RequestException:  # not listening yet, or still loading the app
            time.sleep(0.05)
    raise RuntimeError("the server did not start")


def timed(base: str, looks: dict[str, str], count: int) -> dict[str, tuple[float, float, str]]:
    session = requests.Session()
    page = session.get(base + "/agent/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    session.post(base + "/agent/login", data={"name": "ann", "password": PASSWORD, "csrf_token": token})
    results = {}
    for name, path in looks.items():
        times, said = [], ""
        for _ in range(count + 3):
            started = time.perf_counter()
            reply = session.get(base + path)
            times.append(time.perf_counter() - started)
            assert reply.status_code == 200, (path, reply.status_code)
            said = (re.search(r'class="found"[^>]*>\s*(.*?)\s*</p>', reply.text, re.S) or ["", ""])[1]
        times = sorted(times[3:])  # the first few warm the caches
        results[name] = (
            1000 * times[len(times) // 2],
            1000 * times[int(len(times) * 0.95) - 1],
            " ".join(said.split()),
        )
    return results


@contextmanager
def postgres() -> Iterator[str | None]:
    """A throwaway PostgreSQL cluster's URL (None when its binaries are not installed), stopped and
    its folder removed afterwards."""
    if postgres_bin() is None:
        yield None
        return
    with throwaway_postgres("ivr-bench-pg-") as url:
        yield url


@contextmanager
def databases(prefix: str) -> Iterator[tuple[Path, dict[str, str]]]:
    """A work folder and the databases to measure on: SQLite, and PostgreSQL (a throwaway cluster)
    when its binaries are installed; all taken away afterwards, also after Ctrl-C or a kill (SIGTERM)."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    before = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a kill runs the clean-up too
    try:
        with postgres() as pg:
            urls = {"SQLite": f"sqlite:///{work / 'bench.sqlite3'}", **({"PostgreSQL": pg} if pg else {})}
            yield work, urls
    finally:
        signal.signal(signal.SIGTERM, before)
        shutil.rmtree(work, ignore_errors=True)


def served(
    url: str, work: Path, looks: dict[str, str], count: int, role: str = "agent"
) -> dict[str, tuple[float, float, str]]:
    """`timed` against gunicorn serving `url`, stopped afterwards."""
    process, base = serve(url, work, role)
    try:
        return timed(base, looks, count)
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()
    results, failed = {}, False
    with databases("ivr-bench-agents-") as (work, urls):
        for name, url in urls.items():
            started = time.perf_counter()
            what = fill(url, args.messages)
            print(f"{name}: {args.messages} messages and their calls written in {time.perf_counter() - started:.0f} s",
                  flush=True)  # fmt: skip
            looks = {"queue page (open)": "/agent/", f"search by name ({what['name']})": f"/agent/?show=all&q={what['name']}",
                     "search without accents (Makinen)": "/agent/?show=all&q=Makinen",
                     "search by a start (Lovel)": "/agent/?show=all&q=Lovel",
                     "last four digits (0017)": "/agent/?show=all&q=0017",
                     f"search by a word ({what['word']})": f"/agent/?show=all&q={what['word']}"}  # fmt: skip
            results[name] = served(url, work, looks, args.requests)
    print(f"\n{args.messages} messages, {args.requests} requests per look, gunicorn 2 workers, {os.cpu_count()} cores")
    names = list(results)
    print(f"{'look':34}" + "".join(f"{n + ' p50':>16}{n + ' p95':>16}" for n in names) + "   what the page said")
    for look in next(iter(results.values())):
        row = f"{look:34}"
        for name in names:
            p50, p95, _said = results[name][look]
            row += f"{p50:>13.1f} ms{p95:>13.1f} ms"
            failed |= p95 > 150
        print(row + "   " + " | ".join(results[n][look][2] for n in names))
    print(f"target: p95 <= 150 ms everywhere: {'MISSED' if failed else 'met'}")
    if "PostgreSQL" not in results:
        print("PostgreSQL: not measured (its server binaries are not installed: apt-get install postgresql)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
