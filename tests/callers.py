"""What a caller's words mean at a menu, as the engine's matching takes them: for the tests of what
callers of each language say (tests/test_fi_phrases.py, tests/test_lv_phrases.py)."""

from __future__ import annotations

from collections.abc import Sequence

from ivr.prompts import Catalog
from ivr.speech.matching import best_options

COMMANDS = ("agent", "main_menu", "repeat", "help", "goodbye")


def heard(catalog: Catalog, language: str, own: Sequence[str], said: str, others: Sequence[str] = ()) -> str | None:
    """The option or command `said` means; on a tie, as the engine: the prompt's own options, then
    the commands, then the options of the menu it also understands."""
    phrases = {name: catalog.phrases(language, name) for name in (*others, *own, *COMMANDS)}
    winners = best_options(said, phrases, catalog.words(language))
    if len(winners) > 1:
        winners = [w for w in winners if w in own] or [w for w in winners if w in COMMANDS] or winners
    return winners[0] if len(winners) == 1 else None
