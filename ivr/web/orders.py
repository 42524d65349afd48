"""Order status on the help centre (/help/orders): an order number and the last four digits of the
phone number on its account (or its postcode) give the order's status in the words the phone says
(ivr/flows/orders.py `order_report`, with numbers as written). A wrong pair gets one answer, whatever
was wrong; guessing is refused after a few misses (ivr/orders.py)."""

from __future__ import annotations

from flask import current_app, render_template, request
from flask_wtf.csrf import ValidationError, validate_csrf

from ivr import hours as clock
from ivr.db import get_db
from ivr.messages.written import source_of
from ivr.orders import NUMBER, look_up, order_report
from ivr.spoken import Speaker
from ivr.web.contact import cleaned
from ivr.web.form import form
from ivr.web.pages import bp, language_now, page

LONGEST_PROOF = 16


@bp.get("/orders")
def orders() -> str:
    return render_template("help/orders.html", **page(language_now()), **form(), errors=[], status=None)


@bp.post("/orders")
def order_status() -> tuple[str, int] | str:
    language = language_now()
    values = {"number": cleaned(request.form.get("number", "")), "proof": cleaned(request.form.get("proof", ""))}
    try:
        validate_csrf(request.form.get("csrf_token", ""))
    except (ValidationError, RuntimeError):
        return again(language, values, ["error_expired"], 400)
    errors = []
    if not NUMBER.fullmatch(values["number"]):
        errors.append("error_order_number")
    if not values["proof"] or len(values["proof"]) > LONGEST_PROOF:
        errors.append("error_proof")
    if errors:
        return again(language, values, errors, 400)
    settings = current_app.config
    now = clock.now(settings)
    address = source_of(request.remote_addr or "", str(settings["SECRET_KEY"]))
    with get_db().transaction() as db:
        looked = look_up(db, values["number"], values["proof"], address, now)
        if looked.refused:
            return again(language, values, ["too_many_lookups"], 429)
        if looked.order is None:
            return again(language, values, ["order_not_found_web"], 200)
        today = current_app.extensions["ivr.hours"].local(now).date()
        catalog = current_app.extensions["ivr.catalog"]
        said = order_report(
            looked.order, Speaker(catalog, language, today, str(settings.get("CURRENCY") or "USD")), str
        )
        status = catalog.text(language, said.prompt, dict(said.values))
    return render_template("help/orders.html", **page(language), **form(), errors=[], status=status,
                           number=values["number"])  # fmt: skip


def again(language: str, values: dict[str, str], errors: list[str], status: int) -> tuple[str, int]:
    """The form again with the order number given (never the proof), and what to do."""
    kept = {"number": values["number"]}
    return render_template("help/orders.html", **page(language), **form(kept), errors=errors, status=None), status
