"""The running server's commands: `banner` and `reload`."""

from __future__ import annotations

from pathlib import Path

import click

from ivr.cli.checks import sound_flow


@click.command("reload")
@click.option("--pid", "pid_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="gunicorn's pid file (gunicorn --pid FILE).")  # fmt: skip
@sound_flow
def reload_server(pid_file: Path) -> None:
    """Check the flows and prompts on disk, and only if they hold together, tell the running gunicorn
    to start new workers on them (SIGHUP). A broken flow would stop the server: its workers refuse
    to start."""
    import os
    import signal

    try:
        pid = int(pid_file.read_text(encoding="ascii").strip())
        os.kill(pid, signal.SIGHUP)
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"cannot signal the server named in {pid_file}: {exc}") from None
    click.echo(f"flows OK; gunicorn (pid {pid}) is starting new workers on them")


@click.command("banner")
def banner() -> None:
    """What `make run` prints before the server starts."""
    click.echo(
        "\n"
        "IVR running: the phone line on http://127.0.0.1:5000, the desk and help centre on http://127.0.0.1:5001\n"
        "  Twilio voice webhook (POST):    <public URL>/voice/incoming\n"
        "  Twilio status callback (POST):  <public URL>/voice/status\n"
        "  Try a call in another terminal: .venv/bin/flask --app wsgi simulate --url http://127.0.0.1:5000\n"
        "  or play a scenario:             .venv/bin/flask --app wsgi simulate tests/scenarios/order_status_keypad.yaml\n"
        "  Voice messages, for agents:     http://127.0.0.1:5001/agent/\n"
        "  The help centre, for customers: http://127.0.0.1:5001/help/\n"
        "    add an agent first:           .venv/bin/flask --app wsgi agents create NAME   (asks for a password)\n"
        "  The worker (recordings, transcripts) runs beside the server.\n"
    )
