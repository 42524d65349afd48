"""The state a call carries from step to step, and its outcome, which only ever grows stronger.

The engine moves it on at each step, handlers read it, ivr/calls.py saves it with every step; it
knows nothing of nodes or channels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class CallState:
    node: str
    call_sid: str = ""
    step: int = 0
    retries: int = 0
    collected: dict[str, Any] = field(default_factory=dict)
    language: str = "en-US"
    caller: str = ""
    verified_customer_id: int | None = None
    # How the call has gone so far (one of OUTCOMES), saved with every step.
    outcome: str | None = None
    # Values for this step only, never saved: what the caller typed at a sensitive entry (a PIN),
    # for the handler that checks it in the same step.
    transient: dict[str, Any] = field(default_factory=dict)


# How a call ended, weakest first (MESSAGE_LEFT in ivr/calls.py ranks them the same way): a stronger
# outcome is never replaced by a weaker one, so a caller who heard their order status and then left
# a message counts as "message_left".
OUTCOMES = ("hung_up", "gave_up", "helped", "message_left", "transferred")


def stronger(current: str | None, new: str | None) -> str | None:
    """The outcome that stands when `new` happens to a call whose outcome so far is `current`."""
    if new is None or (current is not None and OUTCOMES.index(current) >= OUTCOMES.index(new)):
        return current
    return new
