"""Products in the database: a checked catalogue imported in one transaction, or read back whole.

An import adds the products it names and updates those already there (by code); it deletes
nothing: a product a company stops selling is imported as `discontinued`. A product's words in a
language the file gives replace that language's; its other languages stay.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ivr.config import PROJECT_ROOT
from ivr.models import Product, ProductCategory, ProductText
from ivr.products import search
from ivr.products.catalogue import Catalogue, CatalogueError, ProductRow, ProductWords, read

# The demo catalogue: forty products in English, Finnish and Latvian.
DEMO_FILE = PROJECT_ROOT / "db" / "seed" / "products.yaml"
BATCH = 500


@dataclass
class Imported:
    added: int
    updated: int
    categories: int


def import_catalogue(session: Session, catalogue: Catalogue, currency: str) -> Imported:
    """Write `catalogue` in the caller's transaction; CatalogueError (nothing written) when its
    currency is not the line's or a product's category is neither in the file nor the database."""
    problems: list[str] = []
    if catalogue.currency and catalogue.currency != currency:
        problems.append(f"the file's prices are in {catalogue.currency}, the line's in {currency} (IVR_CURRENCY)")
    known = set(session.scalars(select(ProductCategory.code))) | set(catalogue.categories)
    problems += [f"{p.code}: the category {p.category!r} is neither in the file's categories nor already known"
                 for p in catalogue.products if p.category not in known]  # fmt: skip
    if problems:
        raise CatalogueError(problems)
    renamed = []
    for code, names in catalogue.categories.items():
        category = session.get(ProductCategory, code)
        if category is None:
            session.add(ProductCategory(code=code, names=dict(names)))
        elif {**category.names, **names} != category.names:
            category.names = {**category.names, **names}
            renamed.append(code)
    session.flush()
    existing = {p.code: p for p in _with_codes(session, [r.code for r in catalogue.products])}
    touched = []
    for row in catalogue.products:
        product = existing.get(row.code)
        if product is None:
            product = Product(code=row.code, texts=[])
            session.add(product)
        product.category, product.price, product.availability = row.category, row.price, row.availability
        product.sizes = list(row.sizes)
        by_language = {text.language: text for text in product.texts}
        for language, words in row.texts.items():
            text = by_language.get(language)
            if text is None:
                product.texts.append(text := ProductText(language=language))
            text.name, text.description = words.name, words.description
            text.colours, text.keywords = list(words.colours), list(words.keywords)
        touched.append(product)
    # The search documents: of every product imported, and of the others in a category renamed.
    in_renamed = select(Product).where(Product.category.in_(renamed)).options(selectinload(Product.texts))
    imported = {row.code for row in catalogue.products}
    touched += [p for p in session.scalars(in_renamed) if p.code not in imported] if renamed else []
    categories = {c.code: c.names for c in session.scalars(select(ProductCategory))}
    for product in touched:
        search.refresh(product, categories)
    session.flush()
    return Imported(len(catalogue.products) - len(existing), len(existing), len(catalogue.categories))


def _with_codes(session: Session, codes: list[str]) -> list[Product]:
    """The products with these codes, their words loaded (in batches: a database takes only so many
    values in one statement)."""
    found: list[Product] = []
    for start in range(0, len(codes), BATCH):
        batch = select(Product).where(Product.code.in_(codes[start : start + BATCH]))
        found += session.scalars(batch.options(selectinload(Product.texts)))
    return found


def export_catalogue(session: Session, currency: str) -> Catalogue:
    """Every product and category in the database, in code order, as a catalogue file holds them."""
    categories = {
        c.code: dict(sorted(c.names.items()))
        for c in session.scalars(select(ProductCategory).order_by(ProductCategory.code))
    }
    products = [
        ProductRow(p.code, p.category, p.price, p.availability, list(p.sizes),
                   {t.language: ProductWords(t.name, t.description, list(t.colours), list(t.keywords)) for t in p.texts})
        for p in session.scalars(select(Product).order_by(Product.code).options(selectinload(Product.texts)))
    ]  # fmt: skip
    return Catalogue(products, categories, currency)


def load_demo(session: Session) -> int:
    """The demo catalogue, its prices taken as the line's currency whatever that is; how many products."""
    catalogue = read(DEMO_FILE)
    catalogue.currency = None
    done = import_catalogue(session, catalogue, "")
    return done.added + done.updated
