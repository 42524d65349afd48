"""What the caller said -> the menu option they meant, tolerant of filler and recogniser slips.

Utterance and phrases are normalised the same way (lower case, no punctuation, filler dropped,
light stemming), so "uh, I'd like to check on my orders" contains the phrase "order". The option
whose best matching phrase has the most words wins; a tie between options is no match.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from difflib import SequenceMatcher

# Below this Twilio/recogniser confidence, an answer is treated like no match and reprompted.
CONFIDENCE_FLOOR = 0.3
FUZZY_RATIO = 0.85
FILLER = frozenset(
    "uh um er erm ah like please yeah i id im ive want would wanna to the a an me my your our on of for can you "
    "could is it its check checking just need about hi hello okay ok so well with do get know "
    "some that this there be am are was in at".split()
)


def _stem(word: str) -> str:
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + keep
    return word


def normalise(text: str) -> list[str]:
    """Content words of `text`, stemmed: the form matching compares."""
    words = re.findall(r"[a-z0-9']+", text.lower())
    words = [w.replace("'", "") for w in words]
    return [_stem(w) for w in words if w and w not in FILLER]


def _same(a: str, b: str) -> bool:
    return a == b or (min(len(a), len(b)) >= 4 and SequenceMatcher(None, a, b).ratio() >= FUZZY_RATIO)


def _phrase_score(phrase: list[str], said: list[str]) -> int:
    """Words in `phrase` when every one of them was said (fuzzily), else 0."""
    if not phrase:
        return 0
    return len(phrase) if all(any(_same(p, w) for w in said) for p in phrase) else 0


def match_option(text: str, options: Mapping[str, Sequence[str]]) -> str | None:
    """The option `text` means, or None when nothing or more than one option fits equally."""
    said = normalise(text)
    if not said:
        return None
    scores = {
        name: max((_phrase_score(normalise(p), said) for p in phrases), default=0) for name, phrases in options.items()
    }
    best = max(scores.values(), default=0)
    winners = [name for name, score in scores.items() if score == best]
    return winners[0] if best > 0 and len(winners) == 1 else None


def is_confident(confidence: float | None) -> bool:
    """Twilio sometimes omits Confidence; no figure is taken as confident."""
    return confidence is None or confidence >= CONFIDENCE_FLOOR
