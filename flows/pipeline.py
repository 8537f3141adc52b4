"""The Prefect flows. They only compose the stages; the work is in plain functions.

Files are ingested in batches, one task run per batch, because a task run per file
costs more in orchestration than parsing the file does.

The database URL is never a flow parameter: parameters are stored by the Prefect API,
and the URL may carry a password. Flows read it from ``COMPFEED_DATABASE_URL``.
"""

from __future__ import annotations

import functools
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
from flows.ingest import ingest_paths
from flows.publish import publish
from flows.settings import Settings
from flows.verdict import FileResult, Outcome

BATCH_SIZE = 250


@dataclass
class RunReport:
    results: list[FileResult] = field(default_factory=list)
    published: list[Path] = field(default_factory=list)

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


@functools.cache
def _engine(url: str) -> Engine:
    engine = make_engine(url)
    upgrade(engine)
    return engine


@task(name="ingest-batch", cache_policy=NO_CACHE)
def ingest_batch(
    paths: list[Path], seeds: Path, force: bool, now: datetime
) -> list[FileResult]:
    settings = Settings.load()
    return ingest_paths(
        paths,
        seeds,
        _engine(settings.database_url),
        now=now,
        force=force,
        flow_run_id=flow_run.get_id(),
    )


@task(name="publish", cache_policy=NO_CACHE)
def publish_feeds(out: Path, base_url: str) -> list[Path]:
    return publish(_engine(Settings.load().database_url), out, base_url)


def _ingest(settings: Settings, force: bool) -> list[FileResult]:
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
    results: list[FileResult] = []
    for start in range(0, len(paths), BATCH_SIZE):
        results += ingest_batch(
            paths[start : start + BATCH_SIZE], settings.seeds, force, now
        )
    return results


@flow(name="compfeed-run")
def run_flow(
    force: bool = False,
    seeds: str | None = None,
    out: str | None = None,
    base_url: str | None = None,
) -> RunReport:
    """Ingest the seeds folder, version and compare what changed, then publish."""
    settings = Settings.load(seeds=seeds, out=out, base_url=base_url)
    report = RunReport(results=_ingest(settings, force))
    report.published = publish_feeds(settings.out, settings.base_url)
    return report


@flow(name="compfeed-ingest")
def ingest_flow(force: bool = False, seeds: str | None = None) -> RunReport:
    """Ingest the seeds folder into the history, without publishing."""
    return RunReport(results=_ingest(Settings.load(seeds=seeds), force))


@flow(name="compfeed-publish")
def publish_flow(out: str | None = None, base_url: str | None = None) -> RunReport:
    """Publish the feeds and changelog from the stored history."""
    settings = Settings.load(out=out, base_url=base_url)
    return RunReport(published=publish_feeds(settings.out, settings.base_url))
