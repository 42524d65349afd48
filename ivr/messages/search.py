"""Finding a message the way agents remember it: the customer's name, their account, the number they
called from (in any format), an order number they mentioned, words of the transcript.

Each message has a search document (`messages.search_text`): those facts as normalised words. The
database's own full-text index matches it (SQLite FTS5, PostgreSQL tsvector; migration 0009) and
ranks the results. Words are normalised here, the same way for the document and for what an agent
types, so both databases match the same words: lower case, accents off ("Makinen" is "Mäkinen",
"Berzins" "Bērziņš"), stemmed, numbers as digits. A message's words are stemmed as its language's
catalog says (English where that language has no catalog yet); what an agent types is stemmed in
every language of the line, and a word matches in any of them.

Each word typed matches the start of a word ("Lovel" finds Lovelace), as typed or as a stem: every
word first, and when no message has them all, any of them (the best first: "order 5001" finds the
order's messages though they never say "order"). A phone number is found by all its digits, the
national number or its last four to seven digits. Among equal matches the newest comes first. What
an agent types is letters and digits only: nothing in it is an operator.
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
from ivr.speech.matching import ENGLISH, Words, plain
from ivr.speech.numbers import numbers_in

WORD = re.compile(r"[^\W_]+")
# What an agent types when looking for a number: digits and the usual separators, 7 digits or more.
PHONE_LIKE = re.compile(r"\+?[\d\s().\-/]{7,}")
# The call's values that are numbers a caller gave (orders, accounts).
GIVEN_NUMBERS = ("order_number", "account_number")
# A word typed matches the start of a document's word when it is this long or longer.
SHORTEST_START = 3
# The FTS5 table over messages.search_text (SQLite).
FTS = table("message_search", column("rowid"), column("rank"), column("message_search"))


def words(text: str, language: Words = ENGLISH) -> list[str]:
    """Lower case words without accents, stemmed as `language` stems them; digits stay as they are."""
    return [w if w.isdigit() else language.stem(w) for w in WORD.findall(plain(text))]


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
    (555 010 0001, and with a trunk 0 as Europe writes it), and its last seven to four digits
    (010 0001, ..., 0001)."""
    digits = re.sub(r"\D", "", number)
    if len(digits) < 7:
        return [digits] if digits else []
    forms = [digits, *(digits[-n:] for n in (7, 6, 5, 4))]
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
    """What an agent typed, as the starts of the words documents hold: each word as typed (accents
    off) and as its stems in the line's languages (any of them matches), a phone number as one run of
    digits."""
    query = plain(query.strip())  # fullwidth digits and letters too
    if PHONE_LIKE.fullmatch(query) and len(re.sub(r"\D", "", query)) >= 7:
        return [(re.sub(r"\D", "", query),)]
    stemmers = line_words(settings, catalog)
    return [
        (word,) if word.isdigit() else tuple(dict.fromkeys([word, *(language.stem(word) for language in stemmers)]))
        for word in WORD.findall(plain(query))
    ]


def condition(session: Session, found: list[tuple[str, ...]], any_term: bool = False):  # type: ignore[no-untyped-def]
    """A condition on messages: every term (any, with `any_term`) starts a word of the document."""
    if _postgresql(session):
        return _VECTOR.op("@@")(func.to_tsquery("simple", _tsquery(found, any_term)))
    fts = select(FTS.c.rowid).where(FTS.c.message_search.op("MATCH")(_fts_query(found, any_term)))
    return Message.id.in_(fts)


def ranked(session: Session, query, found: list[tuple[str, ...]], any_term: bool = False):  # type: ignore[no-untyped-def]
    """`query` (a select of messages) limited to the matches, the best first."""
    if _postgresql(session):
        matched = func.to_tsquery("simple", _tsquery(found, any_term))
        return query.where(_VECTOR.op("@@")(matched)).order_by(func.ts_rank(_VECTOR, matched).desc())
    return (
        query.join(FTS, FTS.c.rowid == Message.id)
        .where(FTS.c.message_search.op("MATCH")(_fts_query(found, any_term)))
        .order_by(FTS.c.rank)
    )


_VECTOR = literal_column("messages.search_vector")


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _tsquery(found: list[tuple[str, ...]], any_term: bool) -> str:
    """to_tsquery's text: each term any of its forms (|) as the start of a word (:*); every term (&)
    or any (|). Forms are letters and digits only (WORD), never one of tsquery's operators."""
    either = (" | ".join(f"{form}{_start(form, ':*')}" for form in forms) for forms in found)
    return (" | " if any_term else " & ").join(f"({forms})" for forms in either)


def _start(form: str, prefix: str) -> str:
    """`prefix` (the query's "a word starting with") for a word of 3 letters or more; a shorter one
    matches only itself ("or" is not every "order"), and so does a number (documents hold a phone
    number's endings: "0017" is a number ending in 0017, not every number starting with it)."""
    return prefix if len(form) >= SHORTEST_START and not form.isdigit() else ""


def _fts_query(found: list[tuple[str, ...]], any_term: bool) -> str:
    """FTS5's query: each form a quoted prefix ("lovel"*), a term's forms joined by OR, every term
    (AND) or any (OR). Forms are letters and digits only: nothing is read as an operator or a column."""
    quoted = (" OR ".join(f'"{form}"{_start(form, "*")}' for form in forms) for forms in found)
    return (" OR " if any_term else " AND ").join(f"({either})" for either in quoted)
