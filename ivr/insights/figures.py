"""The figures for a period (days in the line's time zone), read from the aggregates rollup.py keeps.

The page, its CSV tables and GET /agent/api/insights all show exactly these.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

# How a call ended (ivr.flows.nodes.OUTCOMES), as the API names them.
OUTCOME_NAMES = {"helped": "helped", "transferred": "transferred", "message_left": "message", "gave_up": "gave_up",
                 "hung_up": "hung_up"}  # fmt: skip


@dataclass(frozen=True)
class Day:
    day: dt.date
    calls: int
    helped: int

    @property
    def containment(self) -> float:
        return self.helped / self.calls if self.calls else 0.0


@dataclass(frozen=True)
class Prompt:
    """One prompt (a node that waits for the caller) in the drop-off funnel."""

    node: str
    reached: int  # calls that heard it
    went_on: int  # calls that answered it and moved on
    hung_up: int  # calls that ended while it waited
    to_person: int  # calls that asked for a person there
    not_understood: int  # answers there that matched nothing (no match), steps
    voice: int  # answers there by voice, steps
    voice_missed: int  # of those, not understood, steps


@dataclass(frozen=True)
class Asked:
    """Questions the knowledge base did not answer or did not help with, grouped by their words."""

    key: str  # the group's normalised words
    sample: str  # one question as a caller put it
    asked: int
    not_found: int
    not_helped: int
    language: str


@dataclass(frozen=True)
class AgentLoad:
    agent: str
    closed: int
    median_hours: float | None
    p90_hours: float | None


@dataclass(frozen=True)
class Messages:
    received: int
    closed: int
    median_hours: float | None  # time from left to closed, of those closed in the period
    p90_hours: float | None
    oldest_open: dt.datetime | None
    per_agent: tuple[AgentLoad, ...] = ()


@dataclass(frozen=True)
class Figures:
    start: dt.date  # first day, in the line's time zone
    end: dt.date  # last day, included
    calls: int
    outcomes: dict[str, int]  # keys of OUTCOME_NAMES' values: helped, transferred, message, gave_up, hung_up
    days: tuple[Day, ...]  # every day of the period, oldest first (0 calls included)
    prompts: tuple[Prompt, ...]  # the main paths' prompts, most reached first
    asked: tuple[Asked, ...]  # most asked first
    messages: Messages
    # calls by weekday (0 = Monday) and hour (0-23, local): hours[weekday][hour]
    hours: tuple[tuple[int, ...], ...] = field(default_factory=lambda: tuple((0,) * 24 for _ in range(7)))
    # open[weekday][hour]: whether agents take calls then (opening hours), for the heat map
    open: tuple[tuple[bool, ...], ...] = field(default_factory=lambda: tuple((False,) * 24 for _ in range(7)))
    voice_steps: int = 0
    steps: int = 0

    @property
    def containment(self) -> float:
        """Helped / calls: the share of callers who helped themselves."""
        return self.outcomes.get("helped", 0) / self.calls if self.calls else 0.0
