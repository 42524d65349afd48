"""Which language a visitor of the help centre reads: the one they chose (`?lang=`, then remembered in
a cookie), else the best of their browser's (`Accept-Language`) the line speaks, else the line's default.
Only a language the line speaks is ever taken: anything else in the query or the cookie is ignored."""

from __future__ import annotations

from collections.abc import Sequence

from flask import Request

COOKIE = "help_lang"
# A year: a visitor who chose Finnish keeps it.
COOKIE_SECONDS = 365 * 24 * 3600


def chosen(request: Request, offered: Sequence[str]) -> str | None:
    """The language the visitor picked in this request (`?lang=`), when the line speaks it."""
    asked = request.args.get("lang", "")
    return asked if asked in offered else None


def language_of(request: Request, offered: Sequence[str]) -> str:
    """The visitor's language among `offered` (the line's, its default first)."""
    picked = chosen(request, offered)
    if picked:
        return picked
    remembered = request.cookies.get(COOKIE, "")
    if remembered in offered:
        return remembered
    # "fi" and "fi-FI" both mean Finnish: a browser often sends the language alone.
    by_base = {code.split("-")[0].lower(): code for code in reversed(offered)}
    best = request.accept_languages.best_match([*offered, *by_base])
    if best in offered:
        return best
    return by_base.get(str(best).lower(), offered[0]) if best else offered[0]
