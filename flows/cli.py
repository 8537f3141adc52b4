"""The ``compfeed`` command. Failures become messages and exit codes here and only
here: exit 1 when a job failed or rejected files, 2 for misuse."""

from __future__ import annotations

import contextlib
import csv
import gc
import io
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from flows import localserver
from flows.settings import Settings
from flows.verdict import FileResult, Outcome

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from flows.pipeline import RunReport

app = typer.Typer(
    help="Ingest compensation guides, version and compare them, publish feeds.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

Seeds = Annotated[
    Path | None,
    typer.Option(
        "--seeds",
        envvar="COMPFEED_SEEDS",
        help="Folder of guide files (default: seeds/).",
        show_default=False,
    ),
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="COMPFEED_DATABASE_URL",
        help="SQLAlchemy URL of the history database (default: SQLite in db/).",
        show_default=False,
    ),
]
Out = Annotated[
    Path | None,
    typer.Option(
        "--out",
        envvar="COMPFEED_OUT",
        help="Folder the feeds and changelog are written to (default: public/).",
        show_default=False,
    ),
]
BaseUrl = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        envvar="COMPFEED_BASE_URL",
        help="Where the out folder is served, for feed links "
        "(default: http://localhost:8000/).",
        show_default=False,
    ),
]
FeedWindow = Annotated[
    int | None,
    typer.Option(
        "--feed-window",
        envvar="COMPFEED_FEED_WINDOW",
        min=1,
        help="Entries in each feed (default: 50).",
        show_default=False,
    ),
]
Force = Annotated[
    bool,
    typer.Option("--force", help="Re-read every file, even those whose bytes match."),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _guide_key(value: str) -> str:
    company, slash, role = value.partition("/")
    if not (company and slash and role) or "/" in role:
        raise typer.BadParameter(
            f"{value!r}: give the guide as COMPANY/ROLE, "
            "such as twilio/senior-software-engineer"
        )
    return value


GuideKey = Annotated[
    str, typer.Argument(help="The guide, as COMPANY/ROLE.", callback=_guide_key)
]


@app.command()
def run(
    force: Force = False,
    seeds: Seeds = None,
    database_url: DatabaseUrl = None,
    out: Out = None,
    base_url: BaseUrl = None,
    feed_window: FeedWindow = None,
) -> None:
    """Ingest, version, compare and publish: the whole job, as one Prefect flow run."""
    with localserver.started() as server:
        settings = _settings(seeds, database_url, out, base_url, need_seeds=True)
        report = _main_job(server, settings, feed_window, force)
    _summarise(report, publishing=True)


@app.command()
def ingest(
    force: Force = False, seeds: Seeds = None, database_url: DatabaseUrl = None
) -> None:
    """Ingest the seeds folder into the history, without publishing."""
    with localserver.started() as server:
        settings = _settings(seeds, database_url, need_seeds=True)
        report = _in_flow(server, "ingest_flow", force=force, seeds=str(settings.seeds))
    _summarise(report)


@app.command()
def publish(
    database_url: DatabaseUrl = None,
    out: Out = None,
    base_url: BaseUrl = None,
    feed_window: FeedWindow = None,
) -> None:
    """Write the feeds, changelog and guide pages from the stored history."""
    with localserver.started() as server:
        settings = _settings(database_url=database_url, out=out, base_url=base_url)
        report = _in_flow(
            server,
            "publish_flow",
            out=str(settings.out),
            base_url=settings.base_url,
            feed_window=feed_window,
        )
    _summarise(report, publishing=True)


@app.command("serve-feed")
def serve_feed(
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    out: Out = None,
) -> None:
    """Serve the published folder read-only over HTTP, until stopped."""
    from flows.serve import serve

    folder = Settings.load(out=out).out
    if not folder.is_dir():
        _fail(
            f"nothing published yet: {folder} does not exist (run compfeed publish)", 2
        )
    serve(folder, host, port)


@app.command("serve")
def serve_deployment(
    seeds: Seeds = None,
    database_url: DatabaseUrl = None,
    out: Out = None,
    base_url: BaseUrl = None,
    feed_window: FeedWindow = None,
) -> None:
    """Serve the scheduled deployment until stopped (COMPFEED_SCHEDULE: a cron line in
    UTC, default hourly, or seconds between runs). Needs a Prefect server."""
    settings = _settings(seeds, database_url, out, base_url, need_seeds=True)
    from flows import deploy

    # The served runs read their settings from this process's environment.
    os.environ["COMPFEED_SEEDS"] = str(settings.seeds)
    os.environ["COMPFEED_OUT"] = str(settings.out)
    os.environ["COMPFEED_BASE_URL"] = settings.base_url
    if feed_window is not None:
        os.environ["COMPFEED_FEED_WINDOW"] = str(feed_window)
    try:
        deploy.serve()
    except deploy.NoServer as exc:
        _fail(f"compfeed serve: {exc}", 2)


@app.command()
def trigger(
    force: Force = False,
    guide: Annotated[
        list[str] | None,
        typer.Option(
            "--guide", help="Only this guide (COMPANY/ROLE, or COMPANY/*); repeatable."
        ),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", help="Seconds to wait (default: no limit)."),
    ] = None,
) -> None:
    """Ask the served deployment for a run now, wait for it, and show its summary."""
    from prefect.exceptions import PrefectHTTPStatusError

    from flows import deploy

    try:
        flow_run = deploy.trigger(force, guide, timeout)
    except deploy.NoServer as exc:
        _fail(f"compfeed trigger: {exc}", 2)
    except PrefectHTTPStatusError as exc:
        detail = exc.response.json().get("detail", exc.response.text)
        _fail(f"the deployment refused the run: {detail}", 2)
    state = flow_run.state
    name = state.name if state else "unknown"
    typer.echo(f"flow run {flow_run.name} ({flow_run.id}): {name}")
    summary = deploy.run_summary(flow_run)
    if summary:
        typer.echo(summary, nl=False)
    if state is None or not state.is_completed():
        raise typer.Exit(1)


@app.command()
def watch(
    debounce: Annotated[
        float,
        typer.Option("--debounce", help="Seconds of quiet before a run.", min=0.1),
    ] = 2.0,
    seeds: Seeds = None,
    database_url: DatabaseUrl = None,
    out: Out = None,
    base_url: BaseUrl = None,
    feed_window: FeedWindow = None,
) -> None:
    """Run the main job whenever files in the seeds folder settle, until stopped."""
    import watchfiles

    # One temporary Prefect server, when one is needed, for every run while watching.
    with localserver.started() as server:
        settings = _settings(seeds, database_url, out, base_url, need_seeds=True)

        def once() -> None:
            report = _main_job(server, settings, feed_window)
            # Rejected files were reported; keep watching.
            with contextlib.suppress(typer.Exit):
                _summarise(report, publishing=True)

        once()
        typer.echo(f"watching {settings.seeds} (Ctrl-C to stop)")
        for changes in watchfiles.watch(
            settings.seeds, debounce=int(debounce * 1000), raise_interrupt=False
        ):
            names = sorted({Path(path).name for _, path in changes})
            typer.echo(f"changed: {', '.join(names)}")
            once()


@app.command()
def validate(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Guide files or folders (default: the seeds folder)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON list, one object per file.")
    ] = False,
    seeds: Seeds = None,
) -> None:
    """Check guide files without writing anything; exit 1 if any file is rejected."""
    from flows.discover import discover
    from flows.parse import parse_guide, read_capped, unreadable

    results = []
    for target in paths or [Settings.load(seeds=seeds).seeds]:
        if target.is_dir():
            files = discover(target)
        elif target.is_file():
            files = [target]
        else:
            _fail(f"no such file or folder: {target}", code=2)
        for path in files:
            try:
                data = read_capped(path)
            except OSError as exc:
                results.append(unreadable(path.as_posix(), exc))
                continue
            parsed = parse_guide(path.as_posix(), data)
            if not isinstance(parsed, FileResult):
                key, warnings = parsed.guide.key, parsed.warnings
                parsed = FileResult(
                    parsed.path, Outcome.OK, guide=key, warnings=warnings
                )
            results.append(parsed)
    if as_json:
        typer.echo(json.dumps([r.as_json() for r in results], indent=2))
    else:
        for result in results:
            _echo_verdict(result, verbose=True)
        counts = {o: sum(r.outcome == o for r in results) for o in Outcome}
        typer.echo(
            f"{len(results)} file(s): {counts[Outcome.OK]} ok, "
            f"{counts[Outcome.SKIPPED]} skipped, {counts[Outcome.REJECTED]} rejected"
        )
    if any(r.outcome == Outcome.REJECTED for r in results):
        raise typer.Exit(1)


@app.command()
def history(
    guide: GuideKey,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Show the guide as it stood: a quarter (2025-Q4) for what it said "
            "of that quarter, a date (2026-03-01) for what was known that day.",
        ),
    ] = None,
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """A guide's versions, or the guide as it stood at a time."""
    from flows import views

    with _session(database_url) as session:
        versions = _versions(session, guide)
        if as_of is not None:
            try:
                found = views.as_of(versions, as_of)
            except ValueError:
                _fail(
                    f"--as-of takes a quarter like 2025-Q4 or a date, not {as_of!r}", 2
                )
            if found is None:
                _fail(f"{guide} had no version as of {as_of}")
            versions = [found]
        data = [views.version_view(v) for v in versions]
    if as_json:
        typer.echo(json.dumps(data if as_of is None else data[0], indent=2))
        return
    if as_of is not None:
        _print_version(data[0])
        return
    table = Table(
        "version", "kind", "quarter", "last updated", "review due", "source", "changed"
    )
    for v in data:
        table.add_row(
            str(v["version"]),
            v["kind"],
            v["salary_data_quarter"],
            v["last_updated"],
            v["next_review_due"],
            v["source_path"],
            ", ".join(v["changed_fields"]),
        )
    _console().print(table)


@app.command()
def diff(
    guide: GuideKey,
    old: Annotated[
        int | None, typer.Argument(help="Version (default: the one before NEW).")
    ] = None,
    new: Annotated[
        int | None, typer.Argument(help="Version (default: the latest).")
    ] = None,
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Field-level differences between two versions (default: the last two)."""
    from flows import views

    with _session(database_url) as session:
        versions = {v.number: v for v in _versions(session, guide)}
        new = max(versions) if new is None else new
        old = new - 1 if old is None else old
        if len(versions) == 1 and (old, new) == (0, 1):
            _fail(f"{guide} has only version 1: nothing to compare it with", 2)
        missing = [n for n in (old, new) if n not in versions]
        if missing:
            _fail(
                f"{guide} has versions 1 to {max(versions)}; "
                + " and ".join(f"no version {n}" for n in dict.fromkeys(missing)),
                2,
            )
        changes = views.diff_versions(versions[old], versions[new])
    if as_json:
        rows = [{"field": c.field, "old": c.old, "new": c.new} for c in changes]
        typer.echo(
            json.dumps(
                {"guide": guide, "old": old, "new": new, "changes": rows}, indent=2
            )
        )
        return
    typer.echo(f"{guide}: version {old} -> {new}")
    if not changes:
        typer.echo("no differences")
    for change in changes:
        if change.field == "body":
            typer.echo(views.body_diff(change, old, new), nl=False)
        else:
            typer.echo(f"  {change.field}: {change.old!r} -> {change.new!r}")


@app.command()
def runs(
    last: Annotated[int, typer.Option("--last", help="How many runs.", min=1)] = 5,
    as_json: AsJson = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Recent ingest runs and each file's result."""
    from db import store
    from flows import views

    with _session(database_url) as session:
        data = [views.run_view(r) for r in store.recent_runs(session, last)]
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    if not data:
        typer.echo("no runs recorded yet")
    for run in data:
        counts = ", ".join(f"{n} {k}" for k, n in sorted(run["counts"].items()))
        typer.echo(
            f"run {run['run']} at {run['started_at']} ({run['flow_run_id']}): {counts}"
        )
        for file in run["files"]:
            if file["outcome"] in ("ingested", "rejected"):
                what = file["kind"] or "; ".join(
                    f"{e['field']}: {e['message']}" if e["field"] else e["message"]
                    for e in file["errors"]
                )
                typer.echo(f"  {file['outcome']} {file['path']}: {what}")


class Format(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


@app.command()
def qoq(
    quarter: Annotated[
        str | None,
        typer.Option("--quarter", help="Quarter (default: the latest compared)."),
    ] = None,
    company: Annotated[
        str | None, typer.Option("--company", help="Only this company.")
    ] = None,
    role: Annotated[str | None, typer.Option("--role", help="Only this role.")] = None,
    region: Annotated[
        str | None, typer.Option("--region", help="Only this region (any spelling).")
    ] = None,
    output: Annotated[
        Format, typer.Option("--format", help="Output format.")
    ] = Format.TABLE,
    database_url: DatabaseUrl = None,
) -> None:
    """Quarter-over-quarter changes per guide and region, and the quarter's medians."""
    from db import store
    from flows import views
    from flows.compare import region_key
    from flows.quarter import Quarter

    if quarter is not None:
        try:
            quarter = str(Quarter.parse(quarter))
        except ValueError as exc:
            _fail(str(exc), 2)
    with _session(database_url) as session:
        rows = store.current_changes(session, None, company, role)
    changes = [views.change_view(g, c) for g, c in rows]
    if region is not None:
        changes = [c for c in changes if region_key(c["region"]) == region_key(region)]
    quarter = quarter or max((c["to_quarter"] for c in changes), default=None)
    changes = [c for c in changes if c["to_quarter"] == quarter]
    summary = views.qoq_summary(changes)
    if output == Format.JSON:
        typer.echo(
            json.dumps(
                {"quarter": quarter, "changes": changes, "summary": summary}, indent=2
            )
        )
    elif output == Format.CSV:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=_CSV_FIELDS)
        writer.writeheader()
        writer.writerows(changes)
        typer.echo(buffer.getvalue(), nl=False)
    else:
        _print_qoq(quarter, changes, summary)


_CSV_FIELDS = [
    "guide",
    "region",
    "field",
    "currency",
    "from_quarter",
    "to_quarter",
    "old",
    "new",
    "delta",
    "pct",
    "flag",
]


def _print_qoq(
    quarter: str | None, changes: list[dict[str, Any]], summary: dict[str, Any]
) -> None:
    from flows.views import amount

    console = _console()
    if quarter is None:
        console.print("no quarter-over-quarter changes stored")
        return
    table = Table(
        "guide", "region", "field", "from", "to", "old", "new", "delta", "pct", "flag"
    )
    for c in changes:
        table.add_row(
            c["guide"],
            c["region"],
            c["field"],
            c["from_quarter"],
            c["to_quarter"],
            amount(c["old"]),
            amount(c["new"]),
            amount(c["delta"]),
            "" if c["pct"] is None else f"{c['pct']:+.2f}%",
            c["flag"] or "",
        )
    console.print(table)
    medians = Table(
        "median change", "base", "stock", "total comp", title=f"{quarter} summary"
    )
    groups = [("overall", summary["overall"])]
    groups += [(f"role {k}", v) for k, v in summary["by_role"].items()]
    groups += [(f"region {k}", v) for k, v in summary["by_region"].items()]
    for label, figures in groups:
        medians.add_row(
            label, *(_median(figures[f]) for f in ("base", "stock", "total_comp"))
        )
    console.print(medians)


def _median(figure: dict[str, Any]) -> str:
    if figure["median_pct"] is None:
        return "-"
    return f"{figure['median_pct']:+.2f}% ({figure['guides']} guide(s))"


def _console() -> Console:
    """Rich's console; away from a terminal, tables are as wide as their content
    rather than wrapped to 80 columns, so piped output stays one row per line."""
    return Console() if sys.stdout.isatty() else Console(width=1000)


def _print_version(v: dict[str, Any]) -> None:
    from flows.views import span

    typer.echo(
        f"version {v['version']} ({v['kind']}), {v['salary_data_quarter']}, "
        f"last updated {v['last_updated']}, next review due {v['next_review_due']}"
    )
    table = Table("region", "currency", "base", "stock", "bonus", "total comp")
    for r in v["compensation"]:
        bonus = f"{r['bonus_pct']}%" if "bonus_pct" in r else span(r, "bonus")
        table.add_row(
            r["region"],
            r["currency"],
            span(r, "base"),
            span(r, "stock"),
            bonus,
            span(r, "total_comp"),
        )
    _console().print(table)


def _settings(
    seeds: Path | None = None,
    database_url: str | None = None,
    out: Path | None = None,
    base_url: str | None = None,
    need_seeds: bool = False,
) -> Settings:
    settings = Settings.load(seeds, database_url, out, base_url)
    if need_seeds and not settings.seeds.is_dir():
        _fail(f"seeds folder not found: {settings.seeds}", code=2)
    _open_database(settings.database_url).dispose()
    # Flows read the URL from the environment, never from their stored parameters.
    os.environ["COMPFEED_DATABASE_URL"] = settings.database_url
    return settings


URL_FORMS = "sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DATABASE"


def _open_database(url: str, create: bool = True) -> Engine:
    """An engine on an up-to-date schema, or a clear error before any work starts.
    Without ``create``, a database that holds no compfeed history is refused rather
    than given compfeed's tables (the commands that only read never write)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

    from db.connect import make_engine, reason, redacted, wait_until_reachable
    from db.migrate import has_history, upgrade

    nothing = f"no compfeed history in {redacted(url)} yet (compfeed run writes it)"
    try:
        parsed = make_url(url)
        is_sqlite = parsed.get_backend_name() == "sqlite"
        if not create and is_sqlite and not Path(parsed.database or "").is_file():
            _fail(nothing)
        engine = make_engine(url)
    except (ArgumentError, NoSuchModuleError, ValueError):
        # The parser's own message would repeat the URL, password and all.
        _fail(f"not a database URL: {redacted(url)} (give {URL_FORMS})", 2)
    except ImportError as exc:
        _fail(
            f"cannot use the database {redacted(url)}: its driver is not installed "
            f"({exc}); compfeed takes {URL_FORMS}",
            2,
        )
    try:
        wait_until_reachable(engine)
        if not create and not has_history(engine):
            engine.dispose()
            _fail(nothing)
        upgrade(engine)
    except DBAPIError as exc:
        _fail(f"cannot use the database {redacted(url)}: {reason(exc)}")
    return engine


@contextmanager
def _session(database_url: str | None) -> Iterator[Any]:
    from sqlalchemy.orm import Session

    from db.connect import reading

    url = Settings.load(database_url=database_url).database_url
    engine = _open_database(url, create=False)
    try:
        with Session(reading(engine)) as session:
            yield session
    finally:
        engine.dispose()


def _versions(session: Any, guide: str) -> list[Any]:
    from db import store

    company, _, role = guide.partition("/")
    versions = store.history(session, company, role)
    if not versions:
        _fail(f"no guide {guide!r} in the history (give it as COMPANY/ROLE)")
    return versions


def _in_flow(
    server: localserver.LocalServer | None, flow_name: str, **parameters: Any
) -> RunReport:
    """Run one of the pipeline's flows locally: the compfeed loggers at INFO, no
    heartbeat thread, and ``server`` (from ``localserver.started``, begun before the
    command's own work so that it comes up meanwhile) when no Prefect API is
    configured."""
    if "flows.pipeline" in sys.modules:
        from flows import pipeline
    else:
        with localserver.uncollected():
            # Prefect imports its JSON encoder from FastAPI at a flow's first call,
            # a sixth of a second; imported here, it loads while the server starts.
            import fastapi.encoders  # noqa: F401

            from flows import pipeline
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    from flows import progress

    for name in ("flows", "db"):
        logging.getLogger(name).setLevel(logging.INFO)
    # A progress bar for a person at a terminal; none in logs or pipes.
    bar = progress.rich_bar() if sys.stderr.isatty() else contextlib.nullcontext()
    flow: Callable[..., RunReport] = getattr(pipeline, flow_name)
    # The heartbeat marks crashed runs of deployments; a local call costs a second
    # waiting for its thread to stop, and gains nothing.
    try:
        with (
            temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
            localserver.serving(server),
            bar,
        ):
            return flow(**parameters)
    except Exception as exc:
        _fail(f"{type(exc).__name__}: {exc}")


def _main_job(
    server: localserver.LocalServer | None,
    settings: Settings,
    feed_window: int | None,
    force: bool = False,
) -> RunReport:
    """The whole job on these settings, as one flow run."""
    return _in_flow(
        server,
        "run_flow",
        force=force,
        seeds=str(settings.seeds),
        out=str(settings.out),
        base_url=settings.base_url,
        feed_window=feed_window,
    )


def _summarise(report: RunReport, publishing: bool = False) -> None:
    for result in report.results:
        _echo_verdict(result, verbose=False)
    if report.results:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(report.kinds().items()))
        typer.echo(
            f"{len(report.results)} file(s): "
            f"{report.count(Outcome.INGESTED)} ingested"
            + (f" ({kinds})" if kinds else "")
            + f", {report.count(Outcome.UNCHANGED)} unchanged, "
            f"{report.count(Outcome.SKIPPED)} skipped, "
            f"{report.count(Outcome.REJECTED)} rejected"
        )
    changed = [w for w in report.published if w.changed]
    if publishing and not report.published:
        typer.echo("published nothing: no new version or event since the last publish")
    if report.published:
        typer.echo(
            f"published {len(changed)} changed file(s) of {len(report.published)}"
            + "".join(f"\n  {w.path}" for w in changed[:8])
            + (f"\n  ... and {len(changed) - 8} more" if len(changed) > 8 else "")
        )
    if report.failed:
        raise typer.Exit(1)


def _echo_verdict(result: FileResult, verbose: bool) -> None:
    for problem in result.errors:
        typer.echo(f"rejected {problem.describe(result.path)}", err=True)
    if verbose:
        for problem in result.warnings:
            label = "skipped" if result.outcome == Outcome.SKIPPED else "warning"
            typer.echo(f"{label} {problem.describe(result.path)}", err=True)


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


def main() -> None:
    try:
        app(prog_name="compfeed")
    finally:
        # Python's last collections at exit walk every object Prefect made, half a
        # second here, to free memory that goes back with the process anyway.
        gc.freeze()


if __name__ == "__main__":
    main()
