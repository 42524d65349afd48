"""What a caller ID says: a number, or that there is none to call back.

A caller who hides their number reaches Twilio's webhooks with one of Twilio's stand-ins in From
("Why am I getting calls from these strange numbers?" in Twilio's help): they look like numbers of
Lesotho, Russia or China, but nobody answers them. They are never offered a callback or a text, and
the desk says "number hidden" for them.
"""

from __future__ import annotations

# anonymous, restricted, blocked, unavailable, unknown
HIDDEN = frozenset({"+266696687", "+7378742833", "+2562533", "+8656696", "+86282452253"})


def hidden(number: str) -> bool:
    """Whether `number` is no number to call: empty, a name ("anonymous", "client:ann") or a stand-in."""
    digits = number.strip().lstrip("+")
    return not digits.isdigit() or number.strip() in HIDDEN or ("+" + digits) in HIDDEN
