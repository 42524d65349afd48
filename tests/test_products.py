"""The product directory as data: a catalogue file (YAML or CSV) imported whole or not at all, exported
back in the same form, and the demo catalogue every demo line has."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from flask import Flask
from sqlalchemy import func, select

from ivr.db import get_db
from ivr.models import Product, ProductCategory, ProductText
from ivr.products.catalogue import AVAILABILITY, CatalogueError, from_csv, from_yaml, to_csv, to_yaml
from ivr.products.store import DEMO_FILE, export_catalogue

GOOD = {
    "currency": "USD",
    "categories": {"kitchen": {"en-US": "Kitchen", "fi-FI": "Keittiö"}, "shoes": {"en-US": "Shoes"}},
    "products": [
        {"code": "KT-1", "category": "kitchen", "price": "39.90", "availability": "in_stock",
         "en-US": {"name": "Electric kettle", "description": "Boils a litre in three minutes.",
                   "colours": ["white", "black"], "keywords": ["kettle", "kettles"]},
         "fi-FI": {"name": "Vedenkeitin", "description": "Keittää litran kolmessa minuutissa.",
                   "keywords": ["vedenkeitintä", "vedenkeittimen"]}},
        {"code": "SH-42", "category": "shoes", "price": "89", "availability": "Out of stock",
         "sizes": ["41", "42", 43], "en-US": {"name": "Trail runner"}},
    ],
}  # fmt: skip


def write(tmp_path: Path, data: object, name: str = "catalogue.yaml") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def import_file(app: Flask, path: Path, *extra: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=["products", "import", str(path), *extra])


def products(app: Flask) -> dict[str, Product]:
    with app.app_context(), get_db().reading() as session:
        found = session.scalars(select(Product).where(Product.code.in_(["KT-1", "SH-42", "NEW-1"]))).all()
        for product in found:
            product.texts  # noqa: B018  (loaded while the session is open)
        return {p.code: p for p in found}


def test_a_yaml_catalogue_is_imported_then_updated_by_code(app: Flask, tmp_path: Path) -> None:
    result = import_file(app, write(tmp_path, GOOD))
    assert result.exit_code == 0, result.output
    assert "2 products added, 0 updated, 2 categories" in result.output
    kettle = products(app)["KT-1"]
    assert kettle.price == Decimal("39.90") and kettle.availability == "in_stock" and kettle.category == "kitchen"
    assert {t.language: t.name for t in kettle.texts} == {"en-US": "Electric kettle", "fi-FI": "Vedenkeitin"}
    runner = products(app)["SH-42"]
    assert runner.availability == "out_of_stock" and runner.sizes == ["41", "42", "43"] and runner.price == 89

    changed = yaml.safe_load(yaml.safe_dump(GOOD))
    changed["products"][0]["price"] = "35.00"
    changed["products"][0]["en-US"]["name"] = "Electric kettle 1.7 l"
    del changed["products"][0]["fi-FI"]  # a language the file does not give stays as it was
    result = import_file(app, write(tmp_path, changed))
    assert "0 products added, 2 updated" in result.output
    kettle = products(app)["KT-1"]
    assert kettle.price == Decimal("35.00")
    assert {t.language: t.name for t in kettle.texts} == {"en-US": "Electric kettle 1.7 l", "fi-FI": "Vedenkeitin"}


def test_export_gives_back_what_import_reads_in_yaml_and_csv(app: Flask, tmp_path: Path) -> None:
    tricky = yaml.safe_load(yaml.safe_dump(GOOD))
    # Cells a spreadsheet would run, commas, quotes, line breaks and Latvian letters survive the trip.
    tricky["products"][0]["en-US"]["description"] = '=HYPERLINK("http://evil.example"), "quoted",\nnext line'
    tricky["products"][1]["lv-LV"] = {"name": "Taku skriešanas apavi", "keywords": ["-20% atlaide", "@home"]}
    assert import_file(app, write(tmp_path, tricky)).exit_code == 0
    runner = app.test_cli_runner()
    for form in ("yaml", "csv"):
        exported = runner.invoke(args=["products", "export", "--format", form]).output
        read_back = (from_csv if form == "csv" else from_yaml)(exported)
        with app.app_context(), get_db().reading() as session:
            assert read_back.products == export_catalogue(session, "USD").products
            assert read_back.categories == export_catalogue(session, "USD").categories
        if form == "csv":
            assert "'=HYPERLINK" in exported and "'-20% atlaide|@home" in exported
            assert "Taku skriešanas apavi" in exported
        # And importing the export changes nothing.
        path = write(tmp_path, exported, f"again.{form}")
        assert "0 products added" in import_file(app, path).output
    assert products(app)["KT-1"].texts[0].description.startswith('=HYPERLINK("http://evil.example")')


def test_a_csv_written_by_hand_is_read_with_lists_and_category_names() -> None:
    text = (
        "code,category,price,availability,sizes,name:en-US,keywords:en-US,category:en-US,name:fi-FI\r\n"
        "SH-42,shoes,89.00,low,41|42| 43 ,Trail runner,trail runners|running shoes,Shoes,Polkujuoksukenkä\r\n"
    )
    catalogue = from_csv(text)
    (row,) = catalogue.products
    assert row.sizes == ["41", "42", "43"] and row.availability == "low"
    assert row.texts["en-US"].keywords == ["trail runners", "running shoes"]
    assert row.texts["fi-FI"].name == "Polkujuoksukenkä"
    assert catalogue.categories == {"shoes": {"en-US": "Shoes"}}


def bad(product: dict, **top: object) -> dict:
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    data["products"].append({"code": "NEW-1", "category": "kitchen", "price": "1.00", "availability": "low",
                             "en-US": {"name": "New thing"}, **product})  # fmt: skip
    data.update(top)
    return data


BAD_ROWS = [
    (bad({"code": "new 1"}), "the code 'new 1' is not 2 to 32 upper-case letters"),
    (bad({"code": "KT-1"}), "the code KT-1 is already used by product 1"),
    (bad({"category": "Kitchen Things"}), "the category 'Kitchen Things' is not a category code"),
    (bad({"price": "abc"}), "the price 'abc' is not an amount like 39.90"),
    (bad({"price": "1.999"}), "at most two decimals"),
    (bad({"price": "-1"}), "the price '-1' is not an amount"),
    (bad({"price": "NaN"}), "the price 'NaN' is not an amount"),
    (bad({"price": "1e30"}), "the price '1e30' is not an amount"),
    (bad({"availability": "maybe"}), "the availability 'maybe' is not one of " + ", ".join(AVAILABILITY)),
    (bad({"en-US": None}), "its en-US words must be name, description, colours and keywords"),
    (bad({"en-US": {"name": ""}}), "its en-US name is missing"),
    (bad({"en-US": {"name": "x" * 121}}), "its en-US name is longer than 120 characters"),
    (bad({"en-US": {"name": "Kettle\x00"}}), "its en-US name holds control characters"),
    (bad({"en-US": {"name": "Kettle", "prise": 1}}), "unknown en-US field 'prise'"),
    (bad({"en-US": {"name": "Kettle", "keywords": "kettle"}}), "its en-US keywords must be a list"),
    (bad({"sizes": "42"}), "sizes must be a list"),
    (bad({"english": {"name": "Kettle"}}), "unknown field 'english'"),
    ({"products": "none"}, "expected 'products:' with a list of products"),
    (bad({}, currency="dollars"), "currency 'dollars' is not a three-letter code"),
    (bad({}, colour="red"), "unknown top-level field 'colour'"),
    (bad({}, categories={"Kitchen!": {"en-US": "K"}}), "category 'Kitchen!': a category code is lower-case"),
    ("products: [\n  - code: [", "not valid YAML"),
]


@pytest.mark.parametrize(("data", "said"), BAD_ROWS)
def test_a_bad_file_says_what_is_wrong_and_imports_nothing(app: Flask, tmp_path: Path, data: object, said: str) -> None:
    result = import_file(app, write(tmp_path, data))
    assert result.exit_code == 1
    assert said in result.output
    assert "nothing imported" in result.output
    assert products(app) == {}


def test_every_bad_row_is_named_in_one_go(tmp_path: Path) -> None:
    data = bad({"price": "abc"})
    data["products"].append({"code": "NEW-2", "category": "kitchen", "price": "1", "availability": "gone"})
    with pytest.raises(CatalogueError) as raised:
        from_yaml(yaml.safe_dump(data))
    assert [p.split(":")[0] for p in raised.value.problems] == ["product 3 (NEW-1)", "product 4 (NEW-2)"]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("code,category,price\r\nKT-1,kitchen,1\r\n", "line 1: the header lacks the column availability"),
        ("code,category,price,availability,name:en-US\r\nKT-1,kitchen,1,low,Kettle,extra\r\n",
         "line 2: more cells than the header has columns"),
        ("code,category,price,availability,nom:en-US\r\nKT-1,kitchen,1,low,Kettle\r\n", "unknown column 'nom:en-US'"),
        ("code,category,price,availability,name\r\nKT-1,kitchen,1,low,Kettle\r\n", "unknown column 'name'"),
        ("code,category,price,availability,name:en-US\r\nKT-1,kitchen,one,low,Kettle\r\n",
         "line 2 (KT-1): the price 'one' is not an amount"),
    ],
)  # fmt: skip
def test_a_bad_csv_says_which_line(app: Flask, tmp_path: Path, text: str, said: str) -> None:
    result = import_file(app, write(tmp_path, text, "catalogue.csv"))
    assert result.exit_code == 1 and said in result.output, result.output
    assert products(app) == {}


def test_what_only_the_database_can_tell_also_imports_nothing(app: Flask, tmp_path: Path) -> None:
    unknown_category = bad({"category": "no_such_shelf"})
    result = import_file(app, write(tmp_path, unknown_category))
    assert "NEW-1: the category 'no_such_shelf' is neither in the file's categories nor already known" in result.output
    euros = bad({}, currency="EUR")
    result = import_file(app, write(tmp_path, euros))
    assert "the file's prices are in EUR, the line's in USD (IVR_CURRENCY)" in result.output
    assert result.exit_code == 1 and products(app) == {}


def test_files_it_cannot_read_are_refused(app: Flask, tmp_path: Path) -> None:
    assert "cannot read it" in import_file(app, tmp_path / "missing.yaml").output
    assert "a .yaml or a .csv file" in import_file(app, write(tmp_path, "x", "catalogue.txt")).output
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("code,category,price,availability,name:fi-FI\nKT-1,kitchen,1,low,Keitti\xf6\n".encode("latin-1"))
    assert "cannot read it" in import_file(app, latin1).output
    # --format says what a file's name does not.
    csv_named_txt = write(tmp_path, to_csv(from_yaml(yaml.safe_dump(GOOD))), "catalogue.txt")
    assert import_file(app, csv_named_txt, "--format", "csv").exit_code == 0


def test_the_demo_catalogue_has_forty_products_in_three_languages(app: Flask) -> None:
    catalogue = from_yaml(DEMO_FILE.read_text(encoding="utf-8"))
    assert 38 <= len(catalogue.products) <= 45
    for product in catalogue.products:
        assert set(product.texts) == {"en-US", "fi-FI", "lv-LV"}, product.code
    for language in ("en-US", "fi-FI", "lv-LV"):
        names = [p.texts[language].name.casefold() for p in catalogue.products]
        assert len(names) == len(set(names)), f"two products share a name in {language}"
    assert {p.availability for p in catalogue.products} == set(AVAILABILITY)
    # Every demo line has it (flask seed, the tests' database, the simulator).
    with app.app_context(), get_db().reading() as session:
        assert session.scalar(select(func.count()).select_from(Product)) == len(catalogue.products)
        assert session.scalar(select(func.count()).select_from(ProductText)) == 3 * len(catalogue.products)
        assert session.scalar(select(func.count()).select_from(ProductCategory)) == len(catalogue.categories)
    assert to_yaml(catalogue)  # and it can be written back
