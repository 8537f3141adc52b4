"""The ``compfeed`` command. Failures become messages and exit codes here and only
here: exit 1 when a job failed or rejected files, 2 for misuse."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from flows.settings import Settings
from flows.verdict import FileResult, Outcome

if TYPE_CHECKING:
    from flows.pipeline import RunReport

app = typer.Typer(
    help="Ingest compensation guides, version and compare them, publish feeds.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

Seeds = Annotated[
    Path | None,
    typer.Option(
        "--seeds",
        envvar="COMPFEED_SEEDS",
        help="Folder of guide files. [default: seeds/]",
        show_default=False,
    ),
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="COMPFEED_DATABASE_URL",
        help="SQLAlchemy URL of the history database. [default: sqlite file in db/]",
        show_default=False,
    ),
]
Out = Annotated[
    Path | None,
    typer.Option(
        "--out",
        envvar="COMPFEED_OUT",
        help="Folder the feeds and changelog are written to. [default: public/]",
        show_default=False,
    ),
]
BaseUrl = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        envvar="COMPFEED_BASE_URL",
        help="Where the out folder is served; used in feed links.",
        show_default=False,
    ),
]
Force = Annotated[
    bool,
    typer.Option("--force", help="Re-read every file, even those whose bytes match."),
]


def _settings(
    seeds: Path | None = None,
    database_url: str | None = None,
    out: Path | None = None,
    base_url: str | None = None,
) -> Settings:
    settings = Settings.load(seeds, database_url, out, base_url)
    # Flows read the URL from the environment, never from their stored parameters.
    os.environ["COMPFEED_DATABASE_URL"] = settings.database_url
    if not settings.seeds.is_dir():
        _fail(f"seeds folder not found: {settings.seeds}", code=2)
    return settings


@app.command()
def run(
    force: Force = False,
    seeds: Seeds = None,
    database_url: DatabaseUrl = None,
    out: Out = None,
    base_url: BaseUrl = None,
) -> None:
    """Ingest, version, compare and publish: the whole job, as one Prefect flow run."""
    settings = _settings(seeds, database_url, out, base_url)
    from flows.pipeline import run_flow

    report = _in_flow(
        lambda: run_flow(
            force=force,
            seeds=str(settings.seeds),
            out=str(settings.out),
            base_url=settings.base_url,
        )
    )
    _summarise(report)


@app.command()
def ingest(
    force: Force = False,
    seeds: Seeds = None,
    database_url: DatabaseUrl = None,
    out: Out = None,
    base_url: BaseUrl = None,
) -> None:
    """Ingest the seeds folder into the history, without publishing."""
    settings = _settings(seeds, database_url, out, base_url)
    from flows.pipeline import ingest_flow

    _summarise(_in_flow(lambda: ingest_flow(force=force, seeds=str(settings.seeds))))


@app.command()
def publish(
    seeds: Seeds = None,
    database_url: DatabaseUrl = None,
    out: Out = None,
    base_url: BaseUrl = None,
) -> None:
    """Write the feeds and changelog from the stored history."""
    settings = Settings.load(seeds, database_url, out, base_url)
    os.environ["COMPFEED_DATABASE_URL"] = settings.database_url
    from flows.pipeline import publish_flow

    _summarise(
        _in_flow(
            lambda: publish_flow(out=str(settings.out), base_url=settings.base_url)
        )
    )


@app.command()
def validate(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Guide files or folders. [default: the seeds folder]"),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per file, as a list.")
    ] = False,
    seeds: Seeds = None,
    database_url: DatabaseUrl = None,
    out: Out = None,
    base_url: BaseUrl = None,
) -> None:
    """Check guide files without writing anything; exit 1 if any file is rejected."""
    from flows.discover import discover
    from flows.parse import parse_guide

    targets = paths or [Settings.load(seeds=seeds).seeds]
    results = []
    for target in targets:
        if target.is_dir():
            files = discover(target)
        elif target.is_file():
            files = [target]
        else:
            _fail(f"no such file or folder: {target}", code=2)
        for path in files:
            parsed = parse_guide(path.as_posix(), path.read_bytes())
            if isinstance(parsed, FileResult):
                results.append(parsed)
            else:
                results.append(
                    FileResult(
                        parsed.path,
                        Outcome.OK,
                        guide=parsed.guide.key,
                        warnings=parsed.warnings,
                    )
                )
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


def _in_flow(call: Callable[[], RunReport]) -> RunReport:
    """Run a flow locally: the compfeed loggers at INFO, no heartbeat thread."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    for name in ("flows", "db"):
        logging.getLogger(name).setLevel(logging.INFO)
    # The heartbeat marks crashed runs of deployments; a local call costs a second
    # waiting for its thread to stop, and gains nothing.
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        try:
            return call()
        except Exception as exc:
            _fail(f"{type(exc).__name__}: {exc}")


def _summarise(report: RunReport) -> None:
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
    for path in report.published:
        typer.echo(f"published {path}")
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
    app(prog_name="compfeed")


if __name__ == "__main__":
    main()
