"""Finding a message the way agents remember it: the customer's name, their account, the number they
called from (in any format), an order number they mentioned, words of the transcript.

Each message has a search document (`messages.search_text`): those facts as normalised words. The
database's own full-text index matches it (SQLite FTS5, PostgreSQL tsvector; migration 0009) and
ranks the results. Words are normalised here, the same way for the document and for what an agent
types, so both databases match the same words: lower case, stemmed, numbers as digits. A message's
words are stemmed as its language's catalog says (English where that language has no catalog yet);
what an agent types is stemmed in every language of the line, and a word matches in any of them.
What an agent types is words only: nothing in it is an operator or a wildcard.
"""

from __future__ import annotations

import re
from typing import Any

import phonenumbers
from sqlalchemy import column, func, literal_column, select, table
from sqlalchemy.orm import Session

from ivr.errors import PromptError
from ivr.languages import line_languages
from ivr.models import Call, Customer, Message
from ivr.prompts import Catalog
from ivr.speech.matching import ENGLISH, Words
from ivr.speech.numbers import numbers_in

WORD = re.compile(r"\w+")
# What an agent types when looking for a number: digits and the usual separators, 7 digits or more.
PHONE_LIKE = re.compile(r"\+?[\d\s().\-/]{7,}")
# The call's values that are numbers a caller gave (orders, accounts).
GIVEN_NUMBERS = ("order_number", "account_number")
# The FTS5 table over messages.search_text (SQLite).
FTS = table("message_search", column("rowid"), column("rank"), column("message_search"))


def words(text: str, language: Words = ENGLISH) -> list[str]:
    """Lower case words stemmed as `language` stems them; digits stay as they are."""
    return [w if w.isdigit() else language.stem(w) for w in WORD.findall(text.casefold())]


def language_words(code: str, catalog: Catalog | None = None) -> Words:
    """How `code`'s catalog cuts words to their stems; English's where it has no catalog (yet), or
    with no catalog at hand (a migration)."""
    try:
        return catalog.words(code) if catalog is not None else ENGLISH
    except PromptError:
        return ENGLISH


def line_words(settings: dict[str, Any], catalog: Catalog | None = None) -> list[Words]:
    """The stemmers of every language the line speaks, and English's (the fallback documents use)."""
    codes = line_languages(settings) if catalog is not None else []
    return list({w.stemmer: w for w in [ENGLISH, *(language_words(c, catalog) for c in codes)]}.values())


def phone_forms(number: str) -> list[str]:
    """A number as agents may type it: all its digits (+1 555 010 0001), the national number
    (555 010 0001, and with a trunk 0 as Europe writes it), and the last seven digits (010 0001)."""
    digits = re.sub(r"\D", "", number)
    if len(digits) < 7:
        return [digits] if digits else []
    forms = [digits, digits[-7:]]
    try:
        national = str(phonenumbers.parse(number if number.startswith("+") else f"+{digits}").national_number)
    except phonenumbers.NumberParseException:
        national = ""
    if national and national != digits:
        forms += [national, "0" + national]
    return list(dict.fromkeys(forms))


def document(
    caller: str, customer: Customer | None, transcript: str, collected: dict[str, Any], language: Words = ENGLISH
) -> str:
    """The words a message is found by, stemmed as the caller's `language` stems them."""
    parts = [*phone_forms(caller)]
    if customer is not None:
        parts += [*words(customer.name, language), customer.account_number]
        parts += phone_forms(customer.phone or "") if customer.phone != caller else []
    parts += [str(collected[key]) for key in GIVEN_NUMBERS if str(collected.get(key) or "").isdigit()]
    said = f"{transcript} {collected.get('faq_question') or ''}"
    parts += [n for n in numbers_in(said) if len(n) >= 3]  # an order number mentioned in words
    parts += words(said, language)
    return " ".join(parts)


def refresh(session: Session, message: Message, catalog: Catalog | None = None) -> None:
    """Write the message's search document again (when it is left, and when its transcript is made),
    its words stemmed as `catalog` says its language stems them."""
    customer = session.get(Customer, message.customer_id) if message.customer_id is not None else None
    if customer is None and message.caller:
        customer = session.scalar(select(Customer).where(Customer.phone == message.caller))
    collected = session.scalar(select(Call.collected).where(Call.call_sid == message.call_sid))
    message.search_text = document(
        message.caller or "",
        customer,
        message.transcript or "",
        collected if isinstance(collected, dict) else {},
        language_words(message.language or "en-US", catalog),
    )


def reindex(session: Session, catalog: Catalog | None = None) -> int:
    """Every message's document written again (after the way words are normalised has changed)."""
    done = 0
    for message in session.scalars(select(Message).execution_options(yield_per=500)):
        refresh(session, message, catalog)
        done += 1
    return done


def terms(query: str, settings: dict[str, Any], catalog: Catalog | None = None) -> list[tuple[str, ...]]:
    """What an agent typed, as the words documents hold: each word as its stems in the line's
    languages (any of them matches), a phone number as one run of digits."""
    query = query.strip()
    if PHONE_LIKE.fullmatch(query) and len(re.sub(r"\D", "", query)) >= 7:
        return [(re.sub(r"\D", "", query),)]
    stemmers = line_words(settings, catalog)
    return [tuple(dict.fromkeys(words(word, language)[0] for language in stemmers))
            for word in WORD.findall(query.casefold())]  # fmt: skip


def condition(session: Session, found: list[tuple[str, ...]]):  # type: ignore[no-untyped-def]
    """A condition on messages: every term (one of its stems) is in the message's document."""
    if _postgresql(session):
        return _VECTOR.op("@@")(_tsquery(found))
    return Message.id.in_(select(FTS.c.rowid).where(FTS.c.message_search.op("MATCH")(_fts_query(found))))


def ranked(session: Session, query, found: list[tuple[str, ...]]):  # type: ignore[no-untyped-def]
    """`query` (a select of messages) limited to the matches, the best first."""
    if _postgresql(session):
        return query.where(_VECTOR.op("@@")(_tsquery(found))).order_by(func.ts_rank(_VECTOR, _tsquery(found)).desc())
    return (
        query.join(FTS, FTS.c.rowid == Message.id)
        .where(FTS.c.message_search.op("MATCH")(_fts_query(found)))
        .order_by(FTS.c.rank)
    )


_VECTOR = literal_column("messages.search_vector")


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _tsquery(found: list[tuple[str, ...]]):  # type: ignore[no-untyped-def]
    """Every term, each any of its stems: tsquery's own && and || on plain queries (nothing typed is
    read as an operator)."""
    query = None
    for stems in found:
        either = None
        for stem in stems:
            plain = func.plainto_tsquery("simple", stem)
            either = plain if either is None else either.op("||")(plain)
        query = either if query is None else query.op("&&")(either)
    return query


def _fts_query(found: list[tuple[str, ...]]) -> str:
    """Each stem a quoted string (FTS5 reads nothing in it as an operator, a column or a prefix);
    a term's stems in parentheses, joined by OR; every term (AND)."""
    quoted = (" OR ".join('"' + stem.replace('"', '""') + '"' for stem in stems) for stems in found)
    return " AND ".join(f"({either})" for either in quoted)
