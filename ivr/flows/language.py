"""The caller's language: asked at the start where the line speaks several (each language offers
itself, in itself), known from the number called, or changed from the main menu (8, or its name)."""

from __future__ import annotations

from ivr.flows.context import Context
from ivr.flows.nodes import Choose, Goto, Handler
from ivr.flows.state import CallState
from ivr.speech.matching import words_of


def language_start(state: CallState, context: Context) -> Goto:
    """Ask only where there is a choice to make: several languages, and none given by the number called."""
    if not context.languages.several or state.collected.get("language_by_number"):
        return Goto("greeting")
    return Goto("language_choices")


def language_choices(state: CallState, context: Context) -> Goto:
    """Every language the line offers, named in itself ("latviski", "suomeksi", "English"); a
    caller who named one ("suomeksi, kiitos") has it at once."""
    names = {code: context.language_name(code) for code in context.languages.offered}
    said = set(words_of(str(state.transient.get("said", ""))))
    named = [code for code, name in names.items() if set(words_of(name)) <= said]
    if len(named) == 1:
        return Goto("language_set", remember={"language": named[0]})
    choices = [{"label": name, "value": code, "language": code} for code, name in names.items()]
    return Goto("language_menu", remember={"language_choices": choices})


def language_set(state: CallState, context: Context) -> Goto:
    """The call goes on in the language chosen (silence keeps the one it has): greeted at the
    start, or back at the main menu when changed there."""
    chosen = context.languages.known(str(state.collected.get("language") or state.language))
    first = not state.collected.get("language_chosen")
    return Goto("greeting" if first else "main_menu", language=chosen, remember={"language_chosen": True},
                forget=("language", "language_choices"))  # fmt: skip


NODES = [
    Handler("language_start", run=language_start,
            exits={"greeting": "one language, or the number called gives it", "language_choices": "several: ask"}),
    Handler("language_choices", run=language_choices,
            exits={"language_menu": "each offered in itself", "language_set": "the caller named one"}),
    Choose(
        "language_menu",
        prompt="language_welcome",
        choices_from="language_choices",
        store_as="language",
        goto="language_set",
        announce="language_offer",
        silence="language_set",
    ),
    Handler("language_set", run=language_set,
            exits={"greeting": "chosen at the start", "main_menu": "changed at the main menu"}),
]  # fmt: skip
