"""The Prefect flows. They only compose the stages; the work is in plain functions.

Files are ingested in batches, one task run per batch, because a task run per file
costs more in orchestration than parsing the file does.

The database URL is never a flow parameter: parameters are stored by the Prefect API,
and the URL may carry a password. Flows read it from ``COMPFEED_DATABASE_URL``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from sqlalchemy import Engine

from db.connect import make_engine, redacted
from db.migrate import upgrade
from flows.discover import discover
from flows.ingest import Ingest, Scanned, batches
from flows.publish import Written, publish
from flows.settings import Settings
from flows.verdict import FileResult, Outcome

BATCH_SIZE = 250


@dataclass
class RunReport:
    results: list[FileResult] = field(default_factory=list)
    published: list[Written] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)

    def kinds(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for result in self.results:
            if result.kind:
                counts[result.kind] = counts.get(result.kind, 0) + 1
        return counts

    @property
    def failed(self) -> bool:
        return self.count(Outcome.REJECTED) > 0


@contextmanager
def _database(url: str) -> Iterator[Engine]:
    """The history database for one flow run, brought up to date first. Closing it
    at the end lets SQLite fold its write-ahead log back into the database file."""
    engine = make_engine(url)
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()


@task(name="scan-batch", cache_policy=NO_CACHE)
def scan_batch(job: Ingest, paths: list[Path]) -> list[Scanned]:
    return job.scan(paths)


@task(name="write-batch", cache_policy=NO_CACHE)
def write_batch(
    job: Ingest, scanned: list[Scanned], conflicts: dict[str, list[str]]
) -> None:
    job.write(scanned, conflicts)


@task(name="retire-missing", cache_policy=NO_CACHE)
def retire_missing(job: Ingest, scanned: list[Scanned]) -> list[FileResult]:
    return job.retire_missing(scanned)


@task(name="publish", cache_policy=NO_CACHE)
def publish_feeds(engine: Engine, settings: Settings) -> list[Written]:
    return publish(engine, settings.out, settings.base_url, settings.feed_window)


def _ingest(engine: Engine, settings: Settings, force: bool) -> list[FileResult]:
    logger = get_run_logger()
    paths = discover(settings.seeds)
    logger.info(
        "ingesting %d file(s) from %s into %s",
        len(paths),
        settings.seeds,
        redacted(settings.database_url),
    )
    # One time for the whole run, in whole seconds as feeds show it.
    now = datetime.now(UTC).replace(microsecond=0)
    with Ingest(settings.seeds, engine, now, force, flow_run.get_id()) as job:
        scanned: list[Scanned] = []
        for batch in batches(paths, BATCH_SIZE):
            scanned += scan_batch(job, batch)
        conflicts = job.conflicts(scanned)
        for batch in batches(scanned, BATCH_SIZE):
            write_batch(job, batch, conflicts)
        results = [item.result for item in scanned] + retire_missing(job, scanned)
        job.flag_overdue()
        job.finish(results)
    return results


@flow(name="compfeed-run")
def run_flow(
    force: bool = False,
    seeds: str | None = None,
    out: str | None = None,
    base_url: str | None = None,
    feed_window: int | None = None,
) -> RunReport:
    """Ingest the seeds folder, version and compare what changed, then publish."""
    settings = Settings.load(
        seeds=seeds, out=out, base_url=base_url, feed_window=feed_window
    )
    with _database(settings.database_url) as engine:
        report = RunReport(results=_ingest(engine, settings, force))
        report.published = publish_feeds(engine, settings)
    return report


@flow(name="compfeed-ingest")
def ingest_flow(force: bool = False, seeds: str | None = None) -> RunReport:
    """Ingest the seeds folder into the history, without publishing."""
    settings = Settings.load(seeds=seeds)
    with _database(settings.database_url) as engine:
        return RunReport(results=_ingest(engine, settings, force))


@flow(name="compfeed-publish")
def publish_flow(
    out: str | None = None, base_url: str | None = None, feed_window: int | None = None
) -> RunReport:
    """Publish the feeds, changelog and pages from the stored history."""
    settings = Settings.load(out=out, base_url=base_url, feed_window=feed_window)
    with _database(settings.database_url) as engine:
        return RunReport(published=publish_feeds(engine, settings))
