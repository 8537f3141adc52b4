"""compfeed's benchmark: time and peak memory of each stage on a synthetic corpus.

    .venv/bin/python -m tests.bench [--guides N] [--database sqlite|postgresql|both]

Writes a corpus shaped like the real guides (``tests.corpus``), then measures, on each
database: a full first ingest, a re-run with nothing changed, a run with 1% of the
files changed, a next-quarter run and a publish of everything through the plain
functions (``flows.ingest.ingest_folder``, ``flows.publish.publish``); then, with the
history grown to 100,000 events, a publish of those, one with nothing new, and a 1%
change ingested and published; on PostgreSQL, the database server's CPU time per
step; Prefect's start-up (a flow run on an empty folder, with a temporary
Prefect server as ``compfeed run`` uses); and ``compfeed run`` on the shipped seeds
with nothing changed, cold and warm. The same steps run through the Prefect flows
(``flows.pipeline``) too: by default the first ingest, the re-run and publish on
SQLite (``--prefect light``, which keeps the whole run near 15 minutes on 2 cores),
or every step on every database (``--prefect full``).

Every measured step runs in a fresh Python process, so that its peak RSS is its own.
The floor is reading, parsing and validating the same files in one plain loop, with no
database and no Prefect; every time is also given as a ratio to it. A Prefect step
starts from a copy of the database the plain step started from, so both do the same
work. The file name keeps pytest from collecting this module.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
POSTGRES_ADMIN_URL = os.environ.get(
    "COMPFEED_BENCH_POSTGRES_URL",
    "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
)
BASE_URL = "http://localhost:8000/"
SYNTHETIC_RUN = "synthetic-history"

# The child steps import what they need themselves: this module's own imports stay
# in the standard library, so that a step's time and memory are the step's.


# The child side: one measured step per process


@dataclass
class StepResult:
    seconds: float  # the measured call alone
    cpu: float  # user + system time of the whole process
    rss_mb: float  # this process's peak resident memory
    statements: int | None = None  # SQL statements sent to compfeed's database
    files: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class StatementCounter:
    """Counts statements sent by every engine whose URL names ``database``, COPY
    included."""

    def __init__(self, database: str | None) -> None:
        self.count = 0
        self._database = database
        self._ours: dict[int, bool] = {}

    def install(self) -> None:
        import psycopg
        from sqlalchemy import Engine, event

        event.listen(Engine, "before_cursor_execute", self._seen)
        # COPY goes to the driver itself, past SQLAlchemy's events: counted here.
        copy = psycopg.Cursor.copy

        def counted(cursor: psycopg.Cursor[Any], *args: Any, **kwargs: Any) -> Any:
            if cursor.connection.info.dbname == self._database:
                self.count += 1
            return copy(cursor, *args, **kwargs)

        setattr(psycopg.Cursor, "copy", counted)  # noqa: B010

    def _seen(self, connection: Any, *args: Any) -> None:
        engine = connection.engine
        ours = self._ours.get(id(engine))
        if ours is None:
            ours = self._ours[id(engine)] = engine.url.database == self._database
        if ours:
            self.count += 1


def _database_name(url: str | None) -> str | None:
    if url is None:
        return None
    from sqlalchemy.engine import make_url

    return make_url(url).database


def postgres_cpu_seconds() -> float | None:
    """User + system time of this machine's PostgreSQL processes so far, the exited
    backends included (the server's main process counts its reaped children)."""
    total, found = 0, False
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # gone while listing
        if text[text.index("(") + 1 : text.rindex(")")] != "postgres":
            continue
        # utime, stime, cutime, cstime: the 14th to 17th fields of proc(5).
        fields = text[text.rindex(")") + 2 :].split()
        total += sum(int(value) for value in fields[11:15])
        found = True
    return total / os.sysconf("SC_CLK_TCK") if found else None


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC).replace(microsecond=0)


def child_floor(args: dict[str, Any]) -> StepResult:
    from flows.parse import ParsedGuide, parse_guide

    root = Path(args["root"])
    start = time.perf_counter()
    paths = sorted(root.rglob("*.md"))
    parsed = 0
    for path in paths:
        if isinstance(parse_guide(path.as_posix(), path.read_bytes()), ParsedGuide):
            parsed += 1
    seconds = time.perf_counter() - start
    return StepResult(
        seconds, _cpu_seconds(), _peak_rss_mb(), files=len(paths), extra={"ok": parsed}
    )


def child_prepare(args: dict[str, Any]) -> StepResult:
    """An up-to-date, empty schema (not measured)."""
    from db.connect import make_engine
    from db.migrate import upgrade

    engine = make_engine(args["url"])
    start = time.perf_counter()
    upgrade(engine)
    seconds = time.perf_counter() - start
    engine.dispose()
    return StepResult(seconds, _cpu_seconds(), _peak_rss_mb())


def child_ingest(args: dict[str, Any]) -> StepResult:
    import flows  # noqa: F401  (compfeed's Prefect defaults, as every entry point)
    from db.connect import make_engine
    from db.migrate import upgrade
    from flows.discover import discover
    from flows.ingest import count_outcomes, ingest_folder

    root = Path(args["root"])
    engine = make_engine(args["url"])
    upgrade(engine)
    counter = StatementCounter(_database_name(args["url"]))
    counter.install()
    start = time.perf_counter()
    paths = discover(root)
    listed = time.perf_counter() - start
    results = ingest_folder(paths, root, engine, now=_now())
    seconds = time.perf_counter() - start
    engine.dispose()
    return StepResult(
        seconds,
        _cpu_seconds(),
        _peak_rss_mb(),
        counter.count,
        len(paths),
        {"discover": listed, "counts": count_outcomes(results)},
    )


@contextmanager
def _local_flow_settings() -> Iterator[None]:
    """What ``compfeed run`` does around a flow call: the compfeed loggers at INFO
    and no heartbeat thread."""
    import logging

    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    for name in ("flows", "db"):
        logging.getLogger(name).setLevel(logging.INFO)
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def child_prefect_ingest(args: dict[str, Any]) -> StepResult:
    os.environ["COMPFEED_DATABASE_URL"] = args["url"]
    imported = time.perf_counter()
    import flows  # noqa: F401
    from flows.ingest import count_outcomes
    from flows.pipeline import ingest_flow

    imported = time.perf_counter() - imported
    counter = StatementCounter(_database_name(args["url"]))
    counter.install()
    with _local_flow_settings():
        start = time.perf_counter()
        report = ingest_flow(force=False, seeds=args["root"])
        seconds = time.perf_counter() - start
        extra: dict[str, Any] = {
            "import": imported,
            "counts": count_outcomes(report.results),
        }
        if args.get("again"):
            # A second flow run in the same process: the per-run cost, server up.
            start = time.perf_counter()
            ingest_flow(force=False, seeds=args["root"])
            extra["second_call"] = time.perf_counter() - start
    return StepResult(
        seconds,
        _cpu_seconds(),
        _peak_rss_mb(),
        counter.count,
        len(report.results),
        extra,
    )


def child_publish(args: dict[str, Any]) -> StepResult:
    from db.connect import make_engine
    from flows.publish import publish

    engine = make_engine(args["url"])
    counter = StatementCounter(_database_name(args["url"]))
    counter.install()
    start = time.perf_counter()
    written = publish(engine, Path(args["out"]), BASE_URL)
    seconds = time.perf_counter() - start
    engine.dispose()
    extra = {"files": len(written), "changed": sum(w.changed for w in written)}
    return StepResult(
        seconds, _cpu_seconds(), _peak_rss_mb(), counter.count, extra=extra
    )


def child_prefect_publish(args: dict[str, Any]) -> StepResult:
    os.environ["COMPFEED_DATABASE_URL"] = args["url"]
    import flows  # noqa: F401
    from flows.pipeline import publish_flow

    counter = StatementCounter(_database_name(args["url"]))
    counter.install()
    with _local_flow_settings():
        start = time.perf_counter()
        publish_flow(out=args["out"], base_url=BASE_URL)
        seconds = time.perf_counter() - start
    return StepResult(seconds, _cpu_seconds(), _peak_rss_mb(), counter.count)


def child_seed_events(args: dict[str, Any]) -> StepResult:
    """Synthetic history (not measured): a ``reviewed`` version and its event per
    row, older than the real ones, until ``events`` events are stored."""
    from datetime import timedelta

    from sqlalchemy import func, insert, select

    from db.connect import make_engine
    from db.schema import Event, Guide, Version
    from db.store import refresh_statistics

    engine = make_engine(args["url"])
    start = time.perf_counter()
    with engine.begin() as connection:
        stored = connection.scalar(select(func.count()).select_from(Event)) or 0
        wanted = int(args["events"]) - stored
        latest: dict[int, tuple[int, int]] = {}
        rows = connection.execute(
            select(Version.guide_id, Version.number, Version.snapshot_id)
        )
        for guide_id, number, snapshot_id in rows:
            if guide_id not in latest or number > latest[guide_id][0]:
                latest[guide_id] = (number, snapshot_id)
        names: dict[int, str] = {
            guide_id: name
            for guide_id, name in connection.execute(
                select(Guide.id, Guide.company + "/" + Guide.role)
            )
        }
        oldest = connection.scalar(select(func.min(Event.occurred_at))) or _now()
        guides = sorted(latest)
        versions = []
        for row in range(max(wanted, 0)):
            guide_id = guides[row % len(guides)]
            number, snapshot_id = latest[guide_id]
            latest[guide_id] = (number + 1, snapshot_id)
            versions.append(
                {
                    "guide_id": guide_id,
                    "number": number + 1,
                    "kind": "reviewed",
                    "snapshot_id": snapshot_id,
                    "changed_fields": ["last_updated", "next_review_due"],
                    "ingested_at": oldest - timedelta(hours=1 + row // 40),
                    "source_path": f"{names[guide_id]}.md",
                    "source_sha256": None,
                    "flow_run_id": SYNTHETIC_RUN,
                    "run_id": None,
                }
            )
        for chunk in range(0, len(versions), 5000):
            connection.execute(insert(Version), versions[chunk : chunk + 5000])
        added = connection.execute(
            select(Version.id, Version.guide_id, Version.ingested_at).where(
                Version.flow_run_id == SYNTHETIC_RUN
            )
        ).all()
        events = [
            {
                "guide_id": guide_id,
                "version_id": version_id,
                "kind": "reviewed",
                "occurred_at": at,
                "title": f"{names[guide_id]}: reviewed",
                "headline": "reviewed, figures unchanged; next review due later",
            }
            for version_id, guide_id, at in added
        ]
        for chunk in range(0, len(events), 5000):
            connection.execute(insert(Event), events[chunk : chunk + 5000])
        total = connection.scalar(select(func.count()).select_from(Event))
    # A history this long grew over many runs, and autovacuum analysed it meanwhile.
    refresh_statistics(engine)
    seconds = time.perf_counter() - start
    engine.dispose()
    return StepResult(seconds, _cpu_seconds(), _peak_rss_mb(), extra={"events": total})


def child_count(args: dict[str, Any]) -> StepResult:
    from db.connect import make_engine
    from db.store import count_rows

    engine = make_engine(args["url"])
    counts = count_rows(engine)
    engine.dispose()
    return StepResult(0.0, _cpu_seconds(), _peak_rss_mb(), extra=counts)


CHILD_STEPS: dict[str, Callable[[dict[str, Any]], StepResult]] = {
    "floor": child_floor,
    "prepare": child_prepare,
    "ingest": child_ingest,
    "prefect-ingest": child_prefect_ingest,
    "publish": child_publish,
    "prefect-publish": child_prefect_publish,
    "seed-events": child_seed_events,
    "count": child_count,
}


# The parent side: the corpus, the databases and the order of the steps


@dataclass
class Measure:
    step: str
    backend: str
    seconds: float
    wall: float  # the whole process: interpreter, imports, the step, exit
    cpu: float
    rss_mb: float
    tree_rss_mb: float  # the largest of the process and its children (Prefect's server)
    statements: int | None = None
    files: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Bench:
    def __init__(self, work: Path, guides: int, seed: int) -> None:
        self.work = work
        self.guides = guides
        self.seed = seed
        self.corpus = work / "corpus"
        self.logs = work / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.measures: list[Measure] = []
        self.step = 0  # the corpus's quarter step, which edits start from
        self.notes: list[str] = []
        self._count = 0
        self.prefect_home = work / "prefect-home"
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PREFECT_", "COMPFEED_"))
        }
        self.env["PREFECT_HOME"] = str(self.prefect_home)

    def say(self, text: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)

    def child(
        self,
        step: str,
        backend: str,
        label: str | None = None,
        env: dict[str, str] | None = None,
        **args: Any,
    ) -> Measure:
        """Run one step in a fresh process; record it when ``label`` is given."""
        self._count += 1
        name = f"{self._count:02d}-{step}-{backend}"
        result_file = self.work / "results" / f"{name}.json"
        result_file.parent.mkdir(exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "tests.bench",
            "--child",
            step,
            "--child-args",
            json.dumps(args),
            "--result",
            str(result_file),
        ]
        log = self.logs / f"{name}.log"
        server_before = postgres_cpu_seconds() if backend == "postgresql" else None
        measure = self._spawn(command, log, env or self.env)
        data = json.loads(result_file.read_text())
        server_after = postgres_cpu_seconds() if backend == "postgresql" else None
        if server_before is not None and server_after is not None:
            # What the step cost the database server: where several workers meet.
            data["extra"]["db_cpu"] = server_after - server_before
        found = Measure(
            label or step,
            backend,
            data["seconds"],
            measure[0],
            data["cpu"],
            data["rss_mb"],
            measure[1],
            data["statements"],
            data["files"],
            data["extra"],
        )
        if label:
            self.measures.append(found)
            self.say(
                f"{label} [{backend}]: {found.seconds:.2f} s, "
                f"{found.rss_mb:.0f} MB, {found.statements} statements"
            )
        return found

    def _spawn(
        self, command: list[str], log: Path, env: dict[str, str], cwd: Path = ROOT
    ) -> tuple[float, float]:
        """Wall seconds and peak RSS (MB) of the process and its reaped children."""
        with log.open("wb") as out:
            start = time.perf_counter()
            process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd
            )
            _, status, usage = os.wait4(process.pid, 0)
            wall = time.perf_counter() - start
            process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{' '.join(command)} failed; {log}:\n{tail}")
        return wall, usage.ru_maxrss / 1024

    # Databases

    def database(self, backend: str, name: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{self.work / (name + '.sqlite3')}"
        from sqlalchemy.engine import make_url

        url = make_url(POSTGRES_ADMIN_URL).set(database=f"compfeed_bench_{name}")
        return url.render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{parsed.database}{suffix}").unlink(missing_ok=True)
            return
        self._admin(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')

    def create(self, url: str, template: str | None = None) -> None:
        """An empty database, or a copy of ``template``'s."""
        from sqlalchemy.engine import make_url

        self.drop(url)
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            if template is not None:
                source = str(make_url(template).database)
                for suffix in ("", "-wal"):
                    if Path(source + suffix).exists():
                        shutil.copyfile(source + suffix, f"{parsed.database}{suffix}")
            return
        copy = "" if template is None else f' TEMPLATE "{make_url(template).database}"'
        self._admin(f'CREATE DATABASE "{parsed.database}"{copy}')

    def _admin(self, sql: str) -> None:
        from sqlalchemy import create_engine, text

        engine = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                connection.execute(text(sql))
        finally:
            engine.dispose()

    # The steps

    def write_corpus(self, step: int) -> None:
        from tests.corpus import write_corpus

        start = time.perf_counter()
        stats = write_corpus(self.corpus, self.guides, self.seed, step)
        self.step = step
        self.say(
            f"corpus at quarter step {step}: {stats.written} written, "
            f"{stats.unchanged} unchanged, {stats.removed} removed, "
            f"{stats.total_bytes / 1e6:.1f} MB ({time.perf_counter() - start:.1f} s)"
        )

    def edit_corpus(self, fraction: float) -> None:
        from tests.corpus import edit

        stats = edit(self.corpus, self.guides, fraction, self.seed, self.step)
        self.say(f"corpus: {stats.written} file(s) corrected")

    def floor(self) -> Measure:
        self.write_corpus(0)
        # A first read warms the page cache for every later step alike.
        self.child("floor", "-", root=str(self.corpus))
        return self.child("floor", "-", FLOOR, root=str(self.corpus))

    def warm_prefect(self) -> None:
        """A first flow run creates Prefect's own database under PREFECT_HOME; that
        one-off cost is measured by the cold ``compfeed run``, not here."""
        empty = self.work / "empty-seeds"
        empty.mkdir(exist_ok=True)
        url = self.database("sqlite", "warm-up")
        self.child("prefect-ingest", "sqlite", url=url, root=str(empty))
        self.drop(url)

    def backend(self, backend: str, prefect: str) -> None:
        """Every step on one database; through Prefect too, as ``prefect`` says."""
        plain, flowed = self.database(backend, "plain"), self.database(backend, "flow")
        self.write_corpus(0)
        self.create(plain)
        self.child("prepare", backend, url=plain)
        root = str(self.corpus)

        def pair(label: str, step: str, **args: Any) -> None:
            through_prefect = prefect == "full" or (
                prefect == "light" and backend == "sqlite" and label in LIGHT
            )
            if through_prefect:
                self.create(flowed, template=plain)
            self.child(step, backend, f"{label} (plain)", url=plain, **args)
            if through_prefect:
                self.child(
                    "prefect-" + step, backend, f"{label} (Prefect)", url=flowed, **args
                )

        pair(FIRST, "ingest", root=root)
        pair(RERUN, "ingest", root=root)
        self.edit_corpus(0.01)
        pair(ONE_PERCENT, "ingest", root=root)
        self.write_corpus(1)
        pair(NEXT_QUARTER, "ingest", root=root)
        out = self.work / f"public-{backend}"
        pair(PUBLISH, "publish", out=str(out))
        counts = self.child("count", backend, url=plain).extra
        self.notes.append(f"{backend} history after the next quarter: {counts}")
        seeded = self.child("seed-events", backend, url=plain, events=EVENTS)
        self.say(f"seeded history: {seeded.extra['events']} events")
        # Every guide gained versions (reviews: pages move, charts do not), then a
        # publish with nothing new, then one after 1% of the files changed, and one
        # after 0.1% did.
        self.child("publish", backend, PUBLISH_100K, url=plain, out=str(out))
        self.child("publish", backend, PUBLISH_NOTHING, url=plain, out=str(out))
        self.edit_corpus(0.01)
        self.child("ingest", backend, LONG_ONE_PERCENT, url=plain, root=root)
        self.child("publish", backend, PUBLISH_ONE_PERCENT, url=plain, out=str(out))
        self.edit_corpus(0.001)
        self.child("ingest", backend, LONG_FEW, url=plain, root=root)
        self.child("publish", backend, PUBLISH_FEW, url=plain, out=str(out))
        self.drop(flowed)
        self.drop(plain)
        if prefect != "none":
            self.startup(backend)

    def startup(self, backend: str) -> None:
        """Prefect's fixed cost: a flow run on an empty folder, and a second one."""
        empty = self.work / "empty-seeds"
        empty.mkdir(exist_ok=True)
        url = self.database(backend, "empty")
        self.create(url)
        self.child("prepare", backend, url=url)
        self.child(
            "prefect-ingest", backend, STARTUP, url=url, root=str(empty), again=True
        )
        self.drop(url)
        self.command_run(backend)

    def command_run(self, backend: str) -> None:
        """``compfeed run`` on the shipped seeds with nothing changed: the first time
        with a new Prefect home (its database is created), then again."""
        url = self.database(backend, "seeds")
        out = self.work / f"public-seeds-{backend}"
        self.create(url)
        self.child("ingest", backend, url=url, root=str(SEEDS))
        self.child("publish", backend, url=url, out=str(out))
        home = self.work / f"prefect-home-cold-{backend}"
        shutil.rmtree(home, ignore_errors=True)
        env = {**self.env, "PREFECT_HOME": str(home)}
        command = [
            str(Path(sys.executable).parent / "compfeed"),
            "run",
            "--seeds",
            str(SEEDS),
            "--database-url",
            url,
            "--out",
            str(out),
        ]
        for label in (CLI_COLD, CLI_WARM):
            self._count += 1
            log = self.logs / f"{self._count:02d}-compfeed-run-{backend}.log"
            wall, tree = self._spawn(command, log, env, cwd=self.work)
            text = log.read_text(errors="replace")
            if "0 ingested" not in text:
                raise RuntimeError(f"compfeed run changed something: {log}")
            self.measures.append(Measure(label, backend, wall, wall, 0, 0, tree))
            self.say(f"{label} [{backend}]: {wall:.2f} s")
        self.drop(url)

    def imports(self) -> None:
        """What importing the command and the flows costs, by top-level package."""
        command = [
            sys.executable,
            "-X",
            "importtime",
            "-c",
            "import flows.cli, flows.pipeline",
        ]
        log = self.logs / "importtime.log"
        wall, _ = self._spawn(command, log, self.env)
        packages: dict[str, int] = {}
        for line in log.read_text().splitlines():
            if not line.startswith("import time:") or "|" not in line:
                continue
            parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
            if not parts[0].isdigit():
                continue
            top = parts[2].split(".")[0]
            packages[top] = packages.get(top, 0) + int(parts[0])
        ranked = sorted(packages.items(), key=lambda kv: -kv[1])[:8]
        shown = ", ".join(f"{k} {v / 1e6:.2f}" for k, v in ranked)
        self.notes.append(
            f"python -c 'import flows.cli, flows.pipeline': {wall:.2f} s wall; "
            f"self import time by package (s): {shown}"
        )


FLOOR = "floor: read + parse + validate, no DB, no Prefect"
FIRST = "full first ingest"
RERUN = "re-run, nothing changed"
ONE_PERCENT = "1% of files changed"
NEXT_QUARTER = "next quarter"
PUBLISH = "publish everything, after the next quarter"
PUBLISH_100K = "publish, 100k events just added to every guide (plain)"
PUBLISH_NOTHING = "publish again, nothing new, 100k events (plain)"
LONG_ONE_PERCENT = "1% of files changed, 100k events (plain)"
PUBLISH_ONE_PERCENT = "publish after 1% changed, 100k events (plain)"
LONG_FEW = "0.1% of files changed, 100k events (plain)"
PUBLISH_FEW = "publish after 0.1% changed, 100k events (plain)"
STARTUP = "Prefect start-up: flow run on an empty folder"
CLI_COLD = "`compfeed run` seeds, unchanged, cold (wall)"
CLI_WARM = "`compfeed run` seeds, unchanged, warm (wall)"
EVENTS = 100_000
# The steps the light Prefect mode runs through the flows too (on SQLite): the one
# that writes everything and the one that should cost nothing but start-up.
LIGHT = (FIRST, RERUN, PUBLISH)


def table(bench: Bench, backends: list[str]) -> str:
    floor = next(m for m in bench.measures if m.step == FLOOR)
    labels: list[str] = []
    for measure in bench.measures:
        if measure.step not in labels:
            labels.append(measure.step)
    lines = [
        "| step | SQLite s | ratio | RSS MB | PostgreSQL s | ratio | RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label in labels:
        cells = [label]
        for backend in ("sqlite", "postgresql"):
            found = [
                m
                for m in bench.measures
                if m.step == label and m.backend in (backend, "-")
            ]
            if not found or (backend not in backends and found[0].backend != "-"):
                cells += ["", "", ""]
                continue
            m = found[0]
            rss = m.rss_mb or m.tree_rss_mb
            cells += [
                f"{m.seconds:.2f}",
                f"{m.seconds / floor.seconds:.2f}",
                f"{rss:.0f}",
            ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def details(bench: Bench) -> str:
    lines = [
        "| step | db | step s | process wall s | CPU s | RSS MB (with children) "
        "| SQL statements | per file | outcome |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for m in bench.measures:
        per_file = (
            f"{m.statements / m.files:.1f}"
            if m.statements is not None and m.files
            else ""
        )
        extra = {k: v for k, v in m.extra.items() if k != "ok"}
        outcome = ", ".join(
            f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}"
            for k, v in extra.items()
        )
        lines.append(
            f"| {m.step} | {m.backend} | {m.seconds:.2f} | {m.wall:.2f} | {m.cpu:.2f} "
            f"| {m.tree_rss_mb:.0f} | {'' if m.statements is None else m.statements} "
            f"| {per_file} | {outcome} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--guides", type=int, default=10_000)
    parser.add_argument(
        "--database", choices=("sqlite", "postgresql", "both"), default="both"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--prefect",
        choices=("none", "light", "full"),
        default="light",
        help="Which steps also run through the Prefect flows: none; light (the "
        "default: first ingest, re-run and publish on SQLite, and start-up and "
        "`compfeed run` on each database); full (every step on every database).",
    )
    parser.add_argument(
        "--work", type=Path, help="Working folder (default: a new one under /tmp)."
    )
    parser.add_argument("--keep", action="store_true", help="Keep the working folder.")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-args", help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        result = CHILD_STEPS[args.child](json.loads(args.child_args))
        args.result.write_text(json.dumps(asdict(result), default=str))
        return

    work = args.work or Path(tempfile.mkdtemp(prefix="compfeed-bench-", dir="/tmp"))
    work.mkdir(parents=True, exist_ok=True)
    backends = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    bench = Bench(work, args.guides, args.seed)
    started = time.perf_counter()
    bench.say(f"working in {work}; PREFECT_HOME={bench.prefect_home}")
    try:
        bench.floor()
        if args.prefect != "none":
            bench.warm_prefect()
        for backend in backends:
            bench.backend(backend, args.prefect)
        bench.imports()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(
        f"\n## compfeed benchmark: {args.guides} guides, seed {args.seed}, "
        f"--prefect {args.prefect}, {os.cpu_count()} CPUs, "
        f"{time.perf_counter() - started:.0f} s in all\n"
    )
    print(table(bench, backends))
    print(
        "\nratio: to the floor. RSS: the step's own process (for `compfeed run`, "
        "with the Prefect server it starts).\n"
    )
    print(details(bench))
    print()
    for note in bench.notes:
        print(f"- {note}")


if __name__ == "__main__":
    main()
