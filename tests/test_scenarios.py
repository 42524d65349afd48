"""Every scenario under tests/scenarios/ is played as a whole call and must pass."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from ivr.simulator.scenario import load, run
from ivr.simulator.transport import FlaskTransport
from tests.conftest import TOKEN

SCENARIOS = sorted((Path(__file__).parent / "scenarios").glob("*.yaml"))


def test_there_are_scenarios() -> None:
    assert len(SCENARIOS) >= 5


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario(app: Flask, path: Path) -> None:
    outcome = run(load(path), FlaskTransport(app, TOKEN))
    assert outcome.ok, outcome.report()
