"""Every scenario under tests/scenarios/ is played as a whole call and must pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.simulator.coverage import scenario_files
from tests.conftest import PlayedScenarios

# untested.yaml there is not a scenario: it marks what no scenario reaches (tests/test_coverage.py).
SCENARIOS = scenario_files([Path(__file__).parent / "scenarios"])


def test_there_are_scenarios() -> None:
    assert len(SCENARIOS) >= 5


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario(played_scenarios: PlayedScenarios, path: Path) -> None:
    outcome = played_scenarios[path].outcome
    assert outcome.ok, outcome.report()
