"""Voice messages: transcription speed, and how long a 60-second message takes to reach the queue.

1. Real-time factor of free-form transcription (processing time / audio time, one thread) on a
   60-second telephone message, per recogniser present.
2. A simulated caller leaves that message and hangs up; a worker process (`flask --app wsgi worker`,
   as `make run` starts it) copies it from the simulator's media server and transcribes it. Timed from
   the hang-up until the message's transcript is in the queue (the database), over several messages.

The 60-second message is the committed message clips (tests/fixtures/messages) played one after another.
Run: .venv/bin/python bench/voicemail.py [--messages 3]
"""

from __future__ import annotations

import argparse
import os
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

import numpy as np
import soundfile

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent

from ivr.config import load_settings  # noqa: E402
from ivr.speech import recognizer as speech  # noqa: E402
from ivr.speech.audio import load  # noqa: E402
from ivr.speech.vosk import DEFAULT_MODEL, missing_files  # noqa: E402

MESSAGES = ROOT / "tests" / "fixtures" / "messages"
SECONDS = 60


def sixty_second_message(path: Path) -> Path:
    parts = [soundfile.read(MESSAGES / name, dtype="float32")[0] for name in ("ada.wav", "grace.wav", "ada-again.wav")]
    joined = np.concatenate(parts * 3)[: 8000 * SECONDS]
    soundfile.write(path, joined, 8000, subtype="ULAW")
    return path


def real_time_factors(clip: Path) -> list[tuple[str, float, float]]:
    """(backend, real-time factor, seconds) for each recogniser present."""
    choices = [speech.Choice("pocketsphinx", "")]
    model = Path(load_settings()["VOSK_MODEL_PATH"] or DEFAULT_MODEL)
    if model.is_dir() and not missing_files(model):
        choices.insert(0, speech.Choice("vosk", str(model)))
    else:
        print(f"Vosk: no complete model at {model} (`make model` downloads it where the internet is reachable)")
    audio = load(clip)
    rows = []
    for choice in choices:
        recognizer = speech.get(choice)
        heard = recognizer.recognize(audio)
        rows.append((choice.backend, heard.seconds / audio.seconds, heard.seconds))
    return rows


def hang_up_to_transcript(clip: Path, messages: int) -> list[float]:
    work = Path(tempfile.mkdtemp(prefix="ivr-voicemail-bench-"))
    token = secrets.token_hex(16)
    env = {**os.environ, "IVR_DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}", "IVR_TWILIO_AUTH_TOKEN": token,
           "IVR_DATA_DIR": str(work / "data"), "IVR_CLOCK": "2026-11-24T21:00:00-05:00",
           "IVR_TWILIO_MEDIA_HOSTS": "127.0.0.1"}  # fmt: skip
    for command in (["db", "upgrade"], ["seed"]):
        subprocess.run([str(BIN / "flask"), "--app", "wsgi", *command], cwd=ROOT, env=env, check=True,
                       capture_output=True)  # fmt: skip
    os.environ.update({k: v for k, v in env.items() if k.startswith("IVR_")})
    from ivr import create_app
    from ivr.simulator.phone import SimulatedCall
    from ivr.simulator.transport import FlaskTransport

    app = create_app()
    worker = subprocess.Popen([str(BIN / "flask"), "--app", "wsgi", "worker"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    timings = []
    try:
        for _ in range(messages):
            call = SimulatedCall(FlaskTransport(app, token), "+15550100001").dial()
            call.press("0")
            call.press("1")
            call.record(clip, then_hangup=True)
            hung_up = time.perf_counter()
            while True:
                with sqlite3.connect(work / "bench.sqlite3") as db:
                    row = db.execute(
                        "SELECT transcript_status FROM messages WHERE call_sid = ?", (call.call_sid,)
                    ).fetchone()
                if row and row[0] in ("done", "failed"):
                    break
                if time.perf_counter() - hung_up > 600:
                    raise RuntimeError("no transcript within 10 minutes")
                time.sleep(0.05)
            timings.append(time.perf_counter() - hung_up)
    finally:
        worker.terminate()
        worker.wait(timeout=10)
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3)
    args = parser.parse_args()
    clip = sixty_second_message(Path(tempfile.mkdtemp()) / "message-60s.wav")
    rows = real_time_factors(clip)
    print(f"a {SECONDS}-second message, 8 kHz mu-law; {os.cpu_count()} cores\n")
    print(f"{'backend':13} {'RTF free-form':>14} {'seconds':>8}")
    for backend, rtf, seconds in rows:
        print(f"{backend:13} {rtf:>14.3f} {seconds:>8.1f}")
    timings = hang_up_to_transcript(clip, args.messages)
    print(f"\nhang-up to transcript in the queue (worker process polling every 1 s), {len(timings)} messages: "
          f"median {median(timings):.1f} s, slowest {max(timings):.1f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
