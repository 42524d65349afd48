"""The help centre's message form (/help/contact): a question the help centre could not answer goes
to the team, into the agents' queue beside the voice messages (ivr/messages/written.py).

What a visitor wrote is never lost: a form with a mistake, an expired token or too many messages from
one address comes back with their words in it and a sentence saying what to do. A form filled in by
a robot (the field people never see) is thanked and dropped."""

from __future__ import annotations

import re

from flask import current_app, render_template, request
from flask_wtf.csrf import ValidationError, validate_csrf
from sqlalchemy.exc import IntegrityError

from ivr import hours as clock
from ivr.db import get_db
from ivr.messages.written import FORM_ID, LONGEST, PER_HOUR, Written, already, sent_lately, source_of, write_message
from ivr.security import CONTROL
from ivr.web.form import form
from ivr.web.pages import bp, hours_now, language_now, page

EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s.]{2,63}")
PHONE = re.compile(r"\+?[0-9 ().-]{7,24}")
ORDER = re.compile(r"[0-9]{1,12}")
FIELDS = ("name", "email", "phone", "question", "order")


@bp.get("/contact")
def contact() -> str:
    language = language_now()
    prefilled = {
        "question": cleaned(request.args.get("q", ""))[:LONGEST],
        "order": cleaned(request.args.get("order", "")),
    }
    return render_template(
        "help/contact.html", **page(language), **form(prefilled), errors=[], hours=hours_now(language)
    )


@bp.post("/contact")
def send() -> tuple[str, int] | str:
    language = language_now()
    values = {name: cleaned(request.form.get(name, "")) for name in (*FIELDS, "form_id")}
    values["question"] = cleaned(request.form.get("question", ""), keep_lines=True)
    if request.form.get("website"):  # the field people never see: a robot filled it in
        return render_template("help/sent.html", **page(language), hours=hours_now(language))
    try:
        validate_csrf(request.form.get("csrf_token", ""))
    except (ValidationError, RuntimeError):
        return again(language, values, ["error_expired"], 400)
    errors = problems(values)
    if not FORM_ID.fullmatch(values["form_id"]):
        values["form_id"], errors = "", [*errors, "error_expired"]
    if errors:
        return again(language, values, errors, 400)
    settings = current_app.config
    now = clock.now(settings)
    source = source_of(request.remote_addr or "", str(settings["SECRET_KEY"]))
    written = Written(values["form_id"], values["question"], language, values["name"], values["email"],
                      values["phone"], values["order"], source)  # fmt: skip
    try:
        with get_db().transaction() as db:
            if already(db, written.form_id) is None:
                if sent_lately(db, source, now) >= PER_HOUR:
                    return again(language, values, ["error_flood"], 429)
                write_message(db, written, now, settings, current_app.extensions["ivr.catalog"])
    except IntegrityError:
        pass  # the same form, sent twice at once: the other request made the message
    return render_template("help/sent.html", **page(language), hours=hours_now(language))


def again(language: str, values: dict[str, str], errors: list[str], status: int) -> tuple[str, int]:
    """The form again with what the visitor wrote, and what to do."""
    shown = render_template(
        "help/contact.html", **page(language), **form(values), errors=errors, hours=hours_now(language)
    )
    return shown, status


def problems(values: dict[str, str]) -> list[str]:
    """What is wrong with a filled-in form, as the names of the texts that say it."""
    found = []
    if not values["question"]:
        found.append("error_question")
    elif len(values["question"]) > LONGEST:
        found.append("error_question_long")
    if len(values["name"]) > 120:
        found.append("error_name")
    if not values["email"] and not values["phone"]:
        found.append("error_contact")
    if values["email"] and (len(values["email"]) > 254 or not EMAIL.fullmatch(values["email"])):
        found.append("error_email")
    if values["phone"] and not (
        PHONE.fullmatch(values["phone"]) and 7 <= len(re.sub(r"\D", "", values["phone"])) <= 15
    ):
        found.append("error_phone")
    if values["order"] and not ORDER.fullmatch(values["order"]):
        found.append("error_order")
    return found


def cleaned(value: str, keep_lines: bool = False) -> str:
    """A value from the form without control characters (line breaks kept in the question)."""
    if keep_lines:
        lines = (" ".join(CONTROL.sub(" ", line).split()) for line in value.replace("\r\n", "\n").split("\n"))
        return "\n".join(lines).strip()
    return " ".join(CONTROL.sub(" ", value).split())
