"""Engines and sessions for SQLite (the embedded default) and PostgreSQL."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

# Long enough for a concurrent writer to finish its transaction: SQLite waits, never
# fails with "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 60_000
READ_ONLY = "compfeed_read_only"


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(connection: Any, _record: Any) -> None:
    # The driver's own BEGIN is deferred; compfeed issues its own (below).
    connection.isolation_level = None
    cursor = connection.cursor()
    # WAL lets readers go on while a run writes; foreign keys are off by default.
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode this never corrupts the file; a power cut may lose the last commits,
    # which the next run writes again from the seeds. It spares an fsync per commit.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # A deferred transaction that reads and then writes fails at once when another
    # writer committed in between; taking the write lock first makes it wait instead.
    # A reader must not take it: SQLite's busy wait is not fair, so a reader queued
    # behind a run would wait for the whole run rather than read the last commit.
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def reading(engine: Engine) -> Engine:
    """The same engine and pool, for transactions that only read: on SQLite they read
    the last commit at once instead of waiting for a writer (WAL)."""
    return engine.execution_options(**{READ_ONLY: True})


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def redacted(url: str) -> str:
    """The URL as it may be shown: never with its password, even when it does not
    parse (then only its scheme is shown)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("://", 1)[0] + "://…" if "://" in url else "(not a URL)"


def reason(exc: DBAPIError) -> str:
    """The driver's own first line about a database error: short, and without the
    statement or the URL that SQLAlchemy's message adds."""
    return str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)


def wait_until_reachable(engine: Engine, attempts: int = 4, delay: float = 1.0) -> None:
    """Connect, retrying with doubling delays while the database cannot be reached;
    the last failure is raised."""
    for attempt in range(1, attempts + 1):
        try:
            with engine.connect():
                return
        except OperationalError as exc:
            if attempt == attempts:
                raise
            log.warning(
                "database %s unreachable (%s); retrying in %.0f s",
                redacted(engine.url.render_as_string(hide_password=False)),
                reason(exc),
                delay,
            )
            time.sleep(delay)
            delay *= 2
