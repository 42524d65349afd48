"""What the caller said -> the menu option they meant, tolerant of filler and recogniser slips.

Utterance and phrases are normalised the same way (lower case, no punctuation, contractions' endings
and filler dropped, Snowball stemming), so "uh, I'd like to check on my orders" contains the phrase
"order". The option
whose best matching phrase has the most words wins; a tie between options is no match. A phrase
made only of filler ("yeah", "okay") matches an utterance that is exactly that phrase.

Where the caller may also ask a question in their own words, naming an option is not enough: the
option's phrases must account for most of what was said (`coverage`), so "how much is shipping"
is a question about delivery costs, not the order-status option that "shipping" names.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

import snowballstemmer

# Below this Twilio/recogniser confidence, an answer is treated like no match and reprompted.
CONFIDENCE_FLOOR = 0.3
FUZZY_RATIO = 0.85
FILLER = frozenset(
    "uh um er erm ah like please yeah i id im ive want would wanna to the a an me my your our on of for can you "
    "could is it its check checking just need about hi hello okay ok so well with do get know "
    "some that this there be am are was in at thanks thank what then oh hmm".split()
)
# Sounds around a short answer ("uh, yeah please"): ignored when a phrase made only of filler is matched.
HESITATION = frozenset("uh um er erm ah hmm oh well so please then".split())
# "what's" is "what", "i'd" is "i": the endings carry nothing a menu or a search needs.
CONTRACTION = re.compile(r"'(s|re|ve|d|ll|m)$")
# Words in any alphabet (ā, ä, š...), with an apostrophe inside ("what's").
WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


@dataclass(frozen=True)
class Words:
    """How one language's callers are heard: the words matching ignores, the sounds around a short
    answer, and how words are cut to their stems. Declared in each catalog's `language:` block."""

    filler: frozenset[str] = FILLER
    hesitation: frozenset[str] = HESITATION
    # A Snowball algorithm (snowballstemmer.algorithms()), "latvian" (LatvianStemmer), or "none".
    stemmer: str = "english"
    # Spoken forms and their written ones, which the stemmer knows ("takas" is "takaisin"); a pair of
    # endings ("-ks", "-ksi") rewrites every word with that ending ("onks", "voinks").
    spoken: tuple[tuple[str, str], ...] = ()

    def stem(self, word: str) -> str:
        return _stem(self.stemmer, word)

    def written(self, word: str) -> str:
        """`word` as it is written, where callers say it otherwise."""
        return _written(self.spoken, word)


ENGLISH = Words()


@lru_cache(maxsize=16)
def stemmer_for(name: str) -> Callable[[str], str]:
    """The stemming function `name` means; ValueError for one no library here knows. Safe to call
    from several threads at once (the worker's, a threaded server's)."""
    if name == "none":
        return str
    if name == "latvian":
        import LatvianStemmer

        return LatvianStemmer.stem
    if name not in snowballstemmer.algorithms():
        raise ValueError(
            f"no stemmer {name!r}: use a Snowball algorithm ({', '.join(snowballstemmer.algorithms())}), latvian or none"
        )
    return functools.partial(_snowball, name)


# A Snowball stemmer keeps the word it is cutting in itself: shared by two threads, each cuts the
# other's word (wrong stems, or an IndexError). So each thread has its own, made when it first stems.
_threads = threading.local()


def _snowball(name: str, word: str) -> str:
    stemmers = _threads.__dict__.setdefault("stemmers", {})
    stemmer = stemmers.get(name)
    if stemmer is None:
        stemmer = stemmers[name] = snowballstemmer.stemmer(name)
    return stemmer.stemWord(word)


@lru_cache(maxsize=65536)
def _stem(stemmer: str, word: str) -> str:
    return stemmer_for(stemmer)(word)


@lru_cache(maxsize=65536)
def _written(spoken: tuple[tuple[str, str], ...], word: str) -> str:
    for said, written in spoken:
        if said == word:
            return written
    for said, written in spoken:
        if said.startswith("-") and word.endswith(said[1:]) and len(word) > len(said):
            return word[: len(word) - len(said) + 1] + written[1:]
    return word


def plain(text: str) -> str:
    """Lower case, without accents: ä is a, ē is e, ß is ss (what people type without them)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words_of(text: str) -> list[str]:
    """The words of `text`, lower case, contractions' endings dropped; nothing else changed."""
    words = (CONTRACTION.sub("", w).replace("'", "") for w in WORD.findall(text.lower()))
    return [w for w in words if w]


def normalise(text: str, words: Words = ENGLISH) -> list[str]:
    """Content words of `text`, stemmed: the form matching compares."""
    return [words.stem(words.written(w)) for w in words_of(text) if w not in words.filler]


@lru_cache(maxsize=16384)
def phrase_words(phrase: str, words: Words = ENGLISH) -> tuple[str, ...]:
    """A catalog phrase, normalised once: menus compare every caller's words with the same phrases."""
    return tuple(normalise(phrase, words))


@lru_cache(maxsize=65536)
def _same(a: str, b: str) -> bool:
    """The same word, or nearly (a recogniser's slip): difflib's ratio, after its cheap upper bounds
    (most pairs of words are far apart). Kept: callers say the same words to the same phrases."""
    if a == b:
        return True
    if min(len(a), len(b)) < 4:
        return False
    similar = SequenceMatcher(None, a, b)
    return (
        similar.real_quick_ratio() >= FUZZY_RATIO
        and similar.quick_ratio() >= FUZZY_RATIO
        and similar.ratio() >= FUZZY_RATIO
    )


def _phrase_score(phrase: list[str], said: list[str]) -> int:
    """Words in `phrase` when every one of them was said (fuzzily), else 0."""
    if not phrase:
        return 0
    return len(phrase) if all(any(_same(p, w) for w in said) for p in phrase) else 0


def _score(phrase: str, said: list[str], raw: list[str], words: Words) -> int:
    found = list(phrase_words(phrase, words))
    if not found:  # all filler ("yeah", "that's it"): only the very phrase counts, hesitations aside
        return 1 if raw and words_of(phrase) == raw else 0
    return _phrase_score(found, said)


def _raw(text: str, words: Words) -> list[str]:
    return [w for w in words_of(text) if w not in words.hesitation]


def best_options(text: str, options: Mapping[str, Sequence[str]], words: Words = ENGLISH) -> list[str]:
    """The options whose best phrase in `text` has the most words (several when they tie)."""
    said, raw = normalise(text, words), _raw(text, words)
    scores = {name: max((_score(p, said, raw, words) for p in phrases), default=0) for name, phrases in options.items()}
    best = max(scores.values(), default=0)
    return [name for name, score in scores.items() if score == best] if best > 0 else []


def match_option(text: str, options: Mapping[str, Sequence[str]], words: Words = ENGLISH) -> str | None:
    """The option `text` means, or None when nothing or more than one option fits equally."""
    winners = best_options(text, options, words)
    return winners[0] if len(winners) == 1 else None


def said_together(text: str, phrases: Sequence[str], words: Words = ENGLISH) -> bool:
    """Whether some phrase of several words was said as such, its words side by side ("has my order
    shipped", not "the shipping address on an order")."""
    said = normalise(text, words)
    for phrase in phrases:
        found = phrase_words(phrase, words)
        if len(found) >= 2 and any(
            all(_same(w, s) for w, s in zip(found, said[i : i + len(found)], strict=True))
            for i in range(len(said) - len(found) + 1)
        ):
            return True
    return False


def coverage(text: str, phrases: Sequence[str], words: Words = ENGLISH) -> float:
    """The share of the content words of `text` that some word of `phrases` accounts for."""
    said = normalise(text, words)
    if not said:
        return 1.0 if any(words_of(p) == _raw(text, words) for p in phrases) else 0.0
    vocabulary = {word for phrase in phrases for word in phrase_words(phrase, words)}
    return sum(any(_same(w, v) for v in vocabulary) for w in said) / len(said)


def is_confident(confidence: float | None) -> bool:
    """Twilio sometimes omits Confidence; no figure is taken as confident."""
    return confidence is None or confidence >= CONFIDENCE_FLOOR
