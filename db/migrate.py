"""Bring a database to the newest schema with Alembic, on first use and after
upgrades."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

MIGRATIONS = Path(__file__).parent / "migrations"

# Any constant will do: it names the lock two PostgreSQL migrators take in turn.
_PG_LOCK_ID = 0x636F6D70


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine) -> None:
    """Apply every migration not yet applied; a no-op on an up-to-date database."""
    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Two first runs at once would both try to create the tables.
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_LOCK_ID}
            )
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
