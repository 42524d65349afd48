"""Experiments: a variant of one prompt, or of one knowledge-base answer, heard by a share of callers,
so that a change can be measured against what it replaces before everyone hears it.

Each caller is in one arm for good (a hash of the experiment and their number, or of the call when
the number is hidden), so a caller hears the same wording on every call and every host agrees without
keeping anything. A call is put in its arms at its first step (and again if it changes language);
its state carries the variants' words, so every later step renders them without a look-up. A call
counts for an experiment once it heard the prompt or answer (either arm): the insights compare the
arms' containment (helped), drop-off there (hung up while at it) and survey score, and say plainly
whether the difference in containment is more than chance (a two-proportion z-test), or that there
are not enough calls yet.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.errors import IVRError
from ivr.flows.actions import Action, Listen, Say
from ivr.flows.state import CallState
from ivr.models import Experiment, FaqEntry
from ivr.prompts import Catalog

KINDS = {"prompt": "a prompt", "answer": "a knowledge-base answer"}
ARMS = ("original", "variant")
LONGEST = 1000
# Below this many calls in an arm that heard it, no difference is called more than chance.
MIN_CALLS = 100
# A difference this unlikely by chance alone (two-sided) is called more than chance.
ALPHA = 0.05
# The running experiments of a language, as a step reads them: id, kind, target, text, share.
RUNNING = "SELECT id, kind, target, text, share FROM experiments WHERE language = :language AND ended_at IS NULL"
NOT_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class ExperimentError(IVRError):
    """An experiment that cannot be started or stopped, said to the supervisor as is."""


def share_of(raw: object) -> int:
    """A share of callers who hear the variant: a whole percentage from 1 to 99 (0 or 100 leave
    nothing to compare)."""
    text = str(raw).strip().rstrip("%").strip()
    if not re.fullmatch(r"-?[0-9]{1,6}", text):
        raise ExperimentError(f"The share must be a whole percentage from 1 to 99, not {str(raw)[:20]!r}.")
    share = int(text)
    if not 1 <= share <= 99:
        raise ExperimentError(
            f"The share must be from 1 to 99%, not {share}%: with 0 or 100 one arm has no callers to compare."
        )
    return share


def start(
    session: Session, catalog: Catalog, kind: str, language: str, target: str, text: str, share: object,
    by: str, now: dt.datetime,
) -> Experiment:  # fmt: skip
    """A new running experiment, once what it would say is checked: the prompt or answer exists in
    that language, the words fill in as the original's do, and nothing else runs on it."""
    if kind not in KINDS:
        raise ExperimentError(f"An experiment is of a prompt or an answer, not {kind[:20]!r}.")
    if language not in catalog.languages:
        raise ExperimentError(
            f"The line does not speak {language[:20]!r}: choose one of {', '.join(catalog.languages)}."
        )
    text = NOT_TEXT.sub("", text.replace("\r\n", "\n")).strip()
    if not text:
        raise ExperimentError("The variant's words are empty: type what the variant says.")
    if len(text) > LONGEST:
        raise ExperimentError(f"The variant is {len(text)} characters long; the most is {LONGEST}.")
    percent = share_of(share)
    if kind == "prompt":
        _check_prompt(catalog, language, target, text)
    elif session.scalar(select(FaqEntry.id).where(FaqEntry.language == language, FaqEntry.slug == target)) is None:
        raise ExperimentError(f"There is no answer {target[:64]!r} in the {language} knowledge base.")
    running = select(Experiment.id).where(Experiment.kind == kind, Experiment.language == language,
                                          Experiment.target == target, Experiment.ended_at.is_(None))  # fmt: skip
    if session.scalar(running) is not None:
        raise ExperimentError(f"An experiment on {target} in {language} is running already: stop it first.")
    experiment = Experiment(kind=kind, language=language, target=target, text=text, share=percent,
                            started_at=now, started_by=by[:80])  # fmt: skip
    session.add(experiment)
    session.flush()
    return experiment


def _check_prompt(catalog: Catalog, language: str, target: str, text: str) -> None:
    prompts = catalog.languages[language].prompts
    if target not in prompts:
        raise ExperimentError(f"There is no prompt {target[:64]!r} in {language}.yaml.")
    if target in catalog.languages[language].plurals:
        raise ExperimentError(f"Prompt {target} has a form per number; an experiment cannot vary it yet.")
    wanted, given = _fields(prompts[target]), _fields(text)
    if given is None:
        raise ExperimentError("The variant's braces do not pair up: write a value as {name}, as the original does.")
    unknown = sorted(given - (wanted or set()) - set(catalog.defaults))
    if unknown:
        named = ", ".join("{" + name + "}" for name in sorted(wanted or ())) or "none"
        raise ExperimentError(
            f"The variant names {', '.join(unknown)}, which this prompt does not have (it has {named})."
        )


def _fields(template: str) -> set[str] | None:
    """The values a prompt's words name ({company}); None when its braces do not pair up or a value
    is anything but a plain name ({a.b}, {a[0]}, {a!r})."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        return None
    names = {name for _text, name, _spec, _conversion in parsed if name is not None}
    if any(not name.isidentifier() for name in names) or any(c or s for _t, _n, s, c in parsed if _n is not None):
        return None
    return names


def stop(session: Session, experiment_id: int, now: dt.datetime) -> Experiment:
    experiment = session.get(Experiment, experiment_id)
    if experiment is None:
        raise ExperimentError(f"There is no experiment {experiment_id}.")
    if experiment.ended_at is not None:
        raise ExperimentError(f"Experiment {experiment_id} has ended already.")
    experiment.ended_at = now
    return experiment


def arm(experiment_id: int, who: str, share: int) -> str:
    """A caller's arm of an experiment: the same on every call and every host."""
    digest = hashlib.sha256(f"{experiment_id}:{who}".encode()).hexdigest()
    return ARMS[1] if int(digest[:8], 16) % 100 < share else ARMS[0]


def who(state: CallState) -> str:
    """Whom an arm is for: the caller's number, or the call when the number is hidden."""
    number = state.caller.lstrip("+")
    return state.caller if number.isdigit() and len(number) >= 6 else state.call_sid


def assign(state: CallState, running: Iterable[Sequence[Any]]) -> None:
    """Put the call in its arms of the experiments running in its language (`running`: RUNNING's
    rows), keeping the variants' words in its state for every later step."""
    arms: dict[str, str] = dict(state.collected.get("experiments") or {})
    variants: dict[str, str] = {}
    running = list(running)
    for experiment_id, kind, target, text, share in running:
        chosen = arms.setdefault(str(experiment_id), arm(int(experiment_id), who(state), int(share)))
        if chosen == ARMS[1]:
            variants[f"{kind}:{target}"] = str(text)
    if arms:
        state.collected["experiments"] = arms
        state.collected["variants"] = variants
    # What counts as hearing one: only this language's (a prompt has the same id in every language).
    state.collected["experiment_targets"] = {str(i): f"{kind}:{target}" for i, kind, target, _text, _share in running}


def mark_heard(state: CallState, actions: Sequence[Action]) -> None:
    """Note the experiments whose prompt or answer this step says, with the prompt the caller then
    waits at (where hanging up is dropping off)."""
    targets: dict[str, str] = state.collected.get("experiment_targets") or {}
    if not targets:
        return
    said = {f"prompt:{a.prompt}" for a in actions if isinstance(a, Say)}
    if any(isinstance(a, Say) and a.prompt == "faq_answer" for a in actions):
        said.add(f"answer:{state.collected.get('faq_slug', '')}")
    waits = next((a.node for a in actions if isinstance(a, Listen)), state.node)
    heard = dict(state.collected.get("experiments_heard") or {})
    for experiment_id, target in targets.items():
        if target in said and experiment_id not in heard:
            heard[experiment_id] = waits
    if heard:
        state.collected["experiments_heard"] = heard


def variant_text(collected: dict[str, Any], kind: str, target: str) -> str | None:
    """The words this call hears instead of the original, if it is in a variant arm."""
    found = (collected.get("variants") or {}).get(f"{kind}:{target}")
    return str(found) if found else None


# ---- whether a difference is more than chance ---------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """The arms' containment side by side: the difference (variant minus original, in points), the
    chance of a difference at least this large if the arms were alike (None: too few calls), and
    what that means in a sentence."""

    difference: float
    p_value: float | None
    statement: str


def compare(original: tuple[int, int], variant: tuple[int, int], least: int = MIN_CALLS) -> Comparison:
    """Two arms' (helped, heard): a two-proportion z-test of their containment."""
    (helped_a, calls_a), (helped_b, calls_b) = original, variant
    rate_a = helped_a / calls_a if calls_a else 0.0
    rate_b = helped_b / calls_b if calls_b else 0.0
    points = round(100 * (rate_b - rate_a), 1)
    if min(calls_a, calls_b) < least:
        return Comparison(points, None, f"Not enough calls yet: each arm needs {least} calls that heard it "
                                        f"(original {calls_a}, variant {calls_b}).")  # fmt: skip
    pooled = (helped_a + helped_b) / (calls_a + calls_b)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / calls_a + 1 / calls_b))
    p_value = 1.0 if spread == 0 else math.erfc(abs(rate_b - rate_a) / spread / math.sqrt(2))
    shown = f"p = {p_value:.3f}" if p_value >= 0.001 else "p < 0.001"
    if p_value < ALPHA:
        better = "more" if points > 0 else "fewer"
        return Comparison(points, p_value, f"The variant helped {better} callers ({points:+.1f} points): "
                                           f"more than chance ({shown}).")  # fmt: skip
    return Comparison(points, p_value, f"The difference ({points:+.1f} points) could be chance ({shown}).")
