"""Command-line groups: `db upgrade`, `seed`, `flows check|graph`, `speech recognize`, `simulate`, `banner`."""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from ivr.db import get_db, upgrade
from ivr.flows.check import commands_summary

db_cli = AppGroup("db", help="The database schema.")
flows_cli = AppGroup("flows", help="The call flows.")
speech_cli = AppGroup("speech", help="Offline speech recognition.")
faq_cli = AppGroup("faq", help="The questions knowledge base.")
agents_cli = AppGroup("agents", help="The people who answer voice messages in /agent.")
ROLES = ("agent", "supervisor")


@agents_cli.command("create")
@click.argument("name")
@click.option("--phone", default="", help="Their phone (E.164), which click-to-call rings.")
@click.option("--role", type=click.Choice(ROLES), default=None, help="agent (the default) or supervisor.")
def agents_create(name: str, phone: str, role: str | None) -> None:
    """Add an agent, or set a new password; the password is read from standard input."""
    from sqlalchemy import select
    from werkzeug.security import generate_password_hash

    from ivr.agents import end_sessions
    from ivr.models import Agent

    password = _new_password()
    if phone and not re.fullmatch(r"\+[0-9]{2,15}", phone):
        raise click.ClickException(f"--phone must be E.164, like +15550100123, not {phone!r}")
    with get_db().transaction() as session:
        agent = session.scalar(select(Agent).where(Agent.name == name))
        if agent is None:
            session.add(Agent(name=name, password_hash=generate_password_hash(password), phone=phone,
                              role=role or "agent"))  # fmt: skip
            click.echo(f"{role or 'agent'} {name} created")
        else:
            agent.password_hash = generate_password_hash(password)
            agent.phone = phone or agent.phone
            agent.role = role or agent.role
            end_sessions(agent)
            click.echo(f"agent {name} updated; their sessions have ended")


@agents_cli.command("password")
@click.argument("name")
def agents_password(name: str) -> None:
    """Set an agent's new password (read from standard input); every session of theirs ends."""
    from werkzeug.security import generate_password_hash

    from ivr.agents import end_sessions

    password = _new_password()
    with get_db().transaction() as session:
        agent = _agent_named(session, name)
        agent.password_hash = generate_password_hash(password)
        end_sessions(agent)
    click.echo(f"agent {name}: new password; their sessions have ended")


@agents_cli.command("disable")
@click.argument("name")
def agents_disable(name: str) -> None:
    """Refuse an agent's log-ins, end every session of theirs and revoke their API token (their notes
    and history stay)."""
    _set_disabled(name, True)


@agents_cli.command("enable")
@click.argument("name")
def agents_enable(name: str) -> None:
    """Let a disabled agent log in again."""
    _set_disabled(name, False)


def _set_disabled(name: str, disabled: bool) -> None:

    from ivr.agents import end_sessions

    with get_db().transaction() as session:
        agent = _agent_named(session, name)
        agent.disabled = disabled
        end_sessions(agent)
        if disabled:
            agent.api_token_hash = None
    click.echo(
        f"agent {name} {'disabled; their sessions have ended, their API token revoked' if disabled else 'enabled'}"
    )


@agents_cli.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
def agents_role(name: str, role: str) -> None:
    """Make an agent a supervisor (sees the team's workload, reassigns messages) or an agent again."""
    with get_db().transaction() as session:
        agent = _agent_named(session, name)
        agent.role = role
    click.echo(f"{name} is now {'a supervisor' if role == 'supervisor' else 'an agent'}")


@agents_cli.command("token")
@click.argument("name")
@click.option("--revoke", is_flag=True, help="Only revoke the agent's token.")
def agents_token(name: str, revoke: bool) -> None:
    """Give an agent a new API token for an integration (shown once; the earlier one stops working)."""
    from ivr.agents import new_api_token

    with get_db().transaction() as session:
        agent = _agent_named(session, name)
        if agent.disabled and not revoke:
            raise click.ClickException(f"agent {name} is disabled: enable them first")
        token = None if revoke else new_api_token(agent)
        if revoke:
            agent.api_token_hash = None
    if token is None:
        click.echo(f"agent {name}: API token revoked", err=True)
        return
    click.echo(f"agent {name}: a new API token (shown only now; any earlier one no longer works).", err=True)
    click.echo("Send it as 'Authorization: Bearer <token>' to /agent/api/:", err=True)
    click.echo(token)


def _agent_named(session, name: str):  # type: ignore[no-untyped-def]
    """The agent with this name, or the command stops saying there is none."""
    from sqlalchemy import select

    from ivr.models import Agent

    agent = session.scalar(select(Agent).where(Agent.name == name))
    if agent is None:
        raise click.ClickException(f"no agent named {name!r}")
    return agent


def _new_password() -> str:
    password = (
        sys.stdin.readline().rstrip("\n")
        if not sys.stdin.isatty()
        else click.prompt("Password", hide_input=True, confirmation_prompt=True)
    )
    if len(password) < 8:
        raise click.ClickException("the password needs at least 8 characters")
    return password


@agents_cli.command("list")
def agents_list() -> None:
    """Every agent, with their phone and how many messages they hold."""
    from sqlalchemy import func, select

    from ivr.models import Agent, Message

    with get_db().reading() as session:
        rows = session.execute(
            select(Agent.name, Agent.phone, Agent.role, Agent.disabled, func.count(Message.id))
            .outerjoin(Message, (Message.assignee_id == Agent.id) & (Message.status == "in_progress"))
            .group_by(Agent.id)
            .order_by(Agent.name)
        ).all()
    if not rows:
        click.echo("no agents yet: flask --app wsgi agents create NAME")
    for name, phone, role, disabled, holding in rows:
        click.echo(f"{name:20} {role:10} {phone or '-':16} {holding} in progress{' (disabled)' if disabled else ''}")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Create the database, or bring it to the latest schema."""
    upgrade(current_app.config["DATABASE_URL"])
    click.echo(f"database is up to date: {get_db().engine.url.render_as_string(hide_password=True)}")


@click.command("worker")
@click.option("--once", is_flag=True, help="Do what is due now, then stop.")
@click.option(
    "--threads",
    type=click.IntRange(1, 64),
    default=None,
    help="Messages worked on side by side (default: IVR_WORKER_THREADS, or one per core).",
)
def worker(once: bool, threads: int | None) -> None:
    """Copy recordings, transcribe them and apply audio retention, in the background."""
    from ivr.worker import Worker

    work = Worker(get_db(), current_app.config, threads)
    if once:
        click.echo(f"{work.run_once()} jobs done")
    else:
        work.run_forever()


insights_cli = AppGroup("insights", help="The supervisors' insights: their daily aggregates.")


@insights_cli.command("rollup")
def insights_rollup() -> None:
    """Summarise every ended call not yet in the day rows (the worker does this as calls end)."""
    import datetime as dt

    from ivr.insights import rollup

    total, now = 0, dt.datetime.now(dt.UTC)
    while True:
        with get_db().transaction() as session:
            done = rollup.roll_up(session, current_app.config, now, rollup.BATCH)
        if not done:
            break
        total += done
    click.echo(f"{total} calls summarised")


@click.command("seed")
def seed() -> None:
    """Load the demo customers and orders (safe to run again)."""
    from ivr.faq import load_demo
    from ivr.seed import load_demo_data

    with get_db().transaction() as session:
        load_demo_data(session)
        added, updated = load_demo(session)
    click.echo(f"demo data loaded: 3 customers, 5 orders, {added + updated} questions")


def flow_problems() -> list[str]:
    """What is wrong with the flow and the prompts as this app loaded them (empty when sound)."""
    return list(current_app.extensions.get("ivr.flow_problems", []))


def refuse_broken_flow() -> None:
    """For a command that needs a flow that holds together: with a broken one, print the problems
    as `flows check` does, and exit 1."""
    found = flow_problems()
    if found:
        for problem in found:
            click.echo(f"error: {problem}", err=True)
        click.echo(f"{len(found)} problem(s) with the call flow; `flows check` lists them too.", err=True)
        sys.exit(1)


def sound_flow(command: Callable[..., Any]) -> Callable[..., Any]:
    """The command runs only on a flow that holds together (refuse_broken_flow)."""

    @functools.wraps(command)
    def checked(*args: Any, **kwargs: Any) -> Any:
        refuse_broken_flow()
        return command(*args, **kwargs)

    return checked


@flows_cli.command("check")
def flows_check() -> None:
    """Check the flows: transitions, keys, commands, and every prompt and its {values} in every language."""
    found = flow_problems()
    for problem in found:
        click.echo(problem, err=True)
    if found:
        click.echo(f"{len(found)} problem(s): callers would hear these as errors.", err=True)
        sys.exit(1)
    engine = current_app.extensions["ivr.engine"]
    languages = ", ".join(sorted(engine.catalog.languages))
    click.echo(f"flows OK: {len(engine.flow.nodes)} nodes, prompts complete in {languages}")
    click.echo("at every prompt:")
    click.echo("\n".join(commands_summary(engine.flow)))


@flows_cli.command("graph")
@sound_flow
@click.option("--branch", default=None, metavar="NAME", help="Draw only this branch (main, orders...); all by default.")
@click.option("--format", "form", type=click.Choice(["mermaid", "dot", "svg"]), default="mermaid", show_default=True,
              help="svg is drawn by Graphviz's dot (Debian's graphviz).")  # fmt: skip
def flows_graph(branch: str | None, form: str) -> None:
    """Print a diagram of the flows: nodes, options, handler exits, retries, failure paths, commands."""
    from ivr.flows import graph

    engine = current_app.extensions["ivr.engine"]
    try:
        drawn = graph.diagram(engine.flow, branch, engine.max_retries)
        if form == "svg":
            click.echo(graph.svg(drawn).decode(), nl=False)
        elif form == "dot":
            click.echo(graph.dot(drawn).source, nl=False)
        else:
            click.echo(graph.mermaid(drawn), nl=False)
    except graph.GraphError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)


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


@faq_cli.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def faq_import(path: Path) -> None:
    """Add or update knowledge-base entries from a YAML file (by language and slug; nothing is deleted).

    An entry is in its own `language:`, else the file's top-level `language:`, else en-US."""
    from ivr.faq import FaqFileError, import_entries, read_file

    try:
        entries = read_file(path)
    except FaqFileError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    with get_db().transaction() as session:
        added, updated = import_entries(session, entries)
    click.echo(f"{path}: {added} added, {updated} updated")


@faq_cli.command("asked")
@click.option("--days", default=30, show_default=True, help="How far back to look.")
def faq_asked(days: int) -> None:
    """What callers asked: answers given and whether they helped, questions that found nothing."""
    import datetime as dt

    from ivr.faq import asked_report

    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    with get_db().reading() as session:
        click.echo(asked_report(session, since), nl=False)


@faq_cli.command("export")
@click.option("--language", metavar="CODE", help="Only the entries in this language (e.g. fi-FI).")
def faq_export(language: str | None) -> None:
    """Print every knowledge-base entry, with its language, as YAML (the form `faq import` reads)."""
    from ivr.faq import export_entries, language_error

    if language is not None and (wrong := language_error(language)) is not None:
        click.echo(f"error: {wrong}", err=True)
        sys.exit(1)
    with get_db().reading() as session:
        click.echo(export_entries(session, language), nl=False)


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
        "IVR running on http://127.0.0.1:5000\n"
        "  Twilio voice webhook (POST):    <public URL>/voice/incoming\n"
        "  Twilio status callback (POST):  <public URL>/voice/status\n"
        "  Try a call in another terminal: .venv/bin/flask --app wsgi simulate --url http://127.0.0.1:5000\n"
        "  or play a scenario:             .venv/bin/flask --app wsgi simulate tests/scenarios/order_status_keypad.yaml\n"
        "  Voice messages, for agents:     http://127.0.0.1:5000/agent/\n"
        "    add an agent first:           .venv/bin/flask --app wsgi agents create NAME   (asks for a password)\n"
        "  The worker (recordings, transcripts) runs beside the server.\n"
    )


def init_app(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(flows_cli)
    app.cli.add_command(speech_cli)
    app.cli.add_command(faq_cli)
    app.cli.add_command(agents_cli)
    app.cli.add_command(seed)
    app.cli.add_command(worker)
    app.cli.add_command(insights_cli)
    app.cli.add_command(banner)
    app.cli.add_command(reload_server)
    from ivr.simulator.cli import register

    register(app)
