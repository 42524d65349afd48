"""Edit, call, hear: a running server picks up an edited prompt for the next call.

Under `make run` (the project's gunicorn.dev.conf.py) it reloads on its own; in production
`flask --app wsgi reload --pid FILE` checks the files first and only then signals gunicorn. Each
test runs gunicorn in a copy of the project, so it can edit a catalog, and calls it as
`simulate --url` does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ivr.simulator.phone import SimulatedCall
from ivr.simulator.transport import HttpTransport
from tests.conftest import MEDIA_HOSTS, TOKEN, free_port, wait_until_serving

ROOT = Path(__file__).resolve().parent.parent
HELLO = "Hello, and thank you for calling"


def copy_project(tmp_path: Path, template_db: Path) -> tuple[Path, dict[str, str]]:
    project = tmp_path / "project"
    shutil.copytree(ROOT / "ivr", project / "ivr")
    shutil.copytree(ROOT / "prompts", project / "prompts")
    for name in ("wsgi.py", "gunicorn.dev.conf.py"):
        shutil.copy(ROOT / name, project / name)
    shutil.copy(template_db, tmp_path / "ivr.sqlite3")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("IVR_")}, "IVR_TWILIO_AUTH_TOKEN": TOKEN,
           "IVR_DATABASE_URL": f"sqlite:///{tmp_path / 'ivr.sqlite3'}", "IVR_TWILIO_MEDIA_HOSTS": MEDIA_HOSTS}  # fmt: skip
    return project, env


@contextmanager
def gunicorn(project: Path, env: dict[str, str], *options: str) -> Iterator[tuple[str, list[str]]]:
    """gunicorn serving the copy; yields its URL and its log lines as they come."""
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), *options, "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    log: list[str] = []
    reader = threading.Thread(target=lambda: log.extend(server.stdout or ()), daemon=True)
    reader.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, server)
        yield url, log
    finally:
        server.terminate()
        server.wait(timeout=15)
        reader.join(timeout=5)
        if server.stdout is not None:
            server.stdout.close()


def call(url: str) -> SimulatedCall:
    return SimulatedCall(HttpTransport(url, TOKEN)).dial()


def edit_greeting(project: Path, old: str, new: str) -> None:
    catalog = project / "prompts" / "en-US.yaml"
    text = catalog.read_text(encoding="utf-8")
    assert old in text
    catalog.write_text(text.replace(old, new), encoding="utf-8")


def wait_for_new_workers(log: list[str], booted: int, workers: int = 2) -> None:
    deadline = time.monotonic() + 30
    while sum("Booting worker" in line for line in log) < booted + workers and time.monotonic() < deadline:
        time.sleep(0.1)


def test_make_runs_server_plays_an_edited_prompt_on_the_next_call(tmp_path: Path, template_db: Path) -> None:
    project, env = copy_project(tmp_path, template_db)
    with gunicorn(project, env, "--config", "gunicorn.dev.conf.py") as (url, log):
        before = call(url)
        assert HELLO in before.heard
        assert before.prompts.startswith("prompts/en-US.yaml, version ")

        time.sleep(1.1)  # past the reloader's first look at the file's modification time
        booted = sum("Booting worker" in line for line in log)
        edit_greeting(project, HELLO, "Good evening, thank you for calling")
        wait_for_new_workers(log, booted)
        assert any("Worker reloading" in line and "en-US.yaml" in line for line in log), "".join(log)

        after = call(url)
        assert "Good evening, thank you for calling" in after.heard and HELLO not in after.heard
        assert after.prompts.startswith("prompts/en-US.yaml, version ") and after.prompts != before.prompts
    assert "Traceback" not in "".join(log), "".join(log)


def test_reload_signals_production_gunicorn_only_when_the_flow_holds(tmp_path: Path, template_db: Path) -> None:
    project, env = copy_project(tmp_path, template_db)
    pid = tmp_path / "gunicorn.pid"

    def reload() -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "flask", "--app", "wsgi", "reload", "--pid", str(pid)]
        return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=60)

    # Production settings, plus a line from each worker once it has loaded the app: the broken edit
    # must come after both have read the good files.
    ready = tmp_path / "ready.conf.py"
    ready.write_text("def post_worker_init(worker):\n    worker.log.info('worker ready')\n")
    options = ("--config", str(ready), "--workers", "2", "--no-control-socket", "--pid", str(pid))
    with gunicorn(project, env, *options) as (url, log):
        deadline = time.monotonic() + 30
        while sum("worker ready" in line for line in log) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        edit_greeting(project, HELLO, "Hello {name}, thank you for calling")
        refused = reload()
        assert refused.returncode == 1
        assert "error: prompts/en-US.yaml: greeting uses {name}, which node greeting does not supply" in refused.stderr
        assert HELLO in call(url).heard  # still serving, from the files it started with, from the files it started with

        edit_greeting(project, "Hello {name}, thank you for calling", "Good evening, thank you for calling")
        done = reload()
        assert done.returncode == 0, done.stderr
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (
            sum("worker ready" in line for line in log) < 4 or sum("Worker exiting" in line for line in log) < 2
        ):
            time.sleep(0.1)  # the new workers have loaded the new files, the old ones have gone
        assert "Good evening, thank you for calling" in call(url).heard
