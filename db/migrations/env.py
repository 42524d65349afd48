"""Alembic environment: the URL comes from the app's settings, the schema from ivr.models."""

from __future__ import annotations

from alembic import context

from ivr.db import make_engine
from ivr.models import Base, modelled

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True, include_name=modelled
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
