"""Which product a caller names in their own words ("do you have the trail runner in stock", "how
much is the kettle", "paljonko vedenkeitin maksaa", "cik maksā tējkanna").

A product is named when every word of its name, or of one of its keywords, is among what was said
(compared as matching compares words: content words, stemmed in the call's language, accents off).
The products whose longest such phrase is longest are the ones meant: one is answered, two or three
are offered to choose from (what can be had first), more are too many to be sure (the best three are
offered). The database's
full-text index narrows 10,000 products to a few dozen first (any word said, as the directory's
search reads it); only those are compared.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from ivr.models import Product, ProductText
from ivr.products.catalogue import AVAILABILITY
from ivr.products.search import candidates, plain, terms
from ivr.speech.matching import Words, normalise, words_of

# More than this many products named alike: the first ones by the index's rank are offered.
MAX_OFFERED = 3
# How many products the index hands over to be compared.
CANDIDATES = 40


@dataclass(frozen=True)
class Named:
    """The products a caller named, best first (none: no product named); `certain` when one alone
    was named more fully than any other; `whole` when a product's name or keyword was all that was
    said ("the glass kettle"), not part of another question ("how do I return a kettle")."""

    products: tuple[tuple[Product, ProductText], ...] = ()
    whole: bool = False

    @property
    def certain(self) -> bool:
        return len(self.products) == 1


def named(session: Session, language: str, said: str, words: Words) -> Named:
    """The products `said` names, in `language`."""
    heard = set(_stems(said, words))
    if not heard:
        return Named()
    # The index is asked with the content words of 3 letters or more: "in"* would match half of it.
    content = [w for w in words_of(said) if w not in words.filler and len(w) >= 3]
    found = candidates(session, language, terms(" ".join(content), words), CANDIDATES)
    scored = []
    whole = False
    for rank, (product, text) in enumerate(found):
        phrases = [_stems(phrase, words) for phrase in (text.name, *text.keywords)]
        said_in = [p for p in phrases if p and set(p) <= heard]
        if said_in:
            longest = max(len(p) for p in said_in)
            scored.append((longest, -rank, product, text, any(set(p) == heard for p in said_in)))
    if not scored:
        return Named()
    best = max(score for score, *_ in scored)
    # Among those named alike, what can be had first, then the index's order.
    meant = sorted((s for s in scored if s[0] == best), key=lambda s: (AVAILABILITY.index(s[2].availability), -s[1]))
    whole = any(s[4] for s in meant)
    return Named(tuple((product, text) for _score, _rank, product, text, _whole in meant[:MAX_OFFERED]), whole)


def _stems(text: str, words: Words) -> tuple[str, ...]:
    return tuple(plain(stem) for stem in normalise(text, words))
