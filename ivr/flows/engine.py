"""The one interpreter of call flows: (state, caller input) -> (next state, actions).

It knows nothing of Flask, HTTP or TwiML. Retries, the keys that work everywhere (`*` repeats, `9`
goes to the main menu) and the path through handlers are decided here and only here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ivr.errors import FlowError
from ivr.flows.nodes import (
    MAX_CHOICES,
    WAITING,
    Action,
    CallerInput,
    CallState,
    Choose,
    Connect,
    DialOutcome,
    Flow,
    Goto,
    Handler,
    HangUp,
    Hangup,
    Keys,
    Listen,
    Menu,
    Message,
    NoInput,
    NumberEntry,
    Record,
    Recording,
    RecordMessage,
    Say,
    Speech,
    Start,
    Transfer,
)
from ivr.prompts import Catalog
from ivr.speech.matching import is_confident, match_option, normalise
from ivr.speech.numbers import spoken_digits

REPEAT_KEY = "*"
MAIN_MENU_KEY = "9"
# Handlers may chain through messages and other handlers; more hops than this is a loop.
MAX_HOPS = 50
NUMBER_HINT = "$OOV_CLASS_DIGIT_SEQUENCE"


@dataclass
class Turn:
    """The engine's answer to one step, and what the call event log records of it."""

    state: CallState
    actions: list[Action]
    input_kind: str
    input_value: str = ""
    matched: str = ""
    said: list[str] = field(default_factory=list)


class Engine:
    def __init__(self, flow: Flow, catalog: Catalog, settings: dict[str, Any] | None = None) -> None:
        self.flow = flow
        self.catalog = catalog
        self.settings = settings or {}
        self.max_retries = int(self.settings.get("MAX_RETRIES", 3))
        # What a menu says and listens for depends on the menu and the language only: worked out on
        # a menu's first arrival in each language, then reused (the flow is fixed once the app runs).
        self._menu_actions: dict[tuple[str, str], tuple[Action, ...]] = {}

    # ---- entry points --------------------------------------------------------------

    def step(self, state: CallState, caller_input: CallerInput, context: Any = None) -> Turn:
        """Advance the call by one caller input."""
        state = replace(state, collected=dict(state.collected), step=state.step + 1, transient={})
        if isinstance(caller_input, Start):
            return self._turn(state, self.flow.start, context, [], "start")
        node = self.flow.nodes.get(state.node)
        if isinstance(node, Transfer) and isinstance(caller_input, DialOutcome):
            state.collected["transfer_status"] = caller_input.status
            return self._turn(state, node.after, context, [], "dial", caller_input.status, caller_input.status)
        if isinstance(node, Record) and isinstance(caller_input, Recording) and caller_input.duration > 0:
            state.collected["recording"] = {
                "url": caller_input.url,
                "sid": caller_input.sid,
                "seconds": caller_input.duration,
                "account": caller_input.account_sid,
            }
            return self._turn(state, node.after, context, [], "recording", caller_input.sid, "recorded")
        if isinstance(node, Record) and isinstance(caller_input, (Recording, NoInput)):
            # Nothing recorded: Twilio goes on past <Record> (to our redirect), or posts 0 seconds.
            return self._turn(state, node.empty, context, [], _kind(caller_input), "", "empty")
        if not isinstance(node, WAITING):
            # Only waiting nodes receive input; anything else means the state is stale.
            return self._turn(state, self.flow.main_menu, context, [Say("apology")], _kind(caller_input))

        kind, shown = _kind(caller_input), _shown(caller_input, node)
        command = self._global_command(node, caller_input, state.language)
        if command == "repeat":
            return self._turn(state, node.id, context, [], kind, shown, "repeat", keep_retries=True)
        if command == "main_menu":
            return self._turn(state, self.flow.main_menu, context, [], kind, shown, "main_menu")

        if isinstance(node, Menu):
            option = self._menu_choice(node, caller_input, state.language)
            if option is not None:
                return self._turn(state, option.goto, context, [], kind, shown, option.name)
        elif isinstance(node, Choose):
            chosen = self._chosen(node, caller_input, state)
            if chosen is not None:
                target, matched = chosen
                return self._turn(state, target, context, [], kind, shown, matched)
        else:
            number = self._number(node, caller_input)
            if number is not None:
                # A sensitive number (a PIN) lives only for this step: it is never saved.
                (state.transient if node.sensitive else state.collected)[node.store_as] = number
                return self._turn(state, node.goto, context, [], kind, shown, "****" if node.sensitive else number)
        return self._retry(state, node, caller_input, context, kind, shown)

    def enter(self, state: CallState, node_id: str, context: Any = None, say_first: list[Say] | None = None) -> Turn:
        """Take the call to `node_id` directly (after an error, or on an explicit jump)."""
        state = replace(state, collected=dict(state.collected), step=state.step + 1)
        return self._turn(state, node_id, context, list(say_first or []), "none")

    # ---- input interpretation -----------------------------------------------------------

    def _global_command(
        self, node: Menu | Choose | NumberEntry, caller_input: CallerInput, language: str
    ) -> str | None:
        if isinstance(caller_input, Keys):
            option_keys = {o.key for o in node.options} if isinstance(node, Menu) else set()
            if caller_input.digits == REPEAT_KEY:
                return "repeat"
            if caller_input.digits == MAIN_MENU_KEY and MAIN_MENU_KEY not in option_keys:
                return "main_menu"
            return None
        if isinstance(caller_input, Speech) and is_confident(caller_input.confidence):
            commands = {name: self.catalog.phrases(language, name) for name in ("repeat", "main_menu")}
            if isinstance(node, Choose) and node.question:
                # A question may mention "menu" or "again"; only the bare command is one.
                said = normalise(caller_input.text)
                return next((n for n, ps in commands.items() if any(normalise(p) == said for p in ps)), None)
            if isinstance(node, Menu):
                commands.update({o.name: self.catalog.phrases(language, o.name) for o in node.options})
            chosen = match_option(caller_input.text, commands)
            if chosen in ("repeat", "main_menu"):
                return chosen
        return None

    def _menu_choice(self, node: Menu, caller_input: CallerInput, language: str):  # type: ignore[no-untyped-def]
        if isinstance(caller_input, Keys):
            return next((o for o in node.options if o.key == caller_input.digits), None)
        if isinstance(caller_input, Speech) and is_confident(caller_input.confidence):
            phrases = {o.name: self.catalog.phrases(language, o.name) for o in node.options}
            name = match_option(caller_input.text, phrases)
            return next((o for o in node.options if o.name == name), None)
        return None

    @staticmethod
    def _chosen(node: Choose, caller_input: CallerInput, state: CallState) -> tuple[str, str] | None:
        """(where to go, what the log records) for a key, a named choice or a question; None: no match."""
        choices = _choices(node, state)
        index: int | None = None
        if isinstance(caller_input, Keys):
            digits = caller_input.digits
            index = int(digits) - 1 if digits.isdigit() and len(digits) == 1 else None
        elif isinstance(caller_input, Speech) and is_confident(caller_input.confidence):
            if node.question is not None:
                state.collected[node.question.store_as] = caller_input.text[:255]
                return node.question.goto, "question"
            # A choice is named by its label or any word of it ("refunds" for "refunds and credits"),
            # or by its number ("two").
            labels = {str(i): [c["label"], *c["label"].split()] for i, c in enumerate(choices)}
            picked = match_option(caller_input.text, labels)
            number = spoken_digits(caller_input.text)
            if picked is not None:
                index = int(picked)
            elif number is not None and len(number) == 1:
                index = int(number) - 1
        if index is None or not 0 <= index < len(choices):
            return None
        value = choices[index]["value"]
        state.collected[node.store_as] = value
        return node.goto, str(value)[:64]

    @staticmethod
    def _number(node: NumberEntry, caller_input: CallerInput) -> str | None:
        digits: str | None = None
        if isinstance(caller_input, Keys) and caller_input.digits.isdigit():
            digits = caller_input.digits
        elif isinstance(caller_input, Speech) and node.speech and is_confident(caller_input.confidence):
            digits = spoken_digits(caller_input.text)
        if digits is None or not node.min_digits <= len(digits) <= node.max_digits:
            return None
        return digits

    def _retry(self, state, node, caller_input, context, kind, shown) -> Turn:  # type: ignore[no-untyped-def]
        state.retries += 1
        if state.retries >= self.max_retries:
            state.collected["failed_at"] = node.id
            return self._turn(state, self.flow.on_failures, context, [], kind, shown, "too_many_failures")
        reason = "no_input" if isinstance(caller_input, NoInput) else "no_match"
        say = [Say(reason)]
        if node.help and state.retries >= 1:
            say.append(Say(node.help))
        return self._turn(state, node.id, context, say, kind, shown, reason, keep_retries=True)

    # ---- moving through nodes ---------------------------------------------------------

    def _turn(
        self,
        state: CallState,
        node_id: str,
        context: Any,
        actions: list[Action],
        kind: str,
        shown: str = "",
        matched: str = "",
        keep_retries: bool = False,
    ) -> Turn:
        came_from = state.node
        for _hop in range(MAX_HOPS):
            node = self.flow.nodes.get(node_id)
            if node is None:
                raise FlowError(f"no node {node_id!r} in the flow")
            state.node = node_id
            if isinstance(node, Message):
                actions.append(Say(node.prompt))
                node_id = node.goto
            elif isinstance(node, Handler):
                goto = node.run(state, context)
                if not isinstance(goto, Goto) or goto.next not in node.exits:
                    raise FlowError(f"handler {node.id!r} returned {goto!r}, not a Goto to one of {node.exits}")
                actions.extend(goto.say)
                state.collected.update(goto.remember)
                if goto.verified_customer_id is not None:
                    state.verified_customer_id = goto.verified_customer_id
                for key in goto.forget:
                    state.collected.pop(key, None)
                node_id = goto.next
            else:
                # Retries count failures at one prompt: any move, even back to it, starts afresh.
                if not (keep_retries and state.node == came_from):
                    state.retries = 0
                actions = self._arrive(node, actions, state)
                said = [a.prompt for a in actions if isinstance(a, Say)]
                return Turn(state, actions, kind, shown, matched, said)
        raise FlowError(f"more than {MAX_HOPS} steps without waiting for the caller, at {node_id!r}")

    def _menu(self, node: Menu, language: str) -> tuple[Action, ...]:
        """A menu's prompt, one announcement per option, its footer, and listening for an answer."""
        said = [node.prompt, *node.announcements(), *([node.footer] if node.footer else [])]
        # Hints: the options' phrases and the commands that work in every menu (Twilio biases
        # recognition towards them; the offline recogniser takes them as its grammar).
        names = [o.name for o in node.options] + ["repeat", "main_menu"]
        hints = tuple(dict.fromkeys(p for name in names for p in self.catalog.phrases(language, name)))
        return (*(Say(prompt_id) for prompt_id in said), Listen(node.id, num_digits=1, hints=hints))

    def _arrive(self, node, actions: list[Action], state: CallState) -> list[Action]:  # type: ignore[no-untyped-def]
        """The actions of a node that waits for the caller or ends the flow."""
        actions, language = list(actions), state.language
        if isinstance(node, Menu):
            menu = self._menu_actions.get((node.id, language))
            if menu is None:
                menu = self._menu_actions[node.id, language] = self._menu(node, language)
            actions.extend(menu)
        elif isinstance(node, Choose):
            choices = _choices(node, state)
            actions.append(Say(node.prompt))
            actions.extend(Say(node.announce, {"label": c["label"], "key": str(n)}) for n, c in enumerate(choices, 1))
            if node.footer:
                actions.append(Say(node.footer))
            if node.question is not None:
                # No hints: the caller's own words, recognised free-form (offline: no grammar).
                hints: list[str] = []
            else:
                commands = [p for name in ("repeat", "main_menu") for p in self.catalog.phrases(language, name)]
                hints = list(dict.fromkeys([c["label"] for c in choices] + commands))
            actions.append(Listen(node.id, num_digits=1, hints=tuple(hints)))
        elif isinstance(node, NumberEntry):
            actions.append(Say(node.prompt))
            actions.append(
                Listen(node.id, num_digits=None, finish_on_key="#", hints=(NUMBER_HINT,), speech=node.speech)
            )
        elif isinstance(node, Transfer):
            actions.append(Say(node.prompt))
            timeout = (
                int(self.settings.get(node.timeout_setting, node.timeout)) if node.timeout_setting else node.timeout
            )
            number = str(self.settings.get(node.number_setting, ""))
            actions.append(Connect(number, node.id, timeout, caller_id=state.caller))
        elif isinstance(node, Record):
            actions.append(Say(node.prompt))
            max_length = (
                int(self.settings.get(node.max_length_setting, node.max_length))
                if node.max_length_setting
                else node.max_length
            )
            timeout = (
                int(self.settings.get(node.timeout_setting, node.timeout)) if node.timeout_setting else node.timeout
            )
            actions.append(RecordMessage(node.id, max_length, timeout, status_callback=True))
        elif isinstance(node, Hangup):
            if node.prompt:
                actions.append(Say(node.prompt))
            actions.append(HangUp())
        return actions


def _choices(node: Choose, state: CallState) -> list[dict[str, str]]:
    """The choices a handler left for `node`: labelled values, at most one per key 1 to 8."""
    choices = state.collected.get(node.choices_from) or []
    valid = [c for c in choices if isinstance(c, dict) and c.get("label") and "value" in c][:MAX_CHOICES]
    if not valid and node.question is None:
        raise FlowError(f"{node.id}: no choices in {node.choices_from!r}")
    return valid


def _kind(caller_input: CallerInput) -> str:
    kinds = {
        Keys: "dtmf",
        Speech: "speech",
        NoInput: "none",
        Start: "start",
        DialOutcome: "dial",
        Recording: "recording",
    }
    return kinds[type(caller_input)]


def _shown(caller_input: CallerInput, node: Menu | Choose | NumberEntry) -> str:
    """The input as the event log may keep it: digits of sensitive entries are masked."""
    if isinstance(caller_input, Keys):
        text = caller_input.digits
    elif isinstance(caller_input, Speech):
        text = caller_input.text
    else:
        return ""
    if isinstance(node, NumberEntry) and node.sensitive:
        return "".join("*" if ch.isdigit() else ch for ch in text) if text.isdigit() else "[masked speech]"
    return text[:255]
