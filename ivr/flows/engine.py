"""The one interpreter of call flows: (state, caller input) -> (next state, actions).

It knows nothing of Flask, HTTP or TwiML. Retries, the commands that work at every prompt (the
flow's `commands`: a person, the main menu, repeat, help, goodbye), what "repeat" says again, how
the call has gone so far (its outcome) and the path through handlers are decided here and only here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ivr.errors import FlowError
from ivr.flows.actions import Action, Connect, HangUp, Listen, RecordMessage, Say
from ivr.flows.inputs import CallerInput, DialOutcome, Keys, NoInput, Recording, Speech, Start
from ivr.flows.nodes import (
    MAX_CHOICES,
    WAITING,
    Choose,
    Flow,
    Goto,
    Handler,
    Hangup,
    Menu,
    Message,
    NumberEntry,
    Record,
    Transfer,
)
from ivr.flows.state import CallState, stronger
from ivr.languages import Languages
from ivr.prompts import Catalog
from ivr.speech.matching import best_options, coverage, is_confident, normalise, said_together
from ivr.speech.numbers import spoken_digits

# Keys a caller typed: ASCII digits only (str.isdigit takes "²" and "①", which int() refuses).
ASCII_DIGITS = re.compile(r"[0-9]+")
# Handlers may chain through messages and other handlers; more hops than this is a loop.
MAX_HOPS = 50
NUMBER_HINT = "$OOV_CLASS_DIGIT_SEQUENCE"
# Where the caller may ask in their own words, an option named by one word counts only when its
# phrases account for this share of what was said (bench/faq.py measures it on
# tests/fixtures/main_menu_phrasings.yaml and the knowledge-base questions).
SURE = 0.7
# Hints per option or command: a catalog lists its phrases most likely first.
HINTS_EACH = 6
# Targets of the built-in commands, which stay at the prompt.
REPEAT, HELP = "@repeat", "@help"


@dataclass
class Turn:
    """The engine's answer to one step, and what the call event log records of it."""

    state: CallState
    actions: list[Action]
    input_kind: str
    input_value: str = ""
    matched: str = ""
    said: list[str] = field(default_factory=list)
    # The nodes this step entered, in order, ending where the call waits or ends: what the call went
    # through (messages, handlers, transfers), for the event log. A handler's exit is the node after it.
    path: list[str] = field(default_factory=list)
    # The handler exits this step took: (handler, the node it sent the call to).
    exits: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Meaning:
    """What the caller's answer means at a prompt: where the call goes, and what the log records."""

    target: str
    matched: str
    # Values the answer leaves behind (a number, a choice, a question in the caller's words).
    values: dict[str, Any] = field(default_factory=dict)
    sensitive: bool = False


class Engine:
    def __init__(self, flow: Flow, catalog: Catalog, settings: dict[str, Any] | None = None) -> None:
        self.settings = settings or {}
        self.languages = Languages.from_settings(self.settings)
        # Options that only make sense on some lines ("change the language" where there are several)
        # are left out of the flow this engine runs, once, here.
        self.flow = _for_this_line(flow, {"several_languages"} if self.languages.several else set())
        self.catalog = catalog
        self.max_retries = int(self.settings.get("MAX_RETRIES", 3))
        self.commands = {c.name: c.goto or f"@{c.name}" for c in flow.commands}
        self.command_keys = {c.key: c.name for c in flow.commands if c.key}
        # What a menu says and listens for depends on the menu and the language only: worked out on
        # a menu's first arrival in each language, then reused (the flow is fixed once the app runs).
        self._menu_actions: dict[tuple[str, str], tuple[Action, ...]] = {}
        self._commanding: dict[str, frozenset[str]] = {}

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
        meaning = self.understand(node, caller_input, state)
        if meaning is None:
            return self._retry(state, node, caller_input, context, kind, shown)
        if meaning.target == REPEAT:
            heard = state.collected.get("heard") or {}
            again = [Say(p, v) for p, v in heard.get("say", [])] if heard.get("at") == node.id else []
            return self._turn(state, node.id, context, again, kind, shown, "repeat", keep_retries=True)
        if meaning.target == HELP:
            if node.help is None:  # nothing more to say than the prompt itself
                return self._turn(state, node.id, context, [], kind, shown, "help", keep_retries=True)
            return self._turn(state, node.id, context, [Say(node.help)], kind, shown, "help", True, brief=True)
        # A sensitive number (a PIN) lives only for this step: it is never saved.
        (state.transient if meaning.sensitive else state.collected).update(meaning.values)
        if isinstance(caller_input, Speech):
            state.transient["said"] = caller_input.text[:255]  # the words themselves, for this step's handlers
        return self._turn(state, meaning.target, context, [], kind, shown, meaning.matched)

    def enter(self, state: CallState, node_id: str, context: Any = None, say_first: list[Say] | None = None) -> Turn:
        """Take the call to `node_id` directly (after an error, or on an explicit jump)."""
        state = replace(state, collected=dict(state.collected), step=state.step + 1)
        return self._turn(state, node_id, context, list(say_first or []), "none")

    # ---- what the caller meant ------------------------------------------------------------

    def understand(self, node: Menu | Choose | NumberEntry, said: CallerInput, state: CallState) -> Meaning | None:
        """A command, an option, a choice, a number, or a question in the caller's words; None: no match."""
        if isinstance(said, Keys):
            command = self.command_keys.get(said.digits)  # the whole entry: "0" inside a number is a digit
            if command is not None:
                return Meaning(self.commands[command], command)
            return self._keys(node, said.digits, state)
        if not isinstance(said, Speech) or not is_confident(said.confidence):
            return None
        options = self._spoken_options(node, state)
        phrases = {name: self.catalog.phrases(state.language, name) for name in options}
        phrases.update({name: labels for name, (_target, labels) in options.items() if labels})
        words = self.catalog.words(state.language)
        winners = best_options(said.text, phrases, words)

        def meanings(names: list[str]) -> set[str]:
            # Answers that lead to the same place mean the same; each of a Choose's choices its own.
            return {name if name.startswith("#") else options[name][0] for name in names}

        if len(meanings(winners)) > 1:
            # A tie: an option whose phrase was said as such wins ("my parcel never arrived" is the
            # problem, not the "parcel arrive" of the order status, whose words stand apart).
            together = [n for n in winners if said_together(said.text, phrases[n], words)]
            winners = together if len(meanings(together)) == 1 else winners
        if len(meanings(winners)) > 1:
            # A tie: the prompt's own options win over the commands, and those over another menu's
            # options it understands ("I'm done" after recording a message means "send it").
            own = [n for n in winners if n not in self.commands and n in self._own_names(node)]
            winners = own or [n for n in winners if n in self.commands] or winners
        targets = meanings(winners)
        question = node.question if isinstance(node, (Menu, Choose)) else None
        if len(targets) == 1:
            meaning = self._option(node, winners[0], options[winners[0]][0], state)
            # Sure: a phrase of several words was said as such ("where is my order"), or the
            # option's words account for most of what was said.
            meant = [p for name in winners for p in phrases[name]]
            if question is None or said_together(said.text, meant, words) or coverage(said.text, meant, words) >= SURE:
                return meaning
        if question is not None:
            guess = next(iter(targets)) if len(targets) == 1 and not targets & {REPEAT, HELP} else None
            values = {question.store_as: said.text[:255], f"{question.store_as}_guess": guess,
                      f"{question.store_as}_at": node.id}  # fmt: skip
            return Meaning(question.goto, "question", values)
        if isinstance(node, NumberEntry) and node.speech:
            return self._number(node, spoken_digits(said.text, self.catalog.numbers(state.language)))
        if isinstance(node, Choose):
            number = spoken_digits(said.text, self.catalog.numbers(state.language))  # a choice named by its number
            return self._keys(node, number, state) if number is not None and len(number) == 1 else None
        return None

    def _spoken_options(self, node: Menu | Choose | NumberEntry, state: CallState) -> dict[str, tuple[str, list]]:
        """name -> (where it leads, its own phrases if they are not in the catalog), for speech."""
        options: dict[str, tuple[str, list]] = {name: (target, []) for name, target in self.commands.items()}
        if isinstance(node, Menu):
            others = self.flow.nodes.get(node.understands or "")
            # The other menu's options first, so that the node's own take their names.
            for option in (*(others.options if isinstance(others, Menu) else ()), *node.options):
                options[option.name] = (option.goto, [])
        elif isinstance(node, Choose):
            options.update({o.name: (o.goto, []) for o in node.also})
            if node.question is None:
                # A choice is named by its label or any word of it ("refunds" for "refunds and credits"),
                # but for a word that is a command ("someone" of "as soon as someone is free": a person).
                commanding = self._command_words(state.language)
                for index, choice in enumerate(_choices(node, state)):
                    # Its own phrases ("3 PM" of "today at 3 PM") outweigh a word the labels share.
                    said = [str(p) for p in choice.get("phrases") or []]
                    words = [w for w in choice["label"].split() if w.lower() not in commanding]
                    options[f"#{index + 1}"] = (node.goto, [choice["label"], *said, *words])
        return options

    def _command_words(self, language: str) -> frozenset[str]:
        """The commands' one-word phrases in `language` ("someone", "help"), worked out once."""
        found = self._commanding.get(language)
        if found is None:
            phrases = (p for name in self.commands for p in self.catalog.phrases(language, name))
            found = self._commanding[language] = frozenset(p.lower() for p in phrases if " " not in p.strip())
        return found

    @staticmethod
    def _own_names(node: Menu | Choose | NumberEntry) -> set[str]:
        if isinstance(node, Menu):
            return {o.name for o in node.options}
        if isinstance(node, Choose):
            return {o.name for o in node.also} | {f"#{n}" for n in range(1, MAX_CHOICES + 1)}
        return set()

    def _option(self, node: Menu | Choose | NumberEntry, name: str, target: str, state: CallState) -> Meaning:
        if name.startswith("#") and isinstance(node, Choose):
            return self._keys(node, name[1:], state) or Meaning(target, name)
        return Meaning(target, name)

    def _keys(self, node: Menu | Choose | NumberEntry, digits: str, state: CallState) -> Meaning | None:
        if isinstance(node, Menu):
            option = next((o for o in node.options if o.key and o.key == digits), None)
            number = self.flow.nodes.get(node.keys_as or "")
            if option is None and len(digits) > 1 and isinstance(number, NumberEntry):
                return self._keys(number, digits, state)  # typed straight away: that entry's answer
            return Meaning(option.goto, option.name) if option else None
        if isinstance(node, Choose):
            choices = _choices(node, state)
            index = int(digits) - 1 if len(digits) == 1 and digits in "123456789" else -1
            if not 0 <= index < len(choices):
                return None
            value = choices[index]["value"]
            return Meaning(node.goto, str(value)[:64], {node.store_as: value})
        return self._number(node, digits if ASCII_DIGITS.fullmatch(digits) else None)

    @staticmethod
    def _number(node: NumberEntry, digits: str | None) -> Meaning | None:
        if digits is None or not node.min_digits <= len(digits) <= node.max_digits:
            return None
        return Meaning(node.goto, "****" if node.sensitive else digits, {node.store_as: digits}, node.sensitive)

    def _retry(self, state, node, caller_input, context, kind, shown) -> Turn:  # type: ignore[no-untyped-def]
        silent = isinstance(caller_input, NoInput)
        if silent and isinstance(node, Choose) and node.silence:
            # A choice that has a default: silence takes it (the line's language at the greeting).
            return self._turn(state, node.silence, context, [], kind, shown, "silence")
        if silent and isinstance(node, Menu) and node.anything_else and self.flow.goodbye:
            # Asked "anything else?" after getting what they came for: silence means that's all.
            return self._turn(state, self.flow.goodbye, context, [], kind, shown, "nothing_else")
        if silent and isinstance(node, Menu) and node.offer and self.flow.goodbye:
            # Silence at an offer is asked once, then a goodbye: never a miss, never the beep.
            if state.collected.get("silent_at") == node.id:
                return self._turn(state, self.flow.goodbye, context, [], kind, shown, "silence")
            state.collected["silent_at"] = node.id
            return self._turn(state, node.id, context, [Say("no_input")], kind, shown, "no_input", keep_retries=True)
        if isinstance(caller_input, Speech) and isinstance(node, NumberEntry) and node.spoken:
            # Said where only keys are taken (a PIN aloud): told at once how to give it.
            state.retries += 1
            if state.retries < self.max_retries:
                return self._turn(state, node.id, context, [Say(node.spoken)], kind, shown, "spoken",
                                  keep_retries=True, brief=True)  # fmt: skip
            state.collected["failed_at"] = node.id
            return self._turn(state, self.flow.on_failures, context, [], kind, shown, "too_many_failures")
        state.retries += 1
        if state.retries >= self.max_retries:
            state.collected["failed_at"] = node.id
            return self._turn(state, self.flow.on_failures, context, [], kind, shown, "too_many_failures")
        reason = "no_input" if silent else "no_match"
        if state.retries >= 2 and node.help:
            # The second miss: the help line says what the caller can do, instead of the prompt again.
            say = [Say(f"{reason}_again"), Say(node.help)]
            return self._turn(state, node.id, context, say, kind, shown, reason, keep_retries=True, brief=True)
        return self._turn(state, node.id, context, [Say(reason)], kind, shown, reason, keep_retries=True)

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
        brief: bool = False,
    ) -> Turn:
        """Go to `node_id` and on through messages and handlers to the next prompt or the end.

        `brief`: at the prompt, listen without reading it again (after its help line)."""
        came_from = state.node
        heard: list[Say] = []
        path: list[str] = []
        exits: list[tuple[str, str]] = []
        for _hop in range(MAX_HOPS):
            node = self.flow.nodes.get(node_id)
            if node is None:
                raise FlowError(f"no node {node_id!r} in the flow")
            state.node = node_id
            path.append(node_id)
            if isinstance(node, Message):
                actions.append(Say(node.prompt))
                node_id = node.goto
            elif isinstance(node, Handler):
                goto = node.run(state, context)
                if not isinstance(goto, Goto) or goto.next not in node.exits:
                    raise FlowError(f"handler {node.id!r} returned {goto!r}, not a Goto to one of {node.exits}")
                self._apply(state, goto)
                if goto.misses is not None:
                    state.retries, keep_retries = goto.misses, True
                actions.extend(goto.say)
                if goto.repeatable:
                    heard.extend(s for s in goto.say if isinstance(s, Say))
                exits.append((node_id, goto.next))
                node_id = goto.next
            else:
                # Retries count failures at one prompt: any move, even back to it, starts afresh,
                # except into a recovery menu after a miss, which goes on counting.
                recovering = keep_retries and isinstance(node, Menu) and node.recovery
                if not (keep_retries and state.node == came_from) and not recovering:
                    state.retries = 0
                if state.node != came_from and came_from:
                    state.collected.pop("silent_at", None)
                _keep_heard(state, node_id, heard)
                if isinstance(node, Hangup):
                    state.outcome = stronger(state.outcome, "gave_up")
                arrival = self._arrive(node, [], state)
                actions = [*actions, *(arrival[-1:] if brief and isinstance(node, WAITING) else arrival)]
                said = [a.prompt for a in actions if isinstance(a, Say)]
                return Turn(state, actions, kind, shown, matched, said, path, exits)
        raise FlowError(f"more than {MAX_HOPS} steps without waiting for the caller, at {node_id!r}")

    @staticmethod
    def _apply(state: CallState, goto: Goto) -> None:
        """What a handler's decision leaves in the call's state."""
        state.collected.update(goto.remember)
        if goto.verified_customer_id is not None:
            state.verified_customer_id = goto.verified_customer_id
        for key in goto.forget:
            state.collected.pop(key, None)
        if goto.helped:
            done = list(state.collected.get("helped") or [])
            state.collected["helped"] = done if goto.helped in done else [*done, goto.helped]
            state.outcome = stronger(state.outcome, "helped")
        if goto.not_helped and state.outcome == "helped":
            state.outcome = None  # what the caller last asked for did not work out
        state.outcome = stronger(state.outcome, goto.outcome)
        if goto.language:
            state.language = goto.language

    def _hints(self, names: Sequence[str], language: str) -> tuple[str, ...]:
        """What Twilio biases recognition towards (and the offline recogniser takes as its grammar):
        the first HINTS_EACH phrases of these options and of every command, one for each set of words
        ("agent", not also "an agent"). The rest of a phrase list is for matching only: every hint is
        in each <Gather> and in the call's saved answer, and a long list made the main menu's row
        outgrow a database page (bench/webhooks.py)."""
        alike: dict[tuple[str, ...], str] = {}
        for name in [*names, *self.commands]:
            taken = 0
            for phrase in self.catalog.phrases(language, name):
                words = tuple(normalise(phrase, self.catalog.words(language))) or (phrase,)
                if taken < HINTS_EACH and words not in alike:
                    alike[words] = phrase
                    taken += 1
        return tuple(alike.values())

    def _menu(self, node: Menu, language: str) -> tuple[Action, ...]:
        """A menu's prompt, one announcement per option, its footer, and listening for an answer."""
        said = [node.prompt, *node.announcements(), *([node.footer] if node.footer else [])]
        others = self.flow.nodes.get(node.understands or "")
        names = [o.name for o in (*node.options, *(others.options if isinstance(others, Menu) else ()))]
        # A menu that also takes a typed number waits for # (or the pause after the last key).
        keys = None if node.keys_as else 1
        return (
            *(Say(prompt_id) for prompt_id in said),
            Listen(node.id, num_digits=keys, hints=self._hints(names, language)),
        )

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
            actions.extend(Say(node.announce, {"label": c["label"], "key": str(n)}, str(c.get("language", "")))
                           for n, c in enumerate(choices, 1))  # fmt: skip
            if node.footer:
                actions.append(Say(node.footer))
            if node.question is not None:
                # No hints: the caller's own words, recognised free-form (offline: no grammar).
                hints: list[str] = []
            else:
                others = self._hints([o.name for o in node.also], language)
                hints = list(dict.fromkeys([c["label"] for c in choices] + list(others)))
            actions.append(Listen(node.id, num_digits=1, hints=tuple(hints)))
        elif isinstance(node, NumberEntry):
            actions.append(Say(node.prompt))
            # A number of one length ends on its last key, as Twilio's numDigits does; the offline
            # recogniser also hears only numbers of that length.
            fixed = node.max_digits if node.min_digits == node.max_digits else None
            # Where only keys are taken, speech is still heard: a command, or a number said aloud
            # that the caller is told to type.
            hints = (NUMBER_HINT,) if node.speech else self._hints([], language)
            actions.append(
                Listen(
                    node.id, num_digits=fixed, finish_on_key="#", hints=hints, speech=node.speech or bool(node.spoken)
                )
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


def _for_this_line(flow: Flow, features: set[str]) -> Flow:
    """`flow` without the menu options whose `only_if` this line does not have."""
    nodes = {
        node_id: replace(node, options=tuple(o for o in node.options if not o.only_if or o.only_if in features))
        if isinstance(node, Menu) else node
        for node_id, node in flow.nodes.items()
    }  # fmt: skip
    return replace(flow, nodes=nodes)


def _keep_heard(state: CallState, node_id: str, heard: list[Say]) -> None:
    """What "repeat" says again at `node_id`: what this turn's handlers said that mattered, or what an
    earlier turn left for this same prompt (a retry, a repeat); nothing at any other prompt."""
    if heard:
        state.collected["heard"] = {"at": node_id, "say": [[s.prompt, dict(s.values)] for s in heard]}
    elif (state.collected.get("heard") or {}).get("at") != node_id:
        state.collected.pop("heard", None)


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
        return "*" * len(text) if ASCII_DIGITS.fullmatch(text) else "[masked speech]"
    return text[:255]
