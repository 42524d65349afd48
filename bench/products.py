"""The product directory's search over HTTP with 10,000 products, on SQLite and on PostgreSQL.

Each database (PostgreSQL: a throwaway cluster, when its binaries are installed) is migrated and
given the demo line (its customers, orders, questions and 40 products) and made-up products up to
--products, each in English, Finnish and Latvian, named as a shop names them (a kind of thing and what it is like: "Compact kettle 417"), so a word
finds hundreds. gunicorn (2 sync workers) serves it; one visitor after another asks what people
type: the start of a word ("kettl"), a word with its accents left out ("tejkanna"), two words, a
product's code, a category with and without words, a second page, nothing (the whole directory), and
a word no product has, at /help/products (the page) and /help/api/products (the JSON). PostgreSQL
is ANALYZEd after the import, as its autovacuum does by itself soon after a bulk import. Printed:
p50, p95 and the slowest in milliseconds per page and database. Target: p95 <= 30 ms.

On the phone (SQLite, the same 10,000 products, gunicorn 2 sync workers, one request at a time,
each a signed webhook of its own call): the step that answers a product question said at the main
menu ("how much is the glass kettle"), beside the step that answers an order number said at the main
menu (the same way in: the menu's understanding of speech, then the caller's own words), the same
order number typed at the order prompt (no speech to understand), and a question for the knowledge
base said at the main menu. Target: the product step's median within 10% of the order step's, the
one said at the same prompt. (Each worker builds its index of the names once, on its first product
question: that step is among the slowest, not the median.)
Run: .venv/bin/python bench/products.py [--products 10000] [--requests 300]
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import sys
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import requests
from sqlalchemy import text
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.agents import databases, serve  # noqa: E402
from bench.webhooks import params as webhook  # noqa: E402
from ivr.db import Database, upgrade  # noqa: E402
from ivr.products.catalogue import Catalogue, ProductRow, ProductWords, read  # noqa: E402
from ivr.products.store import DEMO_FILE, import_catalogue  # noqa: E402
from ivr.seed import load_demo_line  # noqa: E402

TARGET_MS = 30.0
# What things are, and what they are like, in each language (a made-up shop's shelves).
KINDS = {
    "en-US": ["kettle", "lamp", "chair", "jacket", "boot", "speaker", "mug", "knife", "pan", "tent", "backpack",
              "blanket", "glove", "radio", "clock", "shovel", "hose", "scarf", "towel", "teapot"],
    "fi-FI": ["vedenkeitin", "lamppu", "tuoli", "takki", "saapas", "kaiutin", "muki", "veitsi", "paistinpannu",
              "teltta", "reppu", "peitto", "hansikas", "radio", "kello", "lapio", "letku", "huivi", "pyyhe",
              "teekannu"],
    "lv-LV": ["tējkanna", "lampa", "krēsls", "jaka", "zābaks", "skaļrunis", "krūze", "nazis", "panna", "telts",
              "mugursoma", "sega", "cimds", "radio", "pulkstenis", "lāpsta", "šļūtene", "šalle", "dvielis",
              "tējas kanna"],
}  # fmt: skip
LIKE = {
    "en-US": ["Compact", "Classic", "Quiet", "Light", "Sturdy", "Folding", "Wooden", "Steel", "Glass", "Travel"],
    "fi-FI": ["Kompakti", "Klassinen", "Hiljainen", "Kevyt", "Tukeva", "Taitettava", "Puinen", "Teräksinen",
              "Lasinen", "Matka"],
    "lv-LV": ["Kompakts", "Klasisks", "Kluss", "Viegls", "Izturīgs", "Saliekams", "Koka", "Tērauda", "Stikla",
              "Ceļojumu"],
}  # fmt: skip
# What visitors type, per language (searches that find hundreds, a few, one, or none).
TYPED = {
    "en-US": ["kettl", "kettles", "compact lamp", "quiet", "boots", "steel knife 12", "zzyzx", "travel mug"],
    "fi-FI": ["vedenkeitintä", "lamppu", "kevyt takki", "teraksinen", "saappaat", "muki 77", "zzyzx"],
    "lv-LV": ["tejkanna", "tējkannu", "lampa", "viegla jaka", "zabaks", "krūze 42", "zzyzx"],
}


def made_up(count: int, categories: list[str], seed: int = 11) -> list[ProductRow]:
    """`count` products in three languages, named as a shop names them."""
    rng = random.Random(seed)
    availability = ["in_stock"] * 7 + ["low", "out_of_stock", "discontinued"]
    rows = []
    for n in range(count):
        kind, like = rng.randrange(len(KINDS["en-US"])), rng.randrange(len(LIKE["en-US"]))
        texts = {
            language: ProductWords(
                name=f"{LIKE[language][like]} {KINDS[language][kind]} {n}",
                description=f"{LIKE[language][like]} {KINDS[language][kind]}, {rng.randrange(1, 60)} cm.",
                keywords=[KINDS[language][kind]],
            )
            for language in KINDS
        }
        price = Decimal(rng.randrange(300, 40000)) / 100
        rows.append(ProductRow(f"BN-{n:05}", rng.choice(categories), price, rng.choice(availability), [], texts))
    return rows


def fill(url: str, count: int) -> None:
    upgrade(url)
    demo = read(DEMO_FILE)
    db = Database(url)
    with db.transaction() as session:
        rows = demo.products + made_up(count - len(demo.products), list(demo.categories))
        import_catalogue(session, Catalogue(rows, demo.categories), "USD")
        load_demo_line(session)  # the demo customers, orders and questions, for the phone rows
    if db.is_postgresql:  # the statistics autovacuum gathers within a minute of a bulk import
        with db.engine.connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()
    db.engine.dispose()


def asks(count: int, seed: int = 5) -> list[dict[str, str]]:
    """What `count` visitors ask, in turn: words, a code, categories, pages, everything."""
    rng = random.Random(seed)
    kinds = [
        lambda language: {"q": rng.choice(TYPED[language])},
        lambda language: {"q": f"BN-{rng.randrange(9000):05}"},
        lambda language: {"q": rng.choice(TYPED[language]), "category": "kitchen"},
        lambda language: {"category": rng.choice(["kitchen", "garden", "footwear"])},
        lambda language: {"q": rng.choice(TYPED[language])[:4], "page": "2"},
        lambda language: {},
    ]
    return [{"lang": (language := rng.choice(list(KINDS))), **rng.choice(kinds)(language)} for _ in range(count)]


def timed(base: str, path: str, asked: list[dict[str, str]]) -> list[float]:
    session = requests.Session()
    for params in asked[:5]:  # the first few warm the caches
        session.get(base + path, params=params, timeout=30)
    times = []
    for params in asked:
        started = time.perf_counter()
        reply = session.get(base + path, params=params, timeout=30)
        times.append(1000 * (time.perf_counter() - started))
        if reply.status_code != 200:
            raise RuntimeError(f"{reply.url}: {reply.status_code}")
    return sorted(times)


PHONE_TOKEN = "bench"  # serve() starts the server with IVR_TWILIO_AUTH_TOKEN=bench
# What each timed step is: the node the call waits at, and what callers do there (in turn: the
# recogniser's words differ from call to call, and so does the work of understanding them).
STEPS = {
    "product question (said)": ("main_menu", "SpeechResult", [
        "how much is the glass kettle", "do you have the trail runner in stock", "what does the toaster cost",
        "how much is the headlamp", "is the wheelbarrow in stock", "do you sell the garden hose",
        "how much are the wool socks", "do you have the backpack"]),
    "order status (said)": ("main_menu", "SpeechResult", [
        "five thousand and one", "five oh oh two", "five thousand three", "it's five zero zero four",
        "five thousand and five", "um five oh oh one", "five zero zero three", "five thousand two"]),
    "order status (typed)": ("order_number", "Digits", ["5001", "5002", "5003", "5004", "5005"]),
    "knowledge-base question (said)": ("main_menu", "SpeechResult", [
        "how much does delivery cost", "when are you open", "how do I return an item",
        "can I change my delivery address", "how long does delivery take", "how do I open an account",
        "can I pay in store", "do you have a loyalty programme"]),
}  # fmt: skip


def signed_post(session: requests.Session, base: str, path: str, form: dict[str, str]) -> requests.Response:
    signature = RequestValidator(PHONE_TOKEN).compute_signature(base + path, form)
    return session.post(base + path, data=urlencode(form), timeout=30, headers={
        "X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip


def phone_steps(base: str, count: int) -> dict[str, list[float]]:
    """Each kind of step `count` times, in turn, each on a call of its own brought to its prompt
    first (not timed)."""
    session = requests.Session()
    times: dict[str, list[float]] = {name: [] for name in STEPS}
    for n in range(count + 3):
        for name, (node, field, inputs) in STEPS.items():
            said = {field: inputs[n % len(inputs)], **({"Confidence": "0.9"} if field == "SpeechResult" else {})}
            sid = "CA" + secrets.token_hex(16)
            signed_post(session, base, "/voice/incoming", webhook(sid))
            step = 1
            if node == "order_number":
                signed_post(session, base, f"/voice/step/main_menu?n={step}", webhook(sid, Digits="2"))
                step += 1
            started = time.perf_counter()
            reply = signed_post(session, base, f"/voice/step/{node}?n={step}", webhook(sid, **said))
            elapsed = 1000 * (time.perf_counter() - started)
            expected = {"product": "costs", "order": "Order 5"}.get(name.split()[0], "<Say")
            if reply.status_code != 200 or expected not in reply.text:
                raise RuntimeError(f"{name}: {reply.status_code}, not what it should answer: {reply.text[:300]}")
            if n >= 3:  # the first few warm the caches (and each worker's knowledge-base index)
                times[name].append(elapsed)
    return {name: sorted(found) for name, found in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    asked = asks(args.requests)
    results: dict[str, dict[str, list[float]]] = {}
    with databases("ivr-bench-products-") as (work, urls):
        for name, url in urls.items():
            started = time.perf_counter()
            fill(url, args.products)
            print(f"{name}: {args.products} products in 3 languages imported in {time.perf_counter() - started:.0f} s",
                  flush=True)  # fmt: skip
            # The phone rows' calls are to the line's English number (no language asked first).
            process, base = serve(url, work, LANGUAGES=",".join(KINDS), NUMBER_LANGUAGES="+15550100000=en-US")
            try:
                results[name] = {path: timed(base, path, asked) for path in ("/help/products", "/help/api/products")}
                if name == "SQLite":
                    phone = phone_steps(base, args.requests)
            finally:
                process.terminate()
                process.wait(timeout=10)
    print(f"\n{args.products} products, {args.requests} searches per page, one at a time, gunicorn 2 sync workers,"
          f" {os.cpu_count()} cores")  # fmt: skip
    print(f"{'page':22}" + "".join(f"{n + ' p50':>17}{n + ' p95':>17}{n + ' slowest':>20}" for n in results))
    missed = False
    for path in ("/help/products", "/help/api/products"):
        cells = ""
        for name in results:
            times = results[name][path]
            p95 = times[int(len(times) * 0.95) - 1]
            missed |= p95 > TARGET_MS
            cells += f"{times[len(times) // 2]:>17.1f}{p95:>17.1f}{times[-1]:>20.1f}"
        print(f"{path:22}{cells}")
    if "PostgreSQL" not in results:
        print("PostgreSQL: not measured (its server binaries are not installed: apt-get install postgresql)")
    print(f"target: p95 <= {TARGET_MS:.0f} ms: {'MISSED' if missed else 'met'}")
    print(f"\nThe phone, SQLite, {args.products} products: one webhook step at a time, {args.requests} of each kind")
    print(f"{'step':34}{'p50 ms':>10}{'p95 ms':>10}{'slowest':>10}")
    for step, times in phone.items():
        print(f"{step:34}{times[len(times) // 2]:>10.1f}{times[int(len(times) * 0.95) - 1]:>10.1f}{times[-1]:>10.1f}")
    product, order = (phone[k][len(phone[k]) // 2] for k in ("product question (said)", "order status (said)"))
    within = product <= order * 1.1
    print(
        f"product question at {product / order:.0%} of the median of the order status said at the same prompt"
        f" (target <= 110%): {'met' if within else 'MISSED'}"
    )
    return 1 if missed or not within else 0


if __name__ == "__main__":
    sys.exit(main())
