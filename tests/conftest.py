"""Shared fixtures: a fresh database on each backend, guide files in ``tmp_path``, the
real guides from ``../shared``, and a Prefect test server for the session."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

import flows  # noqa: F401  (compfeed's Prefect settings apply before Prefect loads)
from db.connect import make_engine
from db.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "twilio-senior-software-engineer.md"
REALDATA = Path(
    os.environ.get("COMPFEED_REALDATA", ROOT.parent / "shared" / "realdata")
)
REAL_GUIDES = REALDATA / "negotiateup" / "sample-frontmatter-2026-02-23" / "research"
POSTGRES_ADMIN_URL = os.environ.get(
    "COMPFEED_TEST_POSTGRES_URL",
    "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
)
IN_CI = bool(os.environ.get("CI"))


def missing(reason: str) -> None:
    """Under CI a missing service or data set fails the test; elsewhere it skips."""
    if IN_CI:
        pytest.fail(f"{reason} (required under CI)")
    pytest.skip(reason)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database, on SQLite and on the machine's PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'compfeed.sqlite3'}"
        return
    with _fresh_postgres_database() as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


class _fresh_postgres_database:
    """Creates a database of its own for one test and drops it afterwards."""

    def __enter__(self) -> str:
        self.name = f"compfeed_test_{uuid.uuid4().hex[:12]}"
        try:
            self.admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with self.admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{self.name}"'))
        except Exception as exc:
            missing(f"PostgreSQL unreachable at {POSTGRES_ADMIN_URL}: {exc}")
        url = make_url(POSTGRES_ADMIN_URL).set(database=self.name)
        return url.render_as_string(hide_password=False)

    def __exit__(self, *exc: object) -> None:
        with self.admin.connect() as connection:
            connection.execute(
                text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            )
        self.admin.dispose()


@pytest.fixture
def real_guides() -> Path:
    if not REAL_GUIDES.is_dir():
        missing(f"real guides not found at {REAL_GUIDES}")
    return REAL_GUIDES


def guide_data(**changes: Any) -> dict[str, Any]:
    """A valid guide's frontmatter, like the real ones, with ``changes`` applied."""
    data: dict[str, Any] = {
        "company": "acme",
        "company_display": "Acme",
        "role": "data-engineer",
        "role_display": "Data Engineer",
        "role_type": "standard",
        "last_updated": date(2026, 1, 10),
        "data_quality": "high",
        "salary_data_quarter": "2025-Q4",
        "next_review_due": date(2026, 4, 10),
        "compensation": [
            {
                "region": "Berlin",
                "base_low": 70000,
                "base_high": 90000,
                "stock_low": 20000,
                "stock_high": 40000,
                "bonus_pct": 10,
                "total_comp_low": 85000,
                "total_comp_high": 115000,
                "currency": "EUR",
            }
        ],
        "level_mapping": {"internal": None, "raw": "Acme L3 = Google L4"},
        "data_sources": ["Levels.fyi"],
        "negotiation_dna_summary": "Steady demand",
    }
    data.update(changes)
    return data


def guide_text(data: dict[str, Any], body: str = "### Data Engineer | Acme\n") -> str:
    block = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return f"---\n{block}---\n{body}"


WriteGuide = Callable[..., Path]


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    return folder


@pytest.fixture
def write_guide(seeds: Path) -> WriteGuide:
    """Writes a guide file into the seeds folder and returns its path."""

    def write(
        name: str = "acme/data-engineer.md", body: str | None = None, **changes: Any
    ) -> Path:
        path = seeds / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text_ = guide_text(guide_data(**changes), *(() if body is None else (body,)))
        path.write_text(text_, encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[str]:
    """One Prefect test server for the session: flows run for real against it.
    Yields its API URL, for commands run in a subprocess."""
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        temporary_settings,
    )
    from prefect.testing.utilities import prefect_test_harness

    # Measured here: the task run recorder and the heartbeat double a flow test's cost.
    os.environ["PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_ENABLED"] = "false"
    with (
        temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
        prefect_test_harness(server_startup_timeout=120),
    ):
        yield str(PREFECT_API_URL.value())
