"""Values from outside, made fit for a database row, an XML attribute, a page or a log line: every
channel cleans what it is given the same way (the phone's webhooks, the agents' forms)."""

from __future__ import annotations

import re
import unicodedata

MAX_VALUE = 1000
# Control characters (C0, DEL, C1) and the line and paragraph separators: invalid in XML 1.0 or
# meaningless in a phone call's values; NUL is refused by PostgreSQL.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def clean(value: str) -> str:
    """A value from outside, fit for a database row, an XML attribute or a log line."""
    return CONTROL.sub("", value)[:MAX_VALUE]


# What a spreadsheet takes for the start of a formula (OWASP, CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters that show as nothing: a spreadsheet may skip them before a formula's start.
INVISIBLE = "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"


def _formula(value: str) -> bool:
    """Would a spreadsheet take this text for a formula? Read as it may read it: fullwidth ＝ ＋ ＠ as
    = + @ (NFKC), and nothing invisible before them."""
    start = value.lstrip(INVISIBLE)[:4]
    return start != "" and unicodedata.normalize("NFKC", start).lstrip(INVISIBLE)[:1] in FORMULA_START


def csv_cell(value: object) -> object:
    """A cell a spreadsheet shows as text, never runs as a formula: text that starts (to a
    spreadsheet's eye) with = + - @, a tab or a carriage return gets a ' before it."""
    if isinstance(value, str) and value and _formula(value):
        return "'" + value
    return value


def csv_value(cell: str) -> str:
    """A cell read back from a file `csv_cell` wrote: the ' it put before a formula's start removed."""
    return cell[1:] if cell[:1] == "'" and len(cell) > 1 and _formula(cell[1:]) else cell
