"""The benchmarks' throwaway databases go when a run ends, however it ends: finished, Ctrl-C, or killed."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import postgres_bin

ROOT = Path(__file__).resolve().parent.parent
# Opens bench/agents.py's databases, says where they are, then waits to be stopped (or ends).
RUN = """
import sys, time
sys.path.insert(0, {root!r})
from bench.agents import databases
with databases("ivr-bench-test-") as (work, urls):
    (work / "marker").write_text("x")
    print(work, urls.get("PostgreSQL", ""), flush=True)
    if sys.argv[1] == "wait":
        time.sleep(60)
"""


def _folders(url: str, work: str) -> list[Path]:
    """The work folder and the PostgreSQL cluster's (its socket folder is the cluster's folder)."""
    found = [Path(work)]
    if url:
        port = url.rsplit(":", 1)[1].split("/")[0]
        found += [p for p in Path("/tmp").glob("ivr-bench-pg-*") if (p / f".s.PGSQL.{port}").exists()]
    return found


@pytest.mark.parametrize("ending", ["finished", signal.SIGINT, signal.SIGTERM])
def test_a_benchmarks_databases_are_removed_however_it_ends(ending) -> None:  # type: ignore[no-untyped-def]
    if postgres_bin() is None:
        pytest.skip("PostgreSQL server binaries are not installed (make test installs them when run as root)")
    process = subprocess.Popen([sys.executable, "-c", RUN.format(root=str(ROOT)), "wait" if ending != "finished" else "end"],
                               stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert process.stdout is not None
    work, url = (process.stdout.readline().split() + [""])[:2]
    assert url.startswith("postgresql"), "a PostgreSQL cluster was made"
    made = _folders(url, work)
    assert len(made) == 2 and all(folder.exists() for folder in made)
    if ending != "finished":
        process.send_signal(ending)
    process.wait(timeout=60)
    process.stdout.close()
    deadline = time.monotonic() + 10
    while any(folder.exists() for folder in made) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(folder.exists() for folder in made), [str(f) for f in made if f.exists()]
