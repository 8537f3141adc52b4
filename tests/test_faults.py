"""Faults: a run killed at any point, a database that cannot be reached, a password
that must never show."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from db.connect import make_engine, reading
from db.migrate import upgrade
from db.schema import Version
from flows.discover import discover
from flows.ingest import ingest_folder
from tests.conftest import ROOT
from tests.test_service import service_env
from tests.test_workers import history_of

RUN = textwrap.dedent(
    """
    import itertools, os, signal, sys
    from datetime import UTC, datetime
    from pathlib import Path
    from db import store
    from db.connect import make_engine
    from db.migrate import upgrade
    import flows.ingest
    from flows.discover import discover
    from flows.ingest import Ingest, ingest_folder
    from flows.publish import publish

    root, url, out = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    # Where this run kills itself: the Nth time a batch of versions is added (its
    # transaction still open), a batch is committed, or a published file is renamed
    # into place. Batches of ten guides show what a kill leaves between them.
    point, nth = sys.argv[4].split(":")
    flows.ingest.WRITE_BATCH = 10
    calls = itertools.count(1)

    def dying(original):
        def call(*args, **kwargs):
            value = original(*args, **kwargs)
            if next(calls) == int(nth):
                os.kill(os.getpid(), signal.SIGKILL)
            return value
        return call

    if point == "adding":
        store.append_versions = dying(store.append_versions)
    elif point == "committed":
        Ingest.write_batch = dying(Ingest.write_batch)
    elif point == "renamed":
        Path.replace = dying(Path.replace)
    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(UTC).replace(microsecond=0)
    ingest_folder(discover(root), root, engine, now=now)
    publish(engine, out, "http://localhost:8000/")
    """
)


def stored(engine: Engine) -> int:
    with Session(reading(engine)) as session:
        return session.scalar(select(func.count()).select_from(Version)) or 0


# Each run is killed at its point, and the next starts from what the last one left.
KILLED_AT = ("adding:1", "committed:1", "adding:5", "committed:10", "renamed:2")


def test_a_run_killed_at_any_point_ends_as_an_uninterrupted_run(
    real_guides: Path, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    out = tmp_path / "public"
    command = [sys.executable, "-c", RUN, str(real_guides), database_url, str(out)]
    seen = []
    for point in KILLED_AT:
        killed = subprocess.run([*command, point], cwd=ROOT, capture_output=True)
        assert killed.returncode == -signal.SIGKILL, (point, killed.stderr.decode())
        seen.append(stored(engine))
    # Nothing half-written: each kill left exactly the batches committed before it.
    assert seen == [0, 10, 50, 150, 224], seen
    finished = subprocess.run(
        [*command, "none:0"], cwd=ROOT, capture_output=True, timeout=300
    )
    assert finished.returncode == 0, finished.stderr.decode()

    reference = make_engine(f"sqlite:///{tmp_path / 'reference.sqlite3'}")
    upgrade(reference)
    ingest_folder(discover(real_guides), real_guides, reference, now=datetime.now(UTC))
    assert history_of(engine) == history_of(reference), f"stored when killed: {seen}"
    assert stored(engine) == 224
    assert not read_feed_problems(out)
    reference.dispose()


def read_feed_problems(out: Path) -> list[str]:
    """Published files that are not whole feeds: a killed publish must leave none."""
    import feedparser

    return [
        str(path)
        for path in (out / "feed.xml", out / "atom.xml")
        if feedparser.parse(path.read_bytes()).bozo
    ]


def test_an_unreachable_database_is_retried_then_reported(tmp_path: Path) -> None:
    (tmp_path / "seeds").mkdir()
    url = "postgresql+psycopg://compfeed:s3cret-word@127.0.0.1:9/history"
    command = [sys.executable, "-m", "flows.cli", "ingest", "--seeds", "seeds"]
    started = time.monotonic()
    done = subprocess.run(
        [*command, "--database-url", url],
        cwd=tmp_path,
        env=service_env(PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert time.monotonic() - started >= 7  # waited 1 + 2 + 4 s between attempts
    assert done.stderr.count("unreachable") == 3
    assert "retrying in 4 s" in done.stderr
    assert (
        "Error: cannot use the database postgresql+psycopg://compfeed:***@127.0.0.1:9/"
        "history: connection failed" in done.stderr
    )
    assert "s3cret" not in done.stdout + done.stderr
    assert not (tmp_path / "public").exists()


def test_a_malformed_url_never_shows_its_password(tmp_path: Path) -> None:
    (tmp_path / "seeds").mkdir()
    done = subprocess.run(
        [
            *(sys.executable, "-m", "flows.cli", "ingest", "--seeds", "seeds"),
            *("--database-url", "postgresql://u:s3cret-word@host:port/db"),
        ],
        cwd=tmp_path,
        env=service_env(PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "Error: not a database URL: postgresql://… (give sqlite:///PATH or "
        "postgresql+psycopg://USER@HOST:PORT/DATABASE)"
    )
