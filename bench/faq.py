"""How well the knowledge-base search finds what callers mean, on the table of real-sounding questions.

Prints the share of questions whose right entry comes first, and the share where it is among the
choices offered (one answer, or the 2-3 close ones a vague question gets). Targets: 90% and 97%.
Run: .venv/bin/python bench/faq.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ivr.faq import DEMO_FILE, choices, read_file, search  # noqa: E402
from ivr.models import FaqEntry  # noqa: E402


def main() -> int:
    questions = yaml.safe_load((ROOT / "tests" / "fixtures" / "faq_questions.yaml").read_text())["questions"]
    entries = [FaqEntry(**dict(e)) for e in read_file(DEMO_FILE)]
    first = offered = 0
    started = time.perf_counter()
    for asked, slug in questions:
        found = choices(search(entries, asked))
        first += bool(found) and found[0].slug == slug
        offered += any(f.slug == slug for f in found)
        if not found or found[0].slug != slug:
            print(f"  {asked!r}: expected {slug}, got {[f.slug for f in found]}")
    per_search = (time.perf_counter() - started) / len(questions) * 1000
    n = len(questions)
    print(f"{n} questions, {len(entries)} entries: right entry first {first / n:.1%} (target >= 90%), "
          f"among the choices {offered / n:.1%} (target >= 97%); {per_search:.2f} ms per search")  # fmt: skip
    return 0 if first / n >= 0.9 and offered / n >= 0.97 else 1


if __name__ == "__main__":
    sys.exit(main())
