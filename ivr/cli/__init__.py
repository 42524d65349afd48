"""The command line: `init_app` registers every group and command, each group in its own module here
(`db upgrade`, `seed`, `flows check|graph`, `speech recognize`, `faq`, `products`, `recordings move`, `agents`, `worker`, `insights
rollup`, `versions`, `experiments`, `banner`, `reload`). The simulator registers its own `simulate` (ivr/simulator/cli.py), which
uses ivr.cli.checks: this package imports nothing of the simulator, so nothing here imports back."""

from __future__ import annotations

from flask import Flask

from ivr.cli.agents import agents_cli
from ivr.cli.database import db_cli, seed
from ivr.cli.experiments import experiments_cli
from ivr.cli.faq import faq_cli
from ivr.cli.flows import flows_cli
from ivr.cli.products import products_cli
from ivr.cli.recordings import recordings_cli
from ivr.cli.server import banner, reload_server
from ivr.cli.speech import speech_cli
from ivr.cli.versions import versions
from ivr.cli.worker import insights_cli, worker


def init_app(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(flows_cli)
    app.cli.add_command(speech_cli)
    app.cli.add_command(faq_cli)
    app.cli.add_command(products_cli)
    app.cli.add_command(recordings_cli)
    app.cli.add_command(agents_cli)
    app.cli.add_command(seed)
    app.cli.add_command(worker)
    app.cli.add_command(insights_cli)
    app.cli.add_command(versions)
    app.cli.add_command(experiments_cli)
    app.cli.add_command(banner)
    app.cli.add_command(reload_server)
