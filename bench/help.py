"""The help centre's search over HTTP with a knowledge base of 2,000 entries: what a visitor waits for.

gunicorn with 2 sync workers serves a migrated SQLite database holding the English demo entries and
made-up ones up to 2,000 (bench/faq.py `large_base`), and the Finnish and Latvian demo entries. Each
English, Finnish and Latvian question of bench/faq.py's sets is asked once at GET /help/search (the
page, with its topics, and the search kept for the insights: a write per search) and at
GET /help/api/search (the JSON), one request at a time, as one visitor after another. Printed: the
requests, and p50, p95 and the slowest in milliseconds, per row; the first request of each worker (its
index built) is left out and said. Target: p95 <= 30 ms for /help/search.
Run: .venv/bin/python bench/help.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.faq import LANGUAGES, NOT_IN_BASE, TABLES, large_base, questions, questions_not_in_base  # noqa: E402
from bench.webhooks import BIN, free_port  # noqa: E402
from ivr.db import Database, upgrade  # noqa: E402
from ivr.knowledge.entries import DEMO_FILES, import_entries, read_file  # noqa: E402

WORKERS = 2
TARGET_MS = 30.0


def asked() -> list[tuple[str, str]]:
    """(language, question): every question of bench/faq.py's sets, in each language."""
    found = []
    for language in LANGUAGES:
        found += [(language, q) for table, _ in TABLES for q, _ in questions(language, table)]
        found += [(language, q) for table, _ in NOT_IN_BASE for q in questions_not_in_base(language, table)]
    return found


def timed(session: requests.Session, url: str, params: dict[str, str]) -> float:
    started = time.perf_counter()
    reply = session.get(url, params=params, timeout=10)
    elapsed = (time.perf_counter() - started) * 1000
    if reply.status_code != 200:
        raise RuntimeError(f"{reply.url}: {reply.status_code}")
    return elapsed


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "help.sqlite3"
        url = f"sqlite:///{database}"
        upgrade(url)
        db = Database(url)
        with db.transaction() as session:
            others = [dict(e) for path in DEMO_FILES[1:] for e in read_file(path)]
            import_entries(session, large_base() + others)
        db.engine.dispose()
        port = free_port()
        env = {**os.environ, "IVR_DATABASE_URL": url, "IVR_TWILIO_AUTH_TOKEN": "bench", "IVR_SECRET_KEY": "bench",
               "IVR_LANGUAGES": ",".join(LANGUAGES)}  # fmt: skip
        log = Path(folder) / "gunicorn.log"
        server = subprocess.Popen([str(BIN / "gunicorn"), "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}",
                                   "wsgi:app"], cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(400):
                try:
                    requests.get(base + "/help/", timeout=1)
                    break
                except (requests.ConnectionError, requests.Timeout):
                    time.sleep(0.05)
            session = requests.Session()
            warm = [timed(session, base + "/help/search", {"q": "delivery", "lang": code}) for code in LANGUAGES * 2]
            rows = {}
            for label, path in (("/help/search", "/help/search"), ("/help/api/search", "/help/api/search")):
                rows[label] = sorted(timed(session, base + path, {"q": q, "lang": code}) for code, q in asked())
        finally:
            server.terminate()
            server.wait()
    print(f"Help centre search over HTTP: 2,000 English entries (and the Finnish and Latvian demo ones), SQLite,"
          f" gunicorn {WORKERS} sync workers, {os.cpu_count()} cores, one request at a time\n")  # fmt: skip
    print(f"first requests per language and worker (index built): {', '.join(f'{t:.0f}' for t in warm)} ms\n")
    print(f"{'':<20}{'requests':>10}{'p50 ms':>9}{'p95 ms':>9}{'slowest':>9}")
    for label, times in rows.items():
        p50, p95 = times[len(times) // 2], times[int(len(times) * 0.95)]
        print(f"{label:<20}{len(times):>10}{p50:>9.1f}{p95:>9.1f}{times[-1]:>9.1f}")
    p95 = rows["/help/search"][int(len(rows["/help/search"]) * 0.95)]
    print(f"\ntarget: p95 <= {TARGET_MS:.0f} ms for /help/search")
    return 0 if p95 <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
