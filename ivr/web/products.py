"""The product directory on the help centre: a search with category filters and pages, a page per
product, and the same search as JSON (`/help/api/products`).

What a visitor types is only ever a search (ivr/products/search.py makes it words, never operators);
a category or a page number that is not one is shown as if not given on the pages, and refused with
the reason by the JSON search.
"""

from __future__ import annotations

import math
from typing import Any

from babel.numbers import format_currency
from flask import Response, abort, current_app, jsonify, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ivr.db import get_db
from ivr.models import Product
from ivr.products import search as products
from ivr.web.pages import MAX_QUERY, api_error, bp, language_now, offered, page, query
from ivr.web.visitors import language_of

PER_PAGE = 20
# Far more pages than a catalogue has; a larger number is not a page.
MAX_PAGE = 10_000


@bp.get("/products")
def directory() -> tuple[str, int] | str:
    language = language_now()
    asked, problem = query()
    if problem == "too_long":
        return render_template("help/products.html", **page(language), asked=asked[:MAX_QUERY], problem=problem,
                               found=None, categories={}, category=""), 400  # fmt: skip
    with get_db().reading() as db:
        names = products.category_names(db, language)
        category = request.args.get("category", "")
        category = category if category in names else ""
        number = page_number(request.args.get("page", "1")) or 1
        found = products.find(db, language, asked, words(language), category, number, PER_PAGE)
    pages = max(1, math.ceil(found.total / PER_PAGE))
    return render_template(
        "help/products.html", **page(language), asked=asked, found=found, category=category, names=names,
        categories={code: (names[code], count) for code, count in sorted(found.by_category.items(),
                                                                          key=lambda item: names.get(item[0], ""))},
        number=min(number, pages), pages=pages, shown=shown(language),
    )  # fmt: skip


@bp.get("/products/<code>")
def product(code: str) -> str:
    language = language_now()
    with get_db().reading() as db:
        found = db.scalar(select(Product).where(Product.code == code).options(selectinload(Product.texts)))
        words_of = next((t for t in found.texts if t.language == language), None) if found is not None else None
        if found is None or words_of is None:
            abort(404)
        names = products.category_names(db, language)
    return render_template("help/product.html", **page(language), product=found, words=words_of,
                           category=names.get(found.category, found.category), shown=shown(language))  # fmt: skip


@bp.get("/api/products")
def api_products() -> tuple[Response, int] | Response:
    """The directory as JSON: {"language", "total", "page", "pages", "products": [...], "categories":
    {code: {"name", "count"}}}; a bad language, page, category or query is a 400 with the reason."""
    lines = offered()
    language = request.args.get("lang") or language_of(request, lines)
    if language not in lines:
        return api_error(f"lang must be one of {', '.join(lines)}")
    asked, problem = query()
    if problem == "too_long":
        return api_error(f"q is longer than {MAX_QUERY} characters")
    number = page_number(request.args.get("page", "1"))
    if number is None:
        return api_error(f"page must be a whole number from 1 to {MAX_PAGE}")
    with get_db().reading() as db:
        names = products.category_names(db, language)
        category = request.args.get("category", "")
        if category and category not in names:
            return api_error(f"category must be one of {', '.join(sorted(names))}")
        found = products.find(db, language, asked, words(language), category, number, PER_PAGE)
    say = shown(language)
    response = jsonify({
        "language": language, "total": found.total, "page": number, "pages": max(1, math.ceil(found.total / PER_PAGE)),
        "products": [{
            "code": p.code, "name": t.name, "description": t.description, "category": p.category,
            "price": f"{p.price:.2f}", "currency": current_app.config["CURRENCY"], "price_text": say.price(p.price),
            "availability": p.availability, "availability_text": say.availability(p.availability),
            "sizes": p.sizes, "colours": t.colours,
            "url": url_for("help.product", code=p.code, lang=language, _external=True),
        } for p, t in found.products],
        "categories": {code: {"name": names.get(code, code), "count": n} for code, n in sorted(found.by_category.items())},
    })  # fmt: skip
    response.headers["Access-Control-Allow-Origin"] = "*"  # public prices, no cookies: any site may show them
    return response


class Shown:
    """A product's price and availability as a visitor of `language` reads them."""

    def __init__(self, language: str, texts: dict[str, str], currency: str) -> None:
        self.locale, self.texts, self.currency = language.replace("-", "_"), texts, currency

    def price(self, amount: Any) -> str:
        return format_currency(amount, self.currency, locale=self.locale)

    def availability(self, availability: str) -> str:
        return self.texts[f"availability_{availability}"]


def shown(language: str) -> Shown:
    return Shown(language, page(language)["t"], current_app.config["CURRENCY"])


def words(language: str):  # type: ignore[no-untyped-def]
    """How `language`'s catalog stems words (the phone's own)."""
    return current_app.extensions["ivr.catalog"].words(language)


def page_number(text: str) -> int | None:
    """A page number as given in a URL, or None when it is not one."""
    return int(text) if len(text) <= 5 and text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_PAGE else None
