"""The knowledge decision: what a question gets from the knowledge base, in one language.

One clear answer; a short list of close entries to narrow a vague question down; or nothing, with
why ("I don't have an answer to that" is the honest answer to a question the base has no entry
for: a wrong answer is worse than none, because the caller acts on it). The phone says it, insights
count it; neither re-ranks.

Ranking is BM25 (rank-bm25) over the entries' normalised words (the language's filler dropped, its
stemmer), keywords twice. Ranking alone only says which entry is nearest, not that it is about the
question, so an entry is given only when it *covers* the question: at least the language's `covers`
share of the question's content words are in the entry (its question, title, keywords or answer),
and what it covers is not only generic words ("card", "pay", "free", "order" carry no answer alone:
"do you sell gift cards" is not the payment methods). Both are per-language data in the catalog's
`language: knowledge:` block, checked when the catalog loads (and so by `flows check`). An entry
that does not cover the question but is well ahead of every other, with a word of what it is about,
is asked about ("It sounds like ... Is that right?"), never read out: a caller who says no has lost a
turn, one who hears nothing has lost the answer.

The index is built once per version of a language's entries (their count, newest id and newest
revision), not per question: any worker rebuilds its own from the database when the entries change.
"""

from __future__ import annotations

import itertools
import threading
from bisect import bisect_left
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from os.path import commonprefix
from typing import Any, Literal

import numpy as np
from rank_bm25 import BM25Okapi
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr.errors import PromptError
from ivr.models import FaqEntry
from ivr.speech.matching import ENGLISH, Words, normalise, words_of
from ivr.speech.numbers import ENGLISH_NUMBERS, NumberWords
from ivr.speech.numbers import vocabulary as number_vocabulary

# A BM25 score below this is nothing close at all.
MIN_SCORE = 1.0
# Stemmers of inflected languages leave some endings on ("pikatoimitu" from "pikatoimitusta",
# "pikatoimitus"; "palautetu" from "palautettua", "palaut"): a word no entry has is taken as the entry
# word it shares at least STEM letters with and all but the entry word's last `endings` (Rules), its
# own last twice as many; never as a longer word it only begins ("internet" is no "internetbanka").
STEM = 5
# The shortest word taken as the last part of an entry's compound word (Rules.compounds).
HEAD = 4
# An entry that covers less than this share, when the question has a word no entry has, is asked
# about rather than read out (Decision why "unknown").
CLEAR = 0.8
# What a question word found only in an entry's answer counts for, towards its coverage.
ANSWER_ONLY = 0.5
# Indexes kept per process (language and version): a few languages, and the version before an edit.
KEPT = 16

Kind = Literal["answer", "refine", "none"]


@dataclass(frozen=True)
class Rules:
    """When an entry answers a question, in one language (its catalog's `language: knowledge:`)."""

    # The share of the question's content words an entry must contain to be given at all...
    covers: float = 0.5
    # ...or this many of them in what it is about (a long question told with its story: "I sent
    # back a pair of shoes last week, how long before I see the money").
    enough: int = 3
    # An entry that covers less than this share (and not `enough` words) is offered to confirm
    # ("Is your question about ...?") rather than read out: a wrong answer is worse than a question.
    sure: float = 0.65
    # An entry that does not answer but covers this share, with a specific word of what it is about,
    # and is well ahead of every other, is offered to confirm all the same; 1: never.
    offers: float = 0.3
    # Runners-up within this share of the best covering entry's score are offered beside it.
    close: float = 0.75
    # At most this many entries offered to narrow a question down.
    choices: int = 3
    # Stems of words that count towards coverage but never carry an answer alone.
    generic: frozenset[str] = frozenset()
    # Stems of words that are no content at all in a question ("how", "which"): not counted.
    ignore: frozenset[str] = frozenset()
    # A word no entry has is taken as an entry's word that differs only in its last `endings`
    # letters (inflected languages: the stemmer leaves some endings on); 0: never.
    endings: int = 0
    # A compounding language (Finnish): a word no entry has, which ends exactly one entry's word,
    # is taken as that word ("tavoilla" is the "maksutavoilla" of the payment methods).
    compounds: bool = False
    # The language's number words: a number is never a question's content ("nolla" is no
    # "nollata"); an order number said is the caller's own business, not the knowledge base's.
    numbers: NumberWords = ENGLISH_NUMBERS

    @classmethod
    def declared(cls, about: Mapping[str, Any], words: Words, where: str = "") -> Rules:
        """The rules a catalog's `language:` block declares under `knowledge:`; PromptError for a value
        that cannot be one (a share outside 0..1, a word list that is not words)."""
        block = about.get("knowledge") or {}
        if not isinstance(block, Mapping):
            raise PromptError(f"{where}language: knowledge: must be a mapping (covers, close, generic, ignore)")
        names = {"covers", "enough", "sure", "offers", "close", "choices", "generic", "ignore", "endings", "compounds"}
        unknown = sorted(set(block) - names)
        if unknown:
            raise PromptError(f"{where}language: knowledge: has no {', '.join(unknown)} ({', '.join(sorted(names))})")
        shares = {}
        for name in ("covers", "sure", "offers", "close"):
            value = block.get(name, getattr(cls, name))
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
                raise PromptError(
                    f"{where}language: knowledge: {name} must be a share above 0 and at most 1, not {value!r}"
                )
            shares[name] = float(value)
        choices, endings = block.get("choices", cls.choices), block.get("endings", cls.endings)
        enough = block.get("enough", cls.enough)
        if isinstance(enough, bool) or not isinstance(enough, int) or not 2 <= enough <= 9:
            raise PromptError(f"{where}language: knowledge: enough must be a whole number from 2 to 9, not {enough!r}")
        if isinstance(choices, bool) or not isinstance(choices, int) or not 2 <= choices <= 8:
            raise PromptError(
                f"{where}language: knowledge: choices must be a whole number from 2 to 8, not {choices!r}"
            )
        if isinstance(endings, bool) or not isinstance(endings, int) or not 0 <= endings <= 4:
            raise PromptError(
                f"{where}language: knowledge: endings must be a whole number from 0 to 4, not {endings!r}"
            )
        compounds = block.get("compounds", cls.compounds)
        if not isinstance(compounds, bool):
            raise PromptError(f"{where}language: knowledge: compounds must be true or false, not {compounds!r}")
        lists = {}
        for name in ("generic", "ignore"):
            value = block.get(name, "")
            if not isinstance(value, str):
                raise PromptError(f"{where}language: knowledge: {name} must be words separated by spaces")
            lists[name] = frozenset(words.stem(w) for w in value.lower().split())
        numbers = NumberWords.declared(about)
        return cls(
            shares["covers"],
            enough,
            shares["sure"],
            shares["offers"],
            shares["close"],
            choices,
            lists["generic"],
            lists["ignore"],
            endings,
            compounds,
            numbers,
        )


@dataclass(frozen=True)
class Found:
    slug: str
    title: str
    answer: str
    score: float
    # The question's content words this entry contains, and the share they are of them (a word
    # only its answer has counts half); how many of them are in what the entry is about.
    covered: tuple[str, ...] = ()
    coverage: float = 0.0
    about: int = 0
    # Generic words the question says in one of the entry's keyword phrases ("klienta karte": a
    # card alone is no loyalty card, the two together are): specific for this entry.
    phrased: frozenset[str] = frozenset()

    def specific(self, rules: Rules) -> list[str]:
        """The covered words that can carry this entry's answer: not generic, or said in its phrase."""
        return [w for w in self.covered if w not in rules.generic or w in self.phrased]


@dataclass(frozen=True)
class Decision:
    """What a question gets: `kind` "answer" (found[0]), "refine" (the found to choose between), or
    "none"; `ranked` the nearest two entries above the floor and every other that could answer, best
    first (what the words resemble, for a menu deciding between an option and the knowledge base)."""

    kind: Kind
    found: tuple[Found, ...] = ()
    ranked: tuple[Found, ...] = ()
    # Why nothing: "no_words" (only filler), "nothing_close" (no entry near), "not_covered" (the
    # nearest entries do not contain what was asked); with the words the nearest entry lacks. Why one
    # entry is offered to confirm rather than read out: "unsure" (it covers less than the `sure` share),
    # "mixed" (the question also names another entry's subject), "weak" (it does not cover the
    # question, but is well ahead of every other: `offers`).
    why: str = ""
    missing: tuple[str, ...] = ()

    @property
    def whole(self) -> bool:
        """One answer that contains every content word of the question: what a problem named in the
        same words does not outweigh ("how do I return an item" is the returns answer; "my parcel never
        really arrived" is a problem, not the delivery times)."""
        return self.kind == "answer" and self.found[0].coverage >= 1.0

    @property
    def best_score(self) -> float:
        return self.ranked[0].score if self.ranked else 0.0


@dataclass
class Index:
    """One language's entries, ready to be searched: built once per version of them."""

    entries: list[FaqEntry]
    words: Words
    bm25: BM25Okapi | None = None
    # Each entry's words: what it is about (question, title, topic, keywords), and all of them.
    about: list[frozenset[str]] = field(default_factory=list)
    vocabularies: list[frozenset[str]] = field(default_factory=list)
    # Every entry's words: sorted (for other endings of a word), sorted backwards (for the heads of
    # compounds), and as a set.
    known: list[str] = field(default_factory=list)
    backwards: list[str] = field(default_factory=list)
    vocabulary: frozenset[str] = frozenset()
    # word -> the slugs of the entries that are about it.
    topics: dict[str, frozenset[str]] = field(default_factory=dict)
    # Each entry's keyword phrases of two words or more, as sets of words.
    phrases: list[tuple[frozenset[str], ...]] = field(default_factory=list)
    # word -> (the entries that have it, BM25's weight of it in each, its idf apart), as arrays: a
    # question is scored from the entries that have its words, not entry by entry.
    weights: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    # Each entry's slug, title and answer, read once.
    said_as: list[tuple[str, str, str]] = field(default_factory=list)

    # Each entry's words as BM25 ranks them (given: the entries' own words are not read again).
    documents: list[list[str]] = field(default_factory=list)
    # Questions already decided by this index, for the editor's preview (ivr/knowledge/preview.py).
    decided: dict[tuple[str, Rules], Decision] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.documents:
            self.documents = [_document(e, self.words) for e in self.entries]
            self.about = [frozenset(_document(e, self.words, answer=False)) for e in self.entries]
            self.phrases = [_phrases(e, self.words) for e in self.entries]
        documents = self.documents
        # No words at all (a base of one entry typed with filler only) is no index: BM25 divides by them.
        self.bm25 = BM25Okapi(documents) if any(documents) else None
        postings: dict[str, list[tuple[int, int]]] = {}
        for i, frequencies in enumerate(self.bm25.doc_freqs if self.bm25 else ()):
            for word, count in frequencies.items():
                postings.setdefault(word, []).append((i, count))
        if self.bm25 is not None:
            k1, b, avgdl, lengths = self.bm25.k1, self.bm25.b, self.bm25.avgdl, np.array(self.bm25.doc_len)
            for word, found in postings.items():
                where, counts = np.array([i for i, _ in found]), np.array([c for _, c in found])
                self.weights[word] = (where, counts * (k1 + 1) / (counts + k1 * (1 - b + b * lengths[where] / avgdl)))
        self.vocabularies = [frozenset(d) for d in documents]
        self.vocabulary = frozenset().union(*self.vocabularies)
        self.known = sorted(self.vocabulary)
        self.backwards = sorted(w[::-1] for w in self.vocabulary)
        slugs: dict[str, set[str]] = {}
        for entry, about in zip(self.entries, self.about, strict=True):
            for word in about:
                slugs.setdefault(word, set()).add(entry.slug)
        self.topics = {word: frozenset(found) for word, found in slugs.items()}
        self.said_as = [(e.slug, e.title, e.answer) for e in self.entries]

    def with_entry(self, entry: FaqEntry) -> Index:
        """This index with `entry` added, or in place of the entry of its slug (an editor's preview):
        the other entries' words are not read again."""
        kept = [i for i, e in enumerate(self.entries) if e.slug != entry.slug]
        return Index(
            [*(self.entries[i] for i in kept), entry],
            self.words,
            about=[*(self.about[i] for i in kept), frozenset(_document(entry, self.words, answer=False))],
            phrases=[*(self.phrases[i] for i in kept), _phrases(entry, self.words)],
            documents=[*(self.documents[i] for i in kept), _document(entry, self.words)],
        )

    def mixed(self, found: Found, content: Sequence[str], rules: Rules) -> bool:
        """Whether the question also names what another entry is about, which `found` does not cover
        ("do you deliver on sundays": deliveries, and the opening hours' Sunday): sure of neither."""
        return any(
            w not in found.covered and w not in rules.generic and self.topics.get(w, frozenset()) - {found.slug}
            for w in content
        )

    def said(self, asked: str, rules: Rules) -> list[str]:
        """The question's words as the entries spell them (stemmed, other endings mapped), numbers left out."""
        return [known for _, known in self.heard(asked, rules)]

    def heard(self, asked: str, rules: Rules, stems: Sequence[str] | None = None) -> list[tuple[str, str]]:
        """Each of the question's words as stemmed, and as the entries spell it (numbers left out);
        `stems` given: the question's stems(), already made."""
        return [(w, self.known_as(w, rules)) for w in (self.stems(asked, rules) if stems is None else stems)]

    def stems(self, asked: str, rules: Rules) -> list[str]:
        """The question's words stemmed, numbers left out: the same for every index of a language."""
        numbers = number_vocabulary(rules.numbers)
        return normalise(" ".join(w for w in words_of(asked) if numbers.atoms(w) is None), self.words)

    def known_as(self, word: str, rules: Rules) -> str:
        """`word` as the entries spell it: itself, another ending of an entry word, or (in a compounding
        language) the one entry word it is the last part of."""
        known = _known(word, self.vocabulary, self.known, rules.endings)
        if known != word or word in self.vocabulary or not rules.compounds or len(word) < HEAD:
            return known
        backwards = word[::-1]
        start = bisect_left(self.backwards, backwards)
        heads = list(
            itertools.islice(itertools.takewhile(lambda k: k.startswith(backwards), self.backwards[start:]), 2)
        )
        return heads[0][::-1] if len(heads) == 1 and len(heads[0]) >= len(word) + HEAD - 1 else word

    def scores(self, said: Sequence[str]) -> Any:
        """Every entry's BM25 score for the words `said` (an array): rank-bm25's BM25Okapi, the same
        numbers as its get_scores, from the entries that have each word only."""
        scores = np.zeros(len(self.entries))
        if self.bm25 is None:
            return scores
        for word in said:
            if word in self.weights:
                where, weight = self.weights[word]
                scores[where] += (self.bm25.idf.get(word) or 0) * weight
        return scores

    def rank(self, said: Sequence[str], content: Sequence[str], rules: Rules | None = None) -> list[Found]:
        """Entries above the floor for the words `said`, best first, each with what of the question's
        `content` words it covers. With `rules`, only what a decision looks at: the nearest two, and
        those that could answer (enough of the content words to cover it) down to the `close` share of
        the best that does."""
        if not said or not content or self.bm25 is None:
            return []
        scores = self.scores(said)
        above = np.flatnonzero(scores >= MIN_SCORE)
        order = above[np.argsort(-scores[above], kind="stable")]
        if rules is not None:
            # Coverage is at most the share of words covered, and `enough` needs as many words: after
            # the nearest two, an entry with fewer of them cannot answer and is not looked at.
            need = min(rules.enough, rules.covers * len(content))
            has = np.zeros(len(self.entries), dtype=int)
            for word in dict.fromkeys(content):
                if word in self.weights:
                    has[self.weights[word][0]] += 1
            order = np.concatenate([order[:2], order[2:][has[order[2:]] >= need]])
        found: list[Found] = []
        floor, words = MIN_SCORE, set(content)
        for i, score in zip(order.tolist(), scores[order].tolist(), strict=True):
            if score < floor:
                break
            covered = tuple(w for w in content if w in self.vocabularies[i])
            # A word only the answer has counts half: answers mention much they are not about
            # ("drop it at any post office" is not about offices).
            about = sum(w in self.about[i] for w in covered)
            weight = about + ANSWER_ONLY * (len(covered) - about)
            # A phrase counts when all its words are content words of the question (not ignored ones).
            phrased = frozenset().union(*(p for p in self.phrases[i] if p <= words))
            slug, title, answer = self.said_as[i]
            found.append(Found(slug, title, answer, score, covered, weight / len(content), about, phrased))
            if rules is not None and floor == MIN_SCORE and answers(found[-1], rules):
                # Entries below the `close` share of the best that answers are never offered beside it.
                floor = max(MIN_SCORE, rules.close * found[-1].score)
        return found


def content_of(heard: Sequence[tuple[str, str]], rules: Rules) -> list[str]:
    """The words of a question that count (Index.heard's): a word the language ignores is no content
    however the entries spell it ("viikolla", a week); each word once ("avata ... avata" is one word
    of the question, not two). Only an entry with one of them can be what a question gets."""
    return list(
        dict.fromkeys(
            known for stem, known in heard if stem not in rules.ignore and known not in rules.ignore and len(known) > 1
        )
    )


def decide(index: Index, asked: str, rules: Rules) -> Decision:
    """One answer, a few to choose between, or none (with why), for `asked` in `index`'s language."""
    heard = index.heard(asked, rules)
    said = [known for _, known in heard]
    content = content_of(heard, rules)
    if not content:
        return Decision("none", why="no_words")
    ranked = tuple(index.rank(said, content, rules))
    covering = [f for f in ranked if answers(f, rules)]
    if not covering and ranked and offered(ranked, rules):
        return Decision("refine", ranked[:1], ranked, "weak")  # "It sounds like ... Is that right?"
    if not covering:
        nearest = ranked[0] if ranked else None
        missing = tuple(w for w in content if nearest is None or w not in nearest.covered)
        return Decision("none", (), ranked, "not_covered" if ranked else "nothing_close", missing)
    best = covering[0].score
    close = tuple(f for f in covering if f.score >= rules.close * best)[: rules.choices]
    if len(close) == 1 and not sure(close[0], rules):
        return Decision("refine", close, ranked, "unsure")  # offered to confirm, not read out
    # A word no entry has may ask what no entry says ("do members get anything on their birthday"):
    # unless the entry covers nearly all the rest, it is offered to confirm, not read out.
    unknown = tuple(w for w in content if w not in index.vocabulary)
    if len(close) == 1 and unknown and close[0].coverage < CLEAR:
        return Decision("refine", close, ranked, "unknown", unknown)
    if len(close) == 1 and index.mixed(close[0], content, rules):
        return Decision("refine", close, ranked, "mixed")
    return Decision("answer" if len(close) == 1 else "refine", close, ranked)


def offered(ranked: Sequence[Found], rules: Rules) -> bool:
    """Whether the nearest entry, though it does not answer, is worth asking about: it is well ahead
    of every other, covers the `offers` share of the question and a specific word of what it is
    about ("so i'm stuck at the login page cause i don't know my password anymore"), or two."""
    best = ranked[0]
    ahead = len(ranked) == 1 or ranked[1].score < rules.close * best.score
    if not ahead or rules.offers >= 1.0:
        return False
    # Two specific words of what it is about make it worth asking however long the question.
    specific = best.about - (len(best.covered) - len(best.specific(rules)))
    return best.coverage >= rules.offers and specific >= 1 or specific >= 2


def sure(found: Found, rules: Rules) -> bool:
    """Whether an entry that answers is surely what was asked, to be read out at once: it covers the
    `sure` share of the question, or `enough` specific words of what the entry is about."""
    specific = found.specific(rules)
    return found.coverage >= rules.sure or found.about - (len(found.covered) - len(specific)) >= rules.enough


def answers(found: Found, rules: Rules) -> bool:
    """Whether an entry is about the question: it covers enough of its content words, and not only
    generic ones (unless the question has nothing else: "is shipping free"); or, in a long question,
    `enough` specific words of what the entry is about."""
    specific = found.specific(rules)
    if found.about - (len(found.covered) - len(specific)) >= rules.enough:
        return True  # enough specific words of what the entry is about (generic ones not counted)
    if found.coverage < rules.covers:
        return False
    return found.coverage == 1.0 or bool(specific)


# ---- the index, once per version of a language's entries -------------------------------------

_indexes: dict[tuple[Any, ...], Index] = {}
_lock = threading.Lock()


def version(session: Session, language: str) -> tuple[Any, ...]:
    """What changes whenever a language's entries do: how many, the newest, the latest revision."""
    row = session.execute(
        select(func.count(FaqEntry.id), func.max(FaqEntry.id), func.max(FaqEntry.revised_at)).where(
            FaqEntry.language == language
        )
    ).one()
    return tuple(row)


def index_for(session: Session, language: str, words: Words = ENGLISH) -> Index:
    """`language`'s entries, indexed: built again only when they changed since this process last did."""
    key = (str(session.get_bind().url), language, words, version(session, language))
    index = _indexes.get(key)
    if index is None:
        query = select(FaqEntry).where(FaqEntry.language == language).order_by(FaqEntry.id)
        entries = list(session.scalars(query))
        for entry in entries:  # kept beyond the session: read everything now
            session.expunge(entry)
        index = Index(entries, words)
        with _lock:
            if len(_indexes) >= KEPT:
                _indexes.pop(next(iter(_indexes)))
            _indexes[key] = index
    return index


def ask(session: Session, language: str, asked: str, words: Words, rules: Rules) -> Decision:
    """What `asked` gets from `language`'s entries in the database: the one decision the phone and the
    web help centre both give (each says it in its own way)."""
    return decide(index_for(session, language, words), asked, rules)


# ---- words ------------------------------------------------------------------------------


def _document(entry: FaqEntry, words: Words, answer: bool = True) -> list[str]:
    keywords = " ".join(entry.keywords or [])
    text = f"{entry.question} {entry.title} {entry.category} {keywords} {keywords}"
    return normalise(f"{text} {entry.answer}" if answer else text, words)


def _phrases(entry: FaqEntry, words: Words) -> tuple[frozenset[str], ...]:
    phrases = (frozenset(normalise(keyword, words)) for keyword in entry.keywords or [])
    return tuple(p for p in phrases if len(p) >= 2)


def _known(word: str, vocabulary: Collection[str], ordered: Sequence[str], endings: int) -> str:
    """`word`, or the entries' word it is another ending of: they differ only in their last `endings`
    letters, each (the longest shared start wins; "internetā" is not "internetbanka")."""
    if not endings or word in vocabulary or len(word) < STEM:
        return word
    best, shared = word, 0
    # Only words with the same first STEM letters can qualify: a slice of the sorted vocabulary.
    start = bisect_left(ordered, word[:STEM])
    for known in itertools.takewhile(lambda k: k.startswith(word[:STEM]), ordered[start:]):
        common = len(commonprefix((word, known)))
        if common >= max(STEM, len(known) - endings, len(word) - 2 * endings) and common > shared:
            best, shared = known, common
    return best
