"""Which product a caller names in their own words ("do you have the trail runner in stock", "how
much is the kettle", "paljonko vedenkeitin maksaa", "cik maksā tējkanna").

A product is named when every word of its name, or of one of its keywords, is among what was said
(compared as matching compares words: content words, stemmed in the call's language, accents off).
The products whose longest such phrase is longest are the ones meant (a name over a keyword as
long): one is answered, two or three are offered to choose from (what can be had first), more are too
many to be sure (the best three are offered).

Which phrases a sentence contains is looked up, not searched for: each process keeps an index of a
language's names and keywords by their words (`Phrases`), built again when they change (as the
knowledge base's index is), and looks up the groups of words said. However many products share a
word ("Backpack" among 500 "... backpack ..."), a step asks the database only for the version and
for the few products named.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from itertools import combinations
from math import comb
from typing import Any

from sqlalchemy import bindparam, case, func, select
from sqlalchemy.orm import Session

from ivr.models import Product as ProductRow
from ivr.models import ProductText
from ivr.products.catalogue import AVAILABILITY
from ivr.speech.matching import Words, plain, words_of

# More than this many products named alike: the first ones (what can be had, shortest name) are offered.
MAX_OFFERED = 3
# The most groups of words of one size looked up (a long sentence full of products' words: only
# the smaller groups are).
MAX_LOOKUPS = 4096
# Indexes kept per process (languages × databases × versions).
KEPT = 8


@dataclass(frozen=True)
class Product:
    """A product as a caller names it: its code, its name in the call's language, whether it can be
    had, its price and sizes (what its answer says)."""

    code: str
    name: str
    availability: str
    price: Decimal = Decimal(0)
    sizes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Named:
    """The products a caller named, best first (none: no product named); `certain` when one alone
    was named more fully than any other; `whole` when a product's name or keyword was all that was
    said ("the glass kettle"), not part of another question ("how do I return a kettle")."""

    products: tuple[Product, ...] = ()
    whole: bool = False

    @property
    def certain(self) -> bool:
        return len(self.products) == 1


@dataclass(frozen=True)
class Phrases:
    """A language's product names and keywords as callers' words: the texts (ids) each name, and each
    keyword, is of, by its words (sorted, once each); every word of any of them; the most words one has."""

    names: dict[tuple[str, ...], tuple[int, ...]]
    keywords: dict[tuple[str, ...], tuple[int, ...]]
    vocabulary: frozenset[str]
    longest: int

    @classmethod
    def of(cls, rows: list[tuple[int, str, list[str]]], words: Words) -> Phrases:
        """The index of (text id, name, keywords) rows."""
        names: dict[tuple[str, ...], list[int]] = {}
        keywords: dict[tuple[str, ...], list[int]] = {}
        for text_id, name, said_as in rows:
            for phrase, kept in ((name, names), *((keyword, keywords) for keyword in said_as or [])):
                key = tuple(sorted(set(_stems(phrase, words))))
                if key:
                    kept.setdefault(key, []).append(text_id)
        every = [*names, *keywords]
        return cls({k: tuple(v) for k, v in names.items()}, {k: tuple(v) for k, v in keywords.items()},
                   frozenset(word for key in every for word in key), max(map(len, every), default=0))  # fmt: skip

    def meant(self, heard: set[str]) -> tuple[list[int], bool]:
        """The texts whose name, or else keyword, has the most words, all heard; and whether those
        words were all that was heard. The groups of words heard that some phrase has are looked up,
        the largest first."""
        known = sorted(heard & self.vocabulary)
        for size in range(min(len(known), self.longest), 0, -1):
            if comb(len(known), size) > MAX_LOOKUPS:  # a sentence of dozens of products' words
                continue
            by_name: list[int] = []
            by_keyword: list[int] = []
            for group in combinations(known, size):
                by_name += self.names.get(group, ())
                by_keyword += self.keywords.get(group, ())
            if by_name or by_keyword:
                return list(dict.fromkeys(by_name or by_keyword)), size == len(heard)
        return [], False


def named(session: Session, language: str, said: str, words: Words) -> Named:
    """The products `said` names, in `language`."""
    heard = set(_stems(said, words))
    if not heard:
        return Named()
    meant, whole = phrases_for(session, language, words).meant(heard)
    if not meant:
        return Named()
    found = session.execute(_MEANT, {"ids": meant, "limit": MAX_OFFERED})
    products = tuple(Product(code, name, availability, Decimal(price), tuple(sizes or []))
                     for code, name, availability, price, sizes in found)  # fmt: skip
    return Named(products, whole and bool(products))


# Statements built once (building one costs more than the database's work here). Of the texts meant,
# the products (those still there), what can be had first, then the shortest name.
_MEANT = (
    select(ProductRow.code, ProductText.name, ProductRow.availability, ProductRow.price, ProductRow.sizes)
    .join(ProductRow, ProductRow.id == ProductText.product_id)
    .where(ProductText.id.in_(bindparam("ids", expanding=True)))
    .order_by(case({a: i for i, a in enumerate(AVAILABILITY)}, value=ProductRow.availability),
              func.length(ProductText.name), ProductRow.code)
    .limit(bindparam("limit"))
)  # fmt: skip
_VERSION = select(
    select(func.max(ProductText.id)).scalar_subquery(),
    select(func.max(ProductText.revised_at)).where(ProductText.language == bindparam("language")).scalar_subquery(),
)


# ---- the index, once per version of a language's names ----------------------------------------

_indexes: dict[tuple[Any, ...], Phrases] = {}
_lock = threading.Lock()


def version(session: Session, language: str) -> tuple[Any, ...]:
    """What changes whenever a language's names or keywords do: the newest text (of any language)
    and the latest change in this one. (A product taken out of the directory is not named: the
    look-up of the products meant finds it no more.)"""
    return tuple(session.execute(_VERSION, {"language": language}).one())


def phrases_for(session: Session, language: str, words: Words) -> Phrases:
    """`language`'s names and keywords, indexed: built again only when they changed since this
    process last did."""
    key = (str(session.get_bind().url), language, words, version(session, language))
    index = _indexes.get(key)
    if index is None:
        rows = session.execute(
            select(ProductText.id, ProductText.name, ProductText.keywords).where(ProductText.language == language)
        )
        index = Phrases.of([tuple(row) for row in rows], words)  # type: ignore[misc]
        with _lock:
            if len(_indexes) >= KEPT:
                _indexes.pop(next(iter(_indexes)))
            _indexes[key] = index
    return index


def _stems(text: str, words: Words) -> tuple[str, ...]:
    """`text`'s content words, stemmed, accents off."""
    return tuple(_stem(word, words) for word in words_of(text) if word not in words.filler)


@lru_cache(maxsize=65536)
def _stem(word: str, words: Words) -> str:
    """A word as the index keeps it (kept: names share their words, and callers say them again)."""
    return plain(words.stem(words.written(word)))
