"""The Prefect flows. They only compose the stages; the work is in plain functions.

Files are ingested in batches, thousands of files read or a thousand guides stored
per task run, because a task run costs more in orchestration than parsing a file does.

The database URL is never a flow parameter: parameters are stored by the Prefect API,
and the URL may carry a password. Flows read it from ``COMPFEED_DATABASE_URL``.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, ParamSpec, TypeVar, cast

from prefect import State, Task, flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.tasks import exponential_backoff
from prefect.utilities.annotations import quote
from pydantic import Field, PositiveInt
from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from db.connect import make_engine, redacted
from db.migrate import upgrade
from flows import progress
from flows.discover import discover
from flows.ingest import WRITE_BATCH, Ingest, Scanned, ToRead, batches, unread
from flows.publish import Written, publish
from flows.settings import Settings
from flows.snapshot import ChangeKind
from flows.verdict import FileResult, Outcome

# What the imports above made, Prefect's objects above all (some 220,000), lives as
# long as the process: kept out of the cyclic collector's full passes from now on,
# which walked it again on each one, about a second of a first ingest of 10,000 guides.
gc.freeze()

# Files per read task run, and transactions (of WRITE_BATCH changed guides) per
# write task run. A task run costs about 35 ms of CPU, a fifth in this process and
# the rest in the Prefect API server recording it, on the same cores; 2,500 files
# take about a second to read and parse on two cores, 1,000 guides about half a
# second to store.
READ_BATCH = 2500
WRITES_PER_TASK = 4


class RunReport:
    """What a run did: a verdict per file, and the files it published.

    A plain class rather than a dataclass: Prefect walks through a flow's return value
    looking for futures, into lists and dataclasses but not into other objects, and
    at 10,000 files that walk cost 0.6 s a run."""

    __slots__ = ("published", "results")

    def __init__(
        self,
        results: list[FileResult] | None = None,
        published: list[Written] | None = None,
    ) -> None:
        self.results = [] if results is None else results
        self.published = [] if published is None else published

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


P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

# A guide, or a pattern of guides: ``twilio/senior-software-engineer``, ``twilio/*``.
GuidePattern = Annotated[str, Field(pattern=r"^[a-z0-9*?\[\]-]+/[a-z0-9*?\[\]-]+$")]


def transient_database_error(task: Any, task_run: Any, state: State[Any]) -> bool:
    """Retry a task only when the database was unreachable or busy, never for data."""
    try:
        state.result()
    except (OperationalError, InterfaceError):
        return True
    except Exception:
        return False
    return False


def _retrying_task(name: str) -> Callable[[Callable[P, R]], Task[P, R]]:
    """A task retried with backoff (2, 4, 8, 16 s, jittered) on transient database
    errors; its results are never cached: every run reads the files afresh."""
    return task(
        name=name,
        retries=4,
        retry_delay_seconds=exponential_backoff(backoff_factor=2),
        retry_jitter_factor=0.5,
        retry_condition_fn=transient_database_error,
        cache_policy=NO_CACHE,
    )


@_retrying_task("prepare-database")
def prepare_database(url: str) -> Engine:
    """An engine on an up-to-date schema; retried while the database is unreachable."""
    engine = make_engine(url)
    try:
        upgrade(engine)
    except Exception:
        engine.dispose()
        raise
    return engine


def opaque(value: T) -> T:
    """A task argument Prefect passes on without walking through it: it looks for
    futures in arguments, and at 10,000 files that walk cost 80 s a run."""
    return cast(T, quote(value))


@contextmanager
def _database(url: str) -> Iterator[Engine]:
    """The history database for one flow run. Closing it at the end lets SQLite fold
    its write-ahead log back into the database file."""
    engine = prepare_database(url)
    try:
        yield engine
    finally:
        engine.dispose()


@_retrying_task("read-batch")
def read_batch(job: Ingest, files: list[ToRead]) -> list[Scanned]:
    return job.read(files)


@_retrying_task("write-batches")
def write_batches(job: Ingest, batches: list[list[Scanned]]) -> None:
    job.write_batches(batches)


@_retrying_task("retire-missing")
def retire_missing(job: Ingest, scanned: list[Scanned]) -> list[FileResult]:
    return job.retire_missing(scanned)


@_retrying_task("publish")
def publish_feeds(engine: Engine, settings: Settings) -> list[Written]:
    return publish(engine, settings.out, settings.base_url, settings.feed_window)


def _ingest(
    engine: Engine, settings: Settings, force: bool, guides: list[str] | None
) -> list[FileResult]:
    logger = get_run_logger()
    paths = discover(settings.seeds)
    logger.info(
        "ingesting %d file(s) from %s into %s%s",
        len(paths),
        settings.seeds,
        redacted(settings.database_url),
        f", only {', '.join(guides)}" if guides else "",
    )
    # One time for the whole run, in whole seconds as feeds show it.
    now = datetime.now(UTC).replace(microsecond=0)
    patterns = None if guides is None else tuple(guides)
    with Ingest(settings.seeds, engine, now, force, flow_run.get_id(), patterns) as job:
        # Unchanged files are known from their signatures, here; task runs read
        # only the others, so a run with nothing changed makes none.
        looked = job.look(paths)
        files = unread(looked)
        progress.current().start("reading", len(files))
        # Submitted together, so that the reading processes never wait on the
        # orchestration of one task run before the next.
        reads = [
            read_batch.submit(opaque(job), opaque(batch))
            for batch in batches(files, READ_BATCH)
        ]
        scanned = job.merge(looked, [item for r in reads for item in r.result()])
        progress.current().start("storing", len(scanned))
        # Task runs only for files with something to store.
        pending = job.to_write(scanned, job.conflicts(scanned))
        writes = list(batches(pending, WRITE_BATCH))
        for some in batches(writes, WRITES_PER_TASK):
            write_batches(opaque(job), opaque(some))
        job.report(scanned)
        retired = retire_missing(opaque(job), opaque(scanned))
        results = [item.result for item in scanned] + retired
        job.flag_overdue()
        job.finish(results)
    return results


@flow(name="compfeed-run", validate_parameters=True)
def run_flow(
    force: bool = False,
    guides: list[GuidePattern] | None = None,
    seeds: str | None = None,
    out: str | None = None,
    base_url: str | None = None,
    feed_window: PositiveInt | None = None,
) -> RunReport:
    """Ingest the seeds folder, version and compare what changed, then publish.

    ``guides`` limits the run to some guides (``company/role``, or ``company/*``).
    """
    settings = Settings.load(
        seeds=seeds, out=out, base_url=base_url, feed_window=feed_window
    )
    with _database(settings.database_url) as engine:
        report = RunReport(results=_ingest(engine, settings, force, guides))
        report.published = publish_feeds(engine, settings)
    _summary_artifact(report)
    return report


@flow(name="compfeed-ingest", validate_parameters=True)
def ingest_flow(
    force: bool = False,
    guides: list[GuidePattern] | None = None,
    seeds: str | None = None,
) -> RunReport:
    """Ingest the seeds folder into the history, without publishing."""
    settings = Settings.load(seeds=seeds)
    with _database(settings.database_url) as engine:
        report = RunReport(results=_ingest(engine, settings, force, guides))
    _summary_artifact(report)
    return report


@flow(name="compfeed-publish", validate_parameters=True)
def publish_flow(
    out: str | None = None,
    base_url: str | None = None,
    feed_window: PositiveInt | None = None,
) -> RunReport:
    """Publish the feeds, changelog and pages from the stored history."""
    settings = Settings.load(out=out, base_url=base_url, feed_window=feed_window)
    with _database(settings.database_url) as engine:
        return RunReport(published=publish_feeds(engine, settings))


def summary_markdown(report: RunReport) -> str:
    """The run at a glance: counts, rejected files with reasons, what moved."""
    counts = {o: report.count(o) for o in Outcome if o != Outcome.OK}
    kinds = report.kinds()
    lines = ["# compfeed run", "", "| outcome | files |", "|---|---|"]
    lines += [f"| {outcome} | {n} |" for outcome, n in counts.items()]
    shown = [kind for kind in ChangeKind if kind in kinds or kind in _MAIN_KINDS]
    lines += ["", "| change | versions |", "|---|---|"]
    lines += [f"| {kind} | {kinds.get(kind, 0)} |" for kind in shown]
    rejected = [r for r in report.results if r.outcome == Outcome.REJECTED]
    if rejected:
        lines += ["", "## Rejected", ""]
        lines += [f"- `{p.describe(r.path)}`" for r in rejected for p in r.errors]
    moved = [r for r in report.results if r.headline]
    if moved:
        lines += ["", "## Quarter over quarter", ""]
        lines += [f"- **{r.guide}**: {r.headline}" for r in moved]
    return "\n".join(lines) + "\n"


_MAIN_KINDS = {"new", "updated", "corrected", "reviewed"}


def _summary_artifact(report: RunReport) -> None:
    create_markdown_artifact(
        markdown=summary_markdown(report),
        key="compfeed-run-summary",
        description="Counts per outcome, rejected files, quarter-over-quarter moves",
    )
