"""A product catalogue as a file (YAML or CSV): read and checked whole, or written back.

Reading collects every problem, one sentence per bad row or field, before anything reaches the
database: a file with one bad row imports nothing (ivr/products/store.py). YAML carries the
categories' names and each product's words per language; CSV has the same fields as columns
(`name:fi-FI`, `category:lv-LV`, ...), with lists separated by "|".
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from ivr.errors import IVRError
from ivr.languages import CODE
from ivr.security import CONTROL, csv_cell, csv_value

AVAILABILITY = ("in_stock", "low", "out_of_stock", "discontinued")
PRODUCT_CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{1,31}")
CATEGORY_CODE = re.compile(r"[a-z0-9_]{1,32}")
MAX_PRICE = Decimal("9999999999.99")
MAX_PRODUCTS = 100_000
# Lengths a shelf label, a description and a caller's phrase fit in.
NAME, DESCRIPTION, WORD, SIZE = 120, 1000, 80, 16
MAX_LIST = 40
TEXT_FIELDS = ("name", "description", "colours", "keywords")
PRODUCT_FIELDS = ("code", "category", "price", "availability", "sizes")
LIST_SEPARATOR = "|"


class CatalogueError(IVRError):
    """A catalogue that cannot be imported: every problem found, one sentence each; nothing of it
    was imported."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class ProductWords:
    """A product in one language."""

    name: str
    description: str = ""
    colours: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)


@dataclass
class ProductRow:
    code: str
    category: str
    price: Decimal
    availability: str
    sizes: list[str] = field(default_factory=list)
    texts: dict[str, ProductWords] = field(default_factory=dict)


@dataclass
class Catalogue:
    """What a file holds: categories' names by language, and products."""

    products: list[ProductRow]
    categories: dict[str, dict[str, str]] = field(default_factory=dict)
    currency: str | None = None


# ---- reading ---------------------------------------------------------------------------------


def read(path: Path, file_format: str | None = None) -> Catalogue:
    """The catalogue in `path` (YAML, or CSV by its suffix or `file_format`), checked; CatalogueError
    with every problem found."""
    kind = (file_format or path.suffix.lstrip(".")).lower()
    if kind not in ("yaml", "yml", "csv"):
        raise CatalogueError([f"{path}: a catalogue is a .yaml or a .csv file (or say --format yaml or csv)"])
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise CatalogueError([f"{path}: cannot read it: {error}"]) from None
    return from_csv(text) if kind == "csv" else from_yaml(text)


def from_yaml(text: str) -> Catalogue:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CatalogueError([f"not valid YAML: {error}"]) from None
    if not isinstance(data, dict) or not isinstance(data.get("products"), list):
        raise CatalogueError(["expected 'products:' with a list of products"])
    problems: list[str] = []
    unknown = sorted(set(data) - {"currency", "categories", "products"})
    if unknown:
        problems.append(f"unknown top-level field {', '.join(map(repr, unknown))}")
    categories = _categories(data.get("categories") or {}, problems)
    rows = [(f"product {n}", item) for n, item in enumerate(data["products"], 1)]
    return _checked(rows, categories, data.get("currency"), problems)


def from_csv(text: str) -> Catalogue:
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    problems: list[str] = []
    missing = [name for name in ("code", "category", "price", "availability") if name not in header]
    if missing:
        raise CatalogueError([f"line 1: the header lacks the column {', '.join(missing)}"])
    for name in header:
        base, _, language = name.partition(":")
        if (
            base not in (*PRODUCT_FIELDS, *TEXT_FIELDS, "category")
            or (language and not CODE.fullmatch(language))
            or (not language and base in TEXT_FIELDS)
        ):
            problems.append(f"line 1: unknown column {name!r} (columns: code, category, price, availability,"
                            " sizes, and name:xx-XX, description:xx-XX, colours:xx-XX, keywords:xx-XX,"
                            " category:xx-XX for each language)")  # fmt: skip
    categories: dict[str, dict[str, str]] = {}
    rows: list[tuple[str, Any]] = []
    for cells in reader:
        where = f"line {reader.line_num}"
        if None in cells:
            problems.append(f"{where}: more cells than the header has columns")
            continue
        line = {name: csv_value(value) if value is not None else None for name, value in cells.items()}
        item: dict[str, Any] = {key: line[key] for key in PRODUCT_FIELDS if line.get(key) is not None}
        item["sizes"] = _split(line.get("sizes") or "")
        for name, value in line.items():
            base, _, language = name.partition(":")
            if not language or not CODE.fullmatch(language) or value in (None, ""):
                continue
            if base == "category":
                categories.setdefault(line.get("category") or "", {})[language] = value
            elif base in TEXT_FIELDS:
                words = item.setdefault(language, {})
                words[base] = _split(value) if base in ("colours", "keywords") else value
        rows.append((where, item))
    return _checked(rows, _categories(categories, problems), None, problems)


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(LIST_SEPARATOR) if part.strip()]


def _categories(data: Any, problems: list[str]) -> dict[str, dict[str, str]]:
    if not isinstance(data, dict):
        problems.append("categories: expected a code with its name in each language, e.g. kitchen: {en-US: Kitchen}")
        return {}
    categories: dict[str, dict[str, str]] = {}
    for code, names in data.items():
        if not isinstance(code, str) or not CATEGORY_CODE.fullmatch(code):
            problems.append(f"category {code!r}: a category code is lower-case letters, digits and _ (e.g. kitchen)")
            continue
        if not isinstance(names, dict) or not names:
            problems.append(f"category {code}: expected its name in each language, e.g. en-US: Kitchen")
            continue
        checked: dict[str, str] = {}
        for language, name in names.items():
            if not isinstance(language, str) or not CODE.fullmatch(language):
                problems.append(f"category {code}: {language!r} is not a language code like en-US or fi-FI")
            elif (why := _text_problem(name, NAME)) is not None:
                problems.append(f"category {code}: its {language} name {why}")
            else:
                checked[language] = name.strip()
        categories[code] = checked
    return categories


def _checked(rows: list[tuple[str, Any]], categories: dict[str, dict[str, str]], currency: Any,
             problems: list[str]) -> Catalogue:  # fmt: skip
    if currency is not None and (not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency)):
        problems.append(f"currency {currency!r} is not a three-letter code like USD or EUR")
        currency = None
    if len(rows) > MAX_PRODUCTS:
        raise CatalogueError([f"{len(rows)} products: at most {MAX_PRODUCTS} in one file"])
    products: list[ProductRow] = []
    seen: dict[str, str] = {}
    for where, item in rows:
        row = _product(where, item, problems)
        if row is None:
            continue
        if row.code in seen:
            problems.append(f"{where} ({row.code}): the code {row.code} is already used by {seen[row.code]}")
            continue
        seen[row.code] = where
        products.append(row)
    if problems:
        raise CatalogueError(problems)
    return Catalogue(products, categories, currency)


def _product(where: str, item: Any, problems: list[str]) -> ProductRow | None:
    """One product, or None with one sentence in `problems` saying what is wrong with it."""
    if not isinstance(item, dict):
        problems.append(f"{where}: expected a product with code, category, price, availability and its words")
        return None
    code = item.get("code")
    if not isinstance(code, str) or not PRODUCT_CODE.fullmatch(code):
        problems.append(
            f"{where}: the code {code!r} is not 2 to 32 upper-case letters, digits and dashes (e.g. KT-100)"
        )
        return None
    where = f"{where} ({code})"
    why = _row_problem(item)
    if why is not None:
        problems.append(f"{where}: {why}")
        return None
    texts = {language: ProductWords(
        name=words["name"].strip(), description=str(words.get("description") or "").strip(),
        colours=[c.strip() for c in words.get("colours") or []], keywords=[k.strip() for k in words.get("keywords") or []],
    ) for language, words in item.items() if language not in PRODUCT_FIELDS}  # fmt: skip
    availability = str(item["availability"]).strip().lower().replace(" ", "_").replace("-", "_")
    sizes = [str(size).strip() for size in item.get("sizes") or []]
    return ProductRow(code, item["category"], Decimal(str(item["price"]).strip()), availability, sizes, texts)


def _row_problem(item: dict[str, Any]) -> str | None:
    """What is wrong with a product's fields (the first thing found), or None."""
    category = item.get("category")
    if not isinstance(category, str) or not CATEGORY_CODE.fullmatch(category):
        return f"the category {category!r} is not a category code like kitchen"
    price = str(item.get("price", "")).strip()
    try:
        amount = Decimal(price)
    except InvalidOperation:
        return f"the price {price!r} is not an amount like 39.90"
    if not amount.is_finite() or amount < 0 or amount > MAX_PRICE or amount.as_tuple().exponent < -2:  # type: ignore[operator]
        return f"the price {price!r} is not an amount like 39.90 (0 or more, at most two decimals)"
    availability = str(item.get("availability", "")).strip().lower().replace(" ", "_").replace("-", "_")
    if availability not in AVAILABILITY:
        return f"the availability {item.get('availability')!r} is not one of {', '.join(AVAILABILITY)}"
    sizes = item.get("sizes") or []
    if (
        not isinstance(sizes, list)
        or len(sizes) > MAX_LIST
        or any(not isinstance(s, (str, int)) or _text_problem(str(s), SIZE) for s in sizes)
    ):
        return f'sizes must be a list of at most {MAX_LIST} labels of up to {SIZE} characters, e.g. ["41", "42"]'
    languages = [key for key in item if key not in PRODUCT_FIELDS]
    if not languages:
        return "it has no words in any language (e.g. en-US: {name: Electric kettle})"
    for language in languages:
        if not isinstance(language, str) or not CODE.fullmatch(language):
            return f"unknown field {language!r} (a product has {', '.join(PRODUCT_FIELDS)} and languages like en-US)"
        words = item[language]
        if not isinstance(words, dict):
            return f"its {language} words must be name, description, colours and keywords"
        unknown = sorted(set(words) - set(TEXT_FIELDS))
        if unknown:
            return f"unknown {language} field {', '.join(map(repr, unknown))} (fields: {', '.join(TEXT_FIELDS)})"
        if (why := _text_problem(words.get("name"), NAME)) is not None:
            return f"its {language} name {why}"
        if words.get("description") is not None and (why := _text_problem(words["description"], DESCRIPTION, True)):
            return f"its {language} description {why}"
        for listed in ("colours", "keywords"):
            values = words.get(listed) or []
            if not isinstance(values, list) or len(values) > MAX_LIST or any(_text_problem(v, WORD) for v in values):
                return f"its {language} {listed} must be a list of at most {MAX_LIST} words of up to {WORD} characters"
    return None


def _text_problem(value: Any, longest: int, may_be_empty: bool = False) -> str | None:
    if not isinstance(value, str) or (not value.strip() and not may_be_empty):
        return "is missing"
    if len(value) > longest:
        return f"is longer than {longest} characters"
    if CONTROL.search(value.replace("\n", " ")):
        return "holds control characters"
    return None


# ---- writing ---------------------------------------------------------------------------------


def to_yaml(catalogue: Catalogue) -> str:
    """The catalogue in the form `from_yaml` reads."""
    data: dict[str, Any] = {}
    if catalogue.currency:
        data["currency"] = catalogue.currency
    data["categories"] = catalogue.categories
    data["products"] = [
        {"code": p.code, "category": p.category, "price": f"{p.price:.2f}", "availability": p.availability,
         **({"sizes": p.sizes} if p.sizes else {}),
         **{language: _words(w) for language, w in sorted(p.texts.items())}}
        for p in catalogue.products
    ]  # fmt: skip
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120)


def _words(words: ProductWords) -> dict[str, Any]:
    out: dict[str, Any] = {"name": words.name}
    if words.description:
        out["description"] = words.description
    if words.colours:
        out["colours"] = words.colours
    if words.keywords:
        out["keywords"] = words.keywords
    return out


def to_csv(catalogue: Catalogue) -> str:
    """The catalogue in the form `from_csv` reads; a cell a spreadsheet would run as a formula gets a
    ' before it (and loses it again when read back)."""
    languages = sorted({lang for p in catalogue.products for lang in p.texts} |
                       {lang for names in catalogue.categories.values() for lang in names})  # fmt: skip
    header = [*PRODUCT_FIELDS, *(f"{f}:{lang}" for lang in languages for f in (*TEXT_FIELDS, "category"))]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for p in catalogue.products:
        row: list[str] = [p.code, p.category, f"{p.price:.2f}", p.availability, LIST_SEPARATOR.join(p.sizes)]
        for language in languages:
            words = p.texts.get(language)
            row += [words.name, words.description, LIST_SEPARATOR.join(words.colours),
                    LIST_SEPARATOR.join(words.keywords)] if words else ["", "", "", ""]  # fmt: skip
            row.append(catalogue.categories.get(p.category, {}).get(language, ""))
        writer.writerow([csv_cell(value) for value in row])
    return out.getvalue()
