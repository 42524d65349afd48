"""Finding products the way people type them: any case, with or without accents ("Makinen" finds
"Mäkinen", "tejkanna" finds "tējkanna"), the start of a word ("kettl"), a plural or an inflected form
("kettles", "vedenkeitintä").

Each product's words in a language are kept as two documents (product_texts.search_name: its name,
code and keywords, what it is called; search_text: its colours, sizes, category and description),
lower case and without accents. The database's own full-text index matches them (SQLite FTS5, PostgreSQL tsvector;
migration 0023) and ranks a match in what it is called above one in the description. What someone types is
normalised the same way here, so both databases match the same words: every word typed must start a
word of the product's, either as typed or as its stem in the visitor's language. Nothing typed is
ever read as an operator: only letters and digits reach the query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Select, column, func, literal_column, select, table
from sqlalchemy.orm import Session

from ivr.models import Product, ProductCategory, ProductText
from ivr.speech.matching import Words, plain

WORD = re.compile(r"\w+")
# The FTS5 table over product_texts (SQLite): its columns are search_name and search_text.
FTS = table("product_search", column("rowid"), column("rank"), column("product_search"))
_VECTOR = literal_column("product_texts.search_vector")
# How many words of a query count: a search is a few words, not a paragraph.
MAX_TERMS = 8


def plain_words(text: str) -> list[str]:
    return WORD.findall(plain(text))


def documents(product: Product, text: ProductText, category_name: str) -> tuple[str, str]:
    """What a product is found by in `text`'s language: (what it is called: its name, code and
    keywords; everything else)."""
    called = [text.name, product.code, product.code.replace("-", ""), *text.keywords]
    name = " ".join(word for part in called for word in plain_words(part))
    rest = [*text.colours, *product.sizes, category_name, text.description]
    return name, " ".join(word for part in rest for word in plain_words(part))


def refresh(product: Product, categories: dict[str, dict[str, str]]) -> None:
    """Write the search documents of every language of `product` (after it or its category changed)."""
    names = categories.get(product.category, {})
    for text in product.texts:
        text.search_name, text.search_text = documents(product, text, names.get(text.language, ""))


def terms(query: str, words: Words) -> list[tuple[str, ...]]:
    """What was typed, as prefixes of the documents' words: each word as typed and as its stem in
    the visitor's language (either may start a word of the product's)."""
    found = []
    for word in WORD.findall(query.casefold())[:MAX_TERMS]:
        forms = [w for form in (word, words.stem(word)) for w in plain_words(form)]
        found.append(tuple(dict.fromkeys(forms)))
    return [t for t in found if t]


@dataclass
class Page:
    """One page of a product search: the products on it (with their words in the visitor's
    language), how many match in all, and how many match in each category."""

    products: list[tuple[Product, ProductText]]
    total: int
    by_category: dict[str, int]


def find(session: Session, language: str, query: str, words: Words, category: str = "", page: int = 1,
         per_page: int = 20) -> Page:  # fmt: skip
    """The products with words in `language` matching `query` (every product with none typed), in
    `category` if given; the best matches first, else by name."""
    found = terms(query, words)
    joined = select(Product, ProductText).join(ProductText, ProductText.product_id == Product.id)
    joined = joined.where(ProductText.language == language)
    matching, rank = _matching(session, joined, found) if found else (joined, None)
    counts = session.execute(
        matching.with_only_columns(Product.category, func.count()).group_by(Product.category)
    ).all()
    by_category = {code: count for code, count in counts}
    if category:
        matching = matching.where(Product.category == category)
    total = by_category.get(category, 0) if category else sum(by_category.values())
    ordered = matching.order_by(*([rank] if rank is not None else []), ProductText.name, Product.code)
    rows = session.execute(ordered.limit(per_page).offset((max(page, 1) - 1) * per_page)).all()
    return Page([(product, text) for product, text in rows], total, by_category)


def category_names(session: Session, language: str) -> dict[str, str]:
    """Each category's name in `language` (its code where it has none)."""
    return {c.code: c.names.get(language) or c.code for c in session.scalars(select(ProductCategory))}


def _matching(session: Session, query: Select, found: list[tuple[str, ...]]):  # type: ignore[no-untyped-def,type-arg]
    """`query` limited to the texts that match every term, and what orders the best match first (a
    word in what it is called counts ten times one elsewhere)."""
    if session.get_bind().dialect.name == "postgresql":
        matched = func.to_tsquery("simple", _tsquery(found))
        return query.where(_VECTOR.op("@@")(matched)), func.ts_rank(_VECTOR, matched).desc()
    # FTS5 ranks only in a query that reads it with MATCH: it drives the join.
    fts_query = _fts_query(found)
    fts = query.join(FTS, FTS.c.rowid == ProductText.id).where(FTS.c.product_search.op("MATCH")(fts_query))
    return fts, func.bm25(literal_column("product_search"), 10.0, 1.0)


def _tsquery(found: list[tuple[str, ...]], joined: str = " & ", weight: str = "") -> str:
    """to_tsquery's text: every term (&, or any: |), each any of its forms (|) as a prefix (:*), of
    `weight` (A: what the product is called) if given. Its words are letters and digits only (\\w),
    none of tsquery's operators."""
    return joined.join("(" + " | ".join(f"{form}:*{weight}" for form in forms) + ")" for forms in found)


def _fts_query(found: list[tuple[str, ...]], joined: str = " AND ") -> str:
    """FTS5's query: every term (AND, or any: OR), each any of its forms (OR) as a quoted prefix ("kettl"*)."""
    return joined.join("(" + " OR ".join(f'"{form}"*' for form in forms) + ")" for forms in found)
