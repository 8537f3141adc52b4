"""Alembic's entry point: migrates the connection compfeed hands over, or the database
named by ``sqlalchemy.url`` when the ``alembic`` command is run by hand."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, engine_from_config, pool

from db.schema import Base

config = context.config


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot alter most constraints in place; batch mode copies the table.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


given = config.attributes.get("connection")
if given is not None:
    _migrate(given)
else:
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as connection:
        _migrate(connection)
