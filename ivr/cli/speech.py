"""The `speech` group: `speech recognize`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

speech_cli = AppGroup("speech", help="Offline speech recognition.")


@speech_cli.command("recognize")
@click.argument("audio_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--phrases", default="", help='Comma-separated phrases to choose from, e.g. "order status,main menu".')
def speech_recognize(audio_file: Path, phrases: str) -> None:
    """Print what AUDIO_FILE says, the confidence and the time taken."""
    import time

    from ivr.speech import recognizer as speech
    from ivr.speech.audio import AudioError, load

    try:
        audio = load(audio_file)
    except AudioError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    started = time.perf_counter()
    listener = speech.get(current_app.extensions["ivr.speech"])
    loaded = time.perf_counter() - started
    heard = listener.recognize(audio, speech.phrases_from_hints(phrases) or None)
    click.echo(f"text:       {heard.text or '(nothing recognised)'}")
    click.echo(f"confidence: {heard.confidence:.2f}")
    click.echo(f"time:       {heard.seconds * 1000:.0f} ms for {audio.seconds:.2f} s of audio ({heard.backend};"
               f" model load {loaded * 1000:.0f} ms)")  # fmt: skip
