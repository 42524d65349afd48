"""Which product a caller names in their own words ("do you have the trail runner in stock", "how
much is the kettle", "paljonko vedenkeitin maksaa", "cik maksā tējkanna").

A product is named when every word of its name, or of one of its keywords, is among what was said
(compared as matching compares words: content words, stemmed in the call's language, accents off).
The products whose longest such phrase is longest are the ones meant (a name over a keyword as
long): one is answered, two or three are offered to choose from (what can be had first), more are too
many to be sure (the best three are offered). The database's full-text index narrows 10,000 products to a few dozen first (the words
said, as the directory's search reads them: all of them, else any); only those are compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from sqlalchemy.orm import Session

from ivr.products.catalogue import AVAILABILITY
from ivr.products.search import candidates, plain, terms
from ivr.speech.matching import Words, normalise, phrase_words, words_of

# More than this many products named alike: the first ones by the index's rank are offered.
MAX_OFFERED = 3
# How many products the index hands over to be compared.
CANDIDATES = 40


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


def named(session: Session, language: str, said: str, words: Words, asking: frozenset[str] = frozenset()) -> Named:
    """The products `said` names, in `language`; `asking`: the words of a question about a product
    ("how", "much"), which name none."""
    heard = set(_stems(said, words))
    if not heard:
        return Named()
    # The index is asked with the content words of 3 letters or more ("in"* would match half of it):
    # all of them first (a few products match), then any of them (more do), when all found none.
    content = [w for w in words_of(said) if w not in words.filler and w not in asking and len(w) >= 3]
    found = terms(" ".join(content), words)
    rows = candidates(session, language, found, CANDIDATES) or candidates(session, language, found, CANDIDATES, True)
    scored = []
    for rank, (code, availability, name, keywords, price, sizes) in enumerate(rows):
        said_in = [p for p in (_phrase_stems(phrase, words) for phrase in (name, *keywords)) if p and set(p) <= heard]
        if said_in:
            whole = any(set(p) == heard for p in said_in)
            # The longest phrase said; of equal ones, a name over a keyword ("backpack": the Backpack).
            by_name = _phrase_stems(name, words) in said_in
            product = Product(code, name, availability, price, tuple(sizes))
            scored.append(((max(len(p) for p in said_in), by_name), rank, product, whole))
    if not scored:
        return Named()
    best = max(score for score, *_ in scored)
    # Among those named alike, what can be had first, then the index's order.
    meant = sorted((s for s in scored if s[0] == best), key=lambda s: (AVAILABILITY.index(s[2].availability), s[1]))
    return Named(tuple(product for _score, _rank, product, _whole in meant[:MAX_OFFERED]), any(s[3] for s in meant))


def _stems(text: str, words: Words) -> tuple[str, ...]:
    """`text`'s content words, stemmed, accents off."""
    return tuple(plain(stem) for stem in normalise(text, words))


@lru_cache(maxsize=65536)
def _phrase_stems(phrase: str, words: Words) -> tuple[str, ...]:
    """A product's name or keyword as `_stems` makes it, kept: the same on every call."""
    return tuple(plain(stem) for stem in phrase_words(phrase, words))
