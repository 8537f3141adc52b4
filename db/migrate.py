"""Bring a database to the newest schema with Alembic, on first use and after
upgrades."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from db.connect import reading

MIGRATIONS = Path(__file__).parent / "migrations"

# Any constant will do: it names the lock two PostgreSQL migrators take in turn.
_PG_LOCK_ID = 0x636F6D70


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def is_current(engine: Engine, config: Config | None = None) -> bool:
    """Whether the database already has the newest schema; asked without a write lock,
    so that a reader does not wait for a run that is writing."""
    heads = ScriptDirectory.from_config(config or alembic_config()).get_heads()
    with reading(engine).connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    return set(current) == set(heads)


def has_history(engine: Engine) -> bool:
    """Whether compfeed's migrations were ever applied to this database."""
    with reading(engine).connect() as connection:
        return bool(MigrationContext.configure(connection).get_current_heads())


def upgrade(engine: Engine) -> None:
    """Apply every migration not yet applied; a no-op on an up-to-date database."""
    config = alembic_config()
    if is_current(engine, config):
        return
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Two first runs at once would both try to create the tables.
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_LOCK_ID}
            )
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
