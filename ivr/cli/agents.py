"""The `agents` group: `agents create|password|disable|enable|role|token|list`."""

from __future__ import annotations

import re
import sys

import click
from flask.cli import AppGroup

from ivr.db import get_db

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

    from ivr.agents.auth import end_sessions
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

    from ivr.agents.auth import end_sessions

    password = _new_password()
    with get_db().transaction() as session:
        agent = _agent_named(session, name)
        agent.password_hash = generate_password_hash(password)
        end_sessions(agent)
    click.echo(f"agent {name}: new password; their sessions have ended")


@agents_cli.command("phone")
@click.argument("name")
@click.argument("number", default="")
def agents_phone(name: str, number: str) -> None:
    """Set the phone click-to-call rings for an agent (E.164; none given: no phone). Their password
    and sessions stay as they are."""
    if number and not re.fullmatch(r"\+[0-9]{2,15}", number):
        raise click.ClickException(f"the number must be E.164, like +15550100123, not {number!r}")
    with get_db().transaction() as session:
        _agent_named(session, name).phone = number
    click.echo(f"agent {name}: " + (f"click-to-call rings {number}" if number else "no phone; click-to-call is off"))


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

    from ivr.agents.auth import end_sessions

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
    from ivr.agents.auth import new_api_token

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
