"""The supervisors' insights at the size of a line that has run for three months: 1,000,000 calls.

Writes a database with 1,000,000 ended calls over 90 days (outcomes, languages and hours of the day
as a real line has them), already rolled up by the worker into the day rows the figures are read
from (as `flask insights rollup` leaves them), and 100,000 voice messages with their history (most
closed by one of five agents). Then times, over HTTP against gunicorn as `make run` starts it, a
supervisor's looks at the last 30 days:
  - the page (/agent/insights, every chart drawn),
  - the API (/agent/api/insights?from=...&to=...),
  - the worker's pass that looks for calls to roll up (none left: the index alone),
each `--requests` times, on SQLite and on PostgreSQL (a throwaway cluster, when its binaries are
installed), side by side with p50 and p95 (target: p95 <= 300 ms).
Run: .venv/bin/python bench/insights.py [--calls 1000000] [--messages 100000] [--requests 40]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.agents import databases, served  # noqa: E402
from ivr.db import upgrade  # noqa: E402
from ivr.models import Agent, Call, InsightAsked, InsightDay, InsightHour, InsightPrompt, Message, MessageHistory  # noqa: E402

ZONE = ZoneInfo("America/New_York")
DAYS = 90
LANGUAGES = (("en-US", 0.6), ("lv-LV", 0.25), ("fi-FI", 0.15))
OUTCOMES = (("helped", 0.55), ("transferred", 0.15), ("message_left", 0.1), ("gave_up", 0.08), ("hung_up", 0.12))
PROMPTS = ("language_menu", "main_menu", "order_number", "order_result", "account_who", "account_number", "pin_entry",
           "account_menu", "faq_start", "faq_choose", "faq_helpful", "message_offer", "message_review")  # fmt: skip
# Calls per hour of the day: a working day's shape.
HOURLY = [1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 13, 12, 11, 12, 13, 12, 10, 8, 6, 5, 4, 3, 2, 1]
DAY_COUNTS = ("calls", "helped", "transferred", "message_left", "gave_up", "hung_up", "steps", "voice_steps",
              "voice_missed")  # fmt: skip
WORDS = "refund parcel invoice address warranty password delivery return discount voucher store hours gift card".split()


def pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([name for name, _ in weighted], [weight for _, weight in weighted])[0]


def fill(url: str, calls: int, messages: int, seed: int = 18) -> None:
    """A migrated database: the calls, their day rows as the worker leaves them, and the messages."""
    upgrade(url)
    rng = random.Random(seed)
    engine = create_engine(url)
    today = dt.datetime.now(ZONE).date()
    days: dict[tuple[dt.date, str], dict[str, int]] = {}
    hours: dict[tuple[dt.date, int], int] = {}
    with engine.begin() as db:
        for start in range(0, calls, 20_000):
            rows = []
            for n in range(start, min(calls, start + 20_000)):
                day = today - dt.timedelta(days=rng.randrange(DAYS))
                hour = rng.choices(range(24), HOURLY)[0]
                at = dt.datetime.combine(day, dt.time(hour, rng.randrange(60)), ZONE).astimezone(dt.UTC)
                language, outcome = pick(rng, LANGUAGES), pick(rng, OUTCOMES)
                steps = rng.randrange(2, 12)
                voice = rng.randrange(steps + 1)
                counts = days.setdefault((day, language), dict.fromkeys(DAY_COUNTS, 0))
                for name, value in (("calls", 1), (outcome, 1), ("steps", steps), ("voice_steps", voice),
                                    ("voice_missed", rng.randrange(voice + 1) // 3)):  # fmt: skip
                    counts[name] = counts.get(name, 0) + value
                hours[day, hour] = hours.get((day, hour), 0) + 1
                rows.append({"call_sid": f"CA{n:032x}", "from_number": f"+1555{rng.randrange(10**7):07d}",
                             "node": "call_over", "language": language, "started_at": at, "updated_at": at,
                             "ended_at": at + dt.timedelta(seconds=90), "end_status": "completed",
                             "outcome": outcome, "summarised": True, "events": [], "collected": {}})  # fmt: skip
            db.execute(insert(Call), rows)
        db.execute(insert(InsightDay), [{"day": d, "language": lang, **c} for (d, lang), c in days.items()])
        db.execute(insert(InsightHour), [{"day": d, "hour": h, "calls": c} for (d, h), c in hours.items()])
        prompt_rows, asked_rows = [], []
        for offset in range(DAYS):
            day = today - dt.timedelta(days=offset)
            reached = sum(c["calls"] for (d, _lang), c in days.items() if d == day)
            for node in PROMPTS:
                reached = int(reached * rng.uniform(0.3, 0.9)) if node != "language_menu" else reached
                prompt_rows.append({"day": day, "node": node, "reached": reached, "went_on": int(reached * 0.8),
                                    "hung_up": int(reached * 0.05), "to_person": int(reached * 0.04),
                                    "not_understood": int(reached * 0.1), "voice": int(reached * 0.5),
                                    "voice_missed": int(reached * 0.06)})  # fmt: skip
            for language, _weight in LANGUAGES:
                for k in range(120):
                    key = " ".join(sorted(rng.sample(WORDS, 2)))
                    asked_rows.append({"day": day, "language": language, "key": f"{key} {k}",
                                       "asked": rng.randrange(1, 20), "not_found": rng.randrange(0, 10),
                                       "not_helped": rng.randrange(0, 5), "sample": f"where is my {key}"})  # fmt: skip
        db.execute(insert(InsightPrompt), prompt_rows)
        for start in range(0, len(asked_rows), 10_000):
            db.execute(insert(InsightAsked), asked_rows[start : start + 10_000])
        agents = [db.execute(insert(Agent).values(name=f"agent{n}", password_hash="x").returning(Agent.id)).scalar_one()
                  for n in range(5)]  # fmt: skip
        now = dt.datetime.now(dt.UTC)
        for start in range(0, messages, 10_000):
            rows, history = [], []
            for n in range(start, min(messages, start + 10_000)):
                at = now - dt.timedelta(minutes=rng.randrange(DAYS * 24 * 60))
                done = rng.random() < 0.9
                rows.append({"id": n + 1, "recording_sid": f"RE{n:032x}", "call_sid": f"CA{n:032x}",
                             "recording_url": "https://api.twilio.com/x", "created_at": at, "changed_at": at,
                             "status": "done" if done else "new", "assignee_id": rng.choice(agents) if done else None,
                             "audio_status": "stored", "transcript_status": "done"})  # fmt: skip
                if done:
                    closed = at + dt.timedelta(minutes=rng.randrange(10, 3 * 24 * 60))
                    history += [{"message_id": n + 1, "agent_id": rows[-1]["assignee_id"], "action": "claim", "at": at},
                                {"message_id": n + 1, "agent_id": rows[-1]["assignee_id"], "action": "done",
                                 "at": closed}]  # fmt: skip
            db.execute(insert(Message), rows)
            db.execute(insert(MessageHistory), history)
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    today = dt.datetime.now(ZONE).date()
    since = today - dt.timedelta(days=29)
    looks = {"page, 30 days": "/agent/insights?period=30",
             "API, 30 days": f"/agent/api/insights?from={since}&to={today}"}  # fmt: skip
    results, failed, rolled = {}, False, {}
    with databases("ivr-bench-insights-") as (work, urls):
        for name, url in urls.items():
            started = time.perf_counter()
            fill(url, args.calls, args.messages)
            print(f"{name}: {args.calls} calls, their day rows and {args.messages} messages written in "
                  f"{time.perf_counter() - started:.0f} s", flush=True)  # fmt: skip
            rolled[name] = roll_up_pass(url)
            results[name] = served(url, work, looks, args.requests, role="supervisor")
    print(f"\n{args.calls} calls over {DAYS} days, {args.messages} messages, {args.requests} requests per look, "
          f"gunicorn 2 workers, {os.cpu_count()} cores")  # fmt: skip
    names = list(results)
    print(f"{'look':22}" + "".join(f"{n + ' p50':>16}{n + ' p95':>16}" for n in names))
    for look in next(iter(results.values())):
        row = f"{look:22}"
        for name in names:
            p50, p95, _said = results[name][look]
            row += f"{p50:>13.1f} ms{p95:>13.1f} ms"
            failed |= p95 > 300
        print(row)
    print(f"{'worker pass, none due':22}" + "".join(f"{rolled[n]:>13.1f} ms{'':>16}" for n in names))
    print(f"target: p95 <= 300 ms everywhere: {'MISSED' if failed else 'met'}")
    if "PostgreSQL" not in results:
        print("PostgreSQL: not measured (its server binaries are not installed: apt-get install postgresql)")
    return 1 if failed else 0


def roll_up_pass(url: str) -> float:
    """How long the worker's look for calls to roll up takes when all 1,000,000 are summarised."""
    from sqlalchemy.orm import Session

    from ivr.config import load_settings
    from ivr.insights.rollup import roll_up

    engine = create_engine(url)
    try:
        with Session(engine) as session:
            started = time.perf_counter()
            roll_up(session, load_settings({"DATABASE_URL": url}), dt.datetime.now(dt.UTC))
            session.commit()
            return 1000 * (time.perf_counter() - started)
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
