"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, select
from sqlalchemy.orm import Session

from db.connect import make_engine
from db.migrate import alembic_config, upgrade
from db.schema import Base, QoqChange, Version
from db.store import count_rows
from tests.conftest import WriteGuide
from tests.test_ingest import T1, T2, ingest


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_is_idempotent_and_at_head(engine: Engine) -> None:
    upgrade(engine)
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head
    assert set(inspect(engine).get_table_names()) >= {
        "guides",
        "versions",
        "comp_rows",
        "qoq_changes",
        "events",
    }


@pytest.fixture
def first_schema(database_url: str) -> Iterator[Engine]:
    """A database with the first revision's schema only, as compfeed 0.1 left it."""
    engine = make_engine(database_url)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    yield engine
    engine.dispose()


def test_an_existing_history_upgrades_and_goes_on(
    first_schema: Engine, seeds: Path, write_guide: WriteGuide
) -> None:
    write_guide()
    ingest(seeds, first_schema, now=T1)
    before = count_rows(first_schema)
    assert "ix_qoq_changes_to_quarter" in {
        index["name"] for index in inspect(first_schema).get_indexes("qoq_changes")
    }

    upgrade(first_schema)

    test_migrated_schema_matches_the_models(first_schema)
    assert count_rows(first_schema) == before
    write_guide(salary_data_quarter="2026-Q1", last_updated="2026-04-01")
    ingest(seeds, first_schema, now=T2)
    with Session(first_schema) as session:
        assert list(session.scalars(select(Version.kind).order_by(Version.id))) == [
            "new",
            "updated",
        ]
        assert session.scalar(select(QoqChange.to_quarter).limit(1)) == "2026-Q1"
