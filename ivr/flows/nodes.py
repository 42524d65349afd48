"""The nodes call flows are declared in, what a handler decides (Goto), and where each node leads.

Nodes are data: a flow is a dict of them, checked when the app starts and drawn by `flows graph`.
Business logic lives only in Handler functions, which return where the call goes next.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ivr.flows.actions import Play, Say
from ivr.flows.state import CallState


@dataclass(frozen=True)
class Goto:
    """What a handler decides: the next node, what to say first, values to remember or forget."""

    next: str
    say: tuple[Say | Play, ...] = ()
    remember: Mapping[str, Any] = field(default_factory=dict)
    forget: tuple[str, ...] = ()
    # The customer this call has proved to be (a correct PIN); stays with the call.
    verified_customer_id: int | None = None
    # What was said is what the caller came for (a status, an answer, a balance): "repeat" says it again.
    repeatable: bool = False
    # The caller got something done ("order_status", "account", "answer"): the goodbye names it, and
    # the call counts as helped.
    helped: str = ""
    # An outcome stronger than "helped": "transferred" or "message_left".
    outcome: str | None = None
    # The call goes on in this language (one the line offers).
    language: str = ""
    # The misses counted so far at the prompt the caller came from, this one included (what they
    # said found nothing): a recovery menu goes on counting from here.
    misses: int | None = None
    # What the caller came for did not work out after all (an answer they said did not help, an
    # order number that is not theirs, a person asked for): the call is no longer "helped".
    not_helped: bool = False


@dataclass(frozen=True)
class Option:
    """A menu choice: a key, the phrases that mean it (catalog id `name`), where it leads.

    An option without a key is said only ("no, that's all"), and not announced."""

    key: str
    name: str
    goto: str
    # Offered only on lines that have this ("several_languages"): left out of the running flow otherwise.
    only_if: str = ""


@dataclass(frozen=True)
class Command:
    """Works at every prompt, by key and by voice (catalog phrases `name`), declared once per flow.

    With `goto` the call goes there; without, the engine does it itself: "repeat" says again what
    the caller last heard that mattered, then the prompt; "help" says the prompt's help line."""

    name: str
    key: str = ""
    goto: str | None = None


BUILT_IN_COMMANDS = ("repeat", "help")


@dataclass(frozen=True)
class Question:
    """Speech that is surely none of a prompt's options is the caller's own question: kept as
    `store_as` (with the option it most resembles, if any, as `store_as + "_guess"`), then `goto`."""

    store_as: str
    goto: str


@dataclass(frozen=True)
class Menu:
    id: str
    prompt: str
    options: tuple[Option, ...]
    help: str | None = None
    # Said after the options, e.g. "For the main menu, press 9."
    footer: str | None = None
    # The caller may also answer in their own words (see Question).
    question: Question | None = None
    # Also understands, by voice, the options of this other menu: "is there anything else?" takes
    # whatever the main menu takes.
    understands: str | None = None
    # Asked once the caller has what they came for: silence means "no, that's all", and leads to
    # the goodbye rather than to another try.
    anything_else: bool = False
    # An offer the caller may decline (a message, asking again): silence is asked once, then a
    # goodbye; it never counts as a miss, so it never leads to the beep of a message.
    offer: bool = False
    # A menu that helps the caller on after a miss ("ask again in other words"): the misses of the
    # prompt before go on being counted here, so three misses mean three across both.
    recovery: bool = False
    # A number typed here (more than one key, ended by #) is the answer of this NumberEntry: the
    # caller warned before a PIN who types it straight away.
    keys_as: str | None = None

    def announcements(self) -> list[str]:
        """Each option is announced by its own prompt, so the menu offers only what exists."""
        return [f"{self.id}.{option.name}" for option in self.options if option.key]


@dataclass(frozen=True)
class Choose:
    """A menu whose options a handler found for this call: `collected[choices_from]` holds
    [{"label": ..., "value": ...}] (and "language" for a choice announced in its own language,
    "phrases" for words that name it besides its label),
    announced in order as keys 1, 2, 3... The chosen value is kept as
    `store_as`. Speech names a label, or, with `question`, is the caller's question in their own words.
    """

    id: str
    prompt: str
    choices_from: str
    store_as: str
    goto: str
    # How each choice is announced: a prompt with {label} and {key}.
    announce: str
    question: Question | None = None
    help: str | None = None
    footer: str | None = None
    # Fixed answers beside the choices found, said only ("none of these").
    also: tuple[Option, ...] = ()
    # Where silence leads, instead of asking again: a choice with a default.
    silence: str | None = None


@dataclass(frozen=True)
class NumberEntry:
    """Collect a number by keypad (ending with #) or by voice; store it and go on."""

    id: str
    prompt: str
    store_as: str
    goto: str
    min_digits: int = 1
    max_digits: int = 12
    speech: bool = True
    sensitive: bool = False
    help: str | None = None
    # Said at once when the caller speaks where only keys are taken (a PIN said aloud).
    spoken: str | None = None


@dataclass(frozen=True)
class Message:
    id: str
    prompt: str
    goto: str


@dataclass(frozen=True)
class Handler:
    """Runs `run(state, context)` on entry; it must return a Goto to one of `exits`.

    `exits` maps each node the handler may go to to the outcome that leads there, as the diagram
    labels it: {"order_result": "found", "order_number": "not found, try again"}."""

    id: str
    run: Callable[[CallState, Any], Goto]
    exits: Mapping[str, str]

    def __post_init__(self) -> None:
        if not isinstance(self.exits, Mapping) or not self.exits:
            raise TypeError(f"handler {self.id!r}: exits must map each next node to its outcome, got {self.exits!r}")
        unlabelled = [target for target, label in self.exits.items() if not isinstance(label, str) or not label]
        if unlabelled:
            raise TypeError(f"handler {self.id!r}: say what leads to {', '.join(map(repr, unlabelled))}")


@dataclass(frozen=True)
class Transfer:
    id: str
    prompt: str
    number_setting: str
    after: str
    timeout: int = 20
    # A setting that overrides `timeout` (seconds the agents' phones ring).
    timeout_setting: str | None = None


@dataclass(frozen=True)
class Record:
    """Record a message; `after` gets it, `empty` a recording with nothing in it (or none at all).

    The length limit and the silence that ends it may come from settings."""

    id: str
    prompt: str
    after: str
    empty: str
    max_length: int = 120
    timeout: int = 5
    max_length_setting: str | None = None
    timeout_setting: str | None = None


@dataclass(frozen=True)
class Hangup:
    id: str
    prompt: str | None = None


Node = Menu | Choose | NumberEntry | Message | Handler | Transfer | Record | Hangup
# Nodes that wait for the caller's keys or speech.
WAITING = (Menu, Choose, NumberEntry)
# Keys 1 to 8: 9 is the main menu everywhere.
MAX_CHOICES = 8


@dataclass(frozen=True)
class Flow:
    """All nodes of the IVR; the start node, the main menu, where repeated failures lead, where a
    caller who has what they came for is said goodbye to, and the commands that work everywhere."""

    nodes: Mapping[str, Node]
    start: str
    main_menu: str
    on_failures: str
    goodbye: str = ""
    commands: tuple[Command, ...] = ()


def transitions(node: Node) -> list[tuple[str, str]]:
    """(label, target) pairs leaving `node`: what validation and the diagram both read."""
    match node:
        case Menu():
            options = [(f"{o.key} / {o.name}" if o.key else o.name, o.goto) for o in node.options]
            return options + ([("own words", node.question.goto)] if node.question else [])
        case Choose():
            found = [("choice", node.goto)] + [(o.name, o.goto) for o in node.also]
            found += [("silence", node.silence)] if node.silence else []
            return found + ([("own words", node.question.goto)] if node.question else [])
        case NumberEntry() | Message():
            return [("", node.goto)]
        case Handler():
            return [(label, target) for target, label in node.exits.items()]
        case Transfer():
            return [("", node.after)]
        case Record():
            return [("recorded", node.after), ("empty", node.empty)]
        case Hangup():
            return []
    raise TypeError(f"not a node: {node!r}")
