"""compfeed run as a service: a real Prefect server on loopback, the deployment served
by `compfeed serve`, scheduled and manual runs, and the watch mode."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import feedparser
import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from db.connect import make_engine
from db.schema import Run, RunFile, Version
from tests.conftest import ROOT, SEED, guide_data, guide_text


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], object], seconds: float, what: str) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")


def service_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PREFECT_", "COMPFEED_"))
    }
    env |= {
        "PYTHONPATH": str(ROOT),
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    return env | extra


def start(
    command: list[str], env: dict[str, str], log: Path
) -> subprocess.Popen[bytes]:
    # A session of its own, so that the whole process group can be stopped; the
    # child keeps its own copy of the log's descriptor.
    with log.open("wb") as handle:
        return subprocess.Popen(
            command,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextmanager
def prefect_server_at(env: dict[str, str], log: Path) -> Iterator[str]:
    """`prefect server start` on a free loopback port; yields its API URL once it
    answers, and stops it afterwards."""
    port = free_port()
    command = [sys.executable, "-m", "prefect", "server", "start"]
    server = start([*command, "--host", "127.0.0.1", "--port", str(port)], env, log)
    url = f"http://127.0.0.1:{port}/api"

    def healthy() -> bool:
        try:
            return httpx.get(f"{url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(healthy, 180, "the Prefect server")
        yield url
    finally:
        stop(server)


@pytest.fixture(scope="module")
def api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prefect server on loopback, SQLite behind it, its scheduler quick."""
    home = tmp_path_factory.mktemp("prefect-server")
    env = service_env(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="1",
        PREFECT_SERVER_SERVICES_LATE_RUNS_ENABLED="false",
    )
    with prefect_server_at(env, home / "server.log") as url:
        yield url


@pytest.fixture(scope="module")
def served(
    api_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """`compfeed serve` on two guides, scheduled every 20 seconds."""
    root = tmp_path_factory.mktemp("served")
    seeds = root / "seeds"
    seeds.mkdir()
    shutil.copy(SEED, seeds)
    (seeds / "acme.md").write_text(guide_text(guide_data()))
    env = service_env(
        PREFECT_API_URL=api_url,
        PREFECT_HOME=str(root / "prefect-home"),
        COMPFEED_SEEDS=str(seeds),
        COMPFEED_DATABASE_URL=f"sqlite:///{root / 'history.sqlite3'}",
        COMPFEED_OUT=str(root / "public"),
        COMPFEED_SCHEDULE="20",
    )
    process = start(
        [sys.executable, "-m", "flows.cli", "serve"], env, root / "serve.log"
    )
    try:
        yield env | {"root": str(root), "seeds": str(seeds)}
    finally:
        stop(process)


def runs(env: dict[str, str]) -> list[Run]:
    engine = make_engine(env["COMPFEED_DATABASE_URL"])
    try:
        with Session(engine) as session:
            return list(session.scalars(select(Run).order_by(Run.id)))
    except OperationalError:
        return []  # `compfeed serve` has not created the schema yet
    finally:
        engine.dispose()


def flow_run_state(env: dict[str, str], flow_run_id: str | None) -> str:
    answer = httpx.get(f"{env['PREFECT_API_URL']}/flow_runs/{flow_run_id}", timeout=5)
    answer.raise_for_status()
    return str(answer.json()["state"]["type"])


def compfeed(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "flows.cli", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)


def test_a_scheduled_run_fires_and_completes(served: dict[str, str]) -> None:
    finished = wait_for(
        lambda: [r for r in runs(served) if r.finished_at is not None],
        120,
        "a scheduled run",
    )
    assert isinstance(finished, list)
    first = finished[0]
    assert first.flow_run_id is not None
    assert first.counts["ingested"] == 2
    # The run's record is closed when ingest ends; the flow run then publishes.
    wait_for(
        lambda: flow_run_state(served, first.flow_run_id) == "COMPLETED",
        60,
        "the scheduled flow run to complete",
    )
    feed = Path(served["root"]) / "public" / "feed.xml"
    assert not feedparser.parse(feed.read_bytes()).bozo


def test_a_forced_manual_run_writes_nothing_new(served: dict[str, str]) -> None:
    wait_for(lambda: runs(served), 120, "the first run")
    before = len(_versions(served))
    done = compfeed(served, "trigger", "--force")
    assert done.returncode == 0, done.stderr
    assert ": Completed" in done.stdout
    assert "| unchanged | 2 |" in done.stdout
    forced = [r for r in runs(served) if r.force]
    assert forced and forced[-1].counts == {"unchanged": 2}
    assert len(_versions(served)) == before


def pause_schedule(env: dict[str, str]) -> None:
    """Stop scheduled runs, and wait for one in flight to end."""
    api = env["PREFECT_API_URL"]
    deployment = httpx.get(f"{api}/deployments/name/compfeed-run/compfeed").json()
    httpx.post(
        f"{api}/deployments/{deployment['id']}/pause_deployment"
    ).raise_for_status()
    # Pausing deletes the runs still scheduled; one already handed to `compfeed
    # serve` goes on, and may not have recorded itself in the history yet.
    unfinished = {
        "deployments": {"id": {"any_": [deployment["id"]]}},
        "flow_runs": {"state": {"type": {"any_": ["SCHEDULED", "PENDING", "RUNNING"]}}},
    }

    def idle() -> bool:
        answer = httpx.post(f"{api}/flow_runs/filter", json=unfinished, timeout=5)
        answer.raise_for_status()
        return not answer.json()

    wait_for(idle, 120, "the deployment's flow runs to end")
    wait_for(
        lambda: all(r.finished_at is not None for r in runs(env)), 120, "idle runs"
    )


def test_a_guide_run_touches_only_that_guide(served: dict[str, str]) -> None:
    # Scheduled runs would ingest the edits below before the manual run does.
    pause_schedule(served)
    seeds = Path(served["seeds"])
    (seeds / "acme.md").write_text(
        guide_text(guide_data(salary_data_quarter="2026-Q1"))
    )
    text = (seeds / SEED.name).read_text(encoding="utf-8")
    (seeds / SEED.name).write_text(text.replace("base_low: 175000", "base_low: 176000"))
    done = compfeed(served, "trigger", "--guide", "acme/*")
    assert done.returncode == 0, done.stderr
    flow_run_id = done.stdout.split("(")[1].split(")")[0]
    engine = make_engine(served["COMPFEED_DATABASE_URL"])
    with Session(engine) as session:
        run = session.scalars(select(Run).where(Run.flow_run_id == flow_run_id)).one()
        files = session.scalars(select(RunFile).where(RunFile.run_id == run.id)).all()
        assert [(Path(f.path).name, f.outcome, f.kind) for f in files] == [
            ("acme.md", "ingested", "updated")
        ]
        written = session.scalars(select(Version).where(Version.run_id == run.id)).all()
        assert [v.guide.key for v in written] == ["acme/data-engineer"]
    engine.dispose()


def test_a_bad_parameter_is_refused_before_any_work(served: dict[str, str]) -> None:
    before = len(runs(served))
    done = compfeed(served, "trigger", "--guide", "Twilio Senior")
    assert done.returncode == 2
    assert "Validation failed for field 'guides[0]'" in done.stderr
    assert "'Twilio Senior' does not match" in done.stderr
    assert len([r for r in runs(served) if r.counts]) <= before


def test_serve_says_when_there_is_no_server(tmp_path: Path) -> None:
    (tmp_path / "seeds").mkdir()
    env = service_env(COMPFEED_SEEDS=str(tmp_path / "seeds"))
    env["COMPFEED_DATABASE_URL"] = f"sqlite:///{tmp_path / 'h.sqlite3'}"
    done = compfeed(env, "serve")
    assert done.returncode == 2
    assert "no Prefect server is configured: start one with `prefect server start`" in (
        done.stderr
    )


def test_watch_turns_a_saved_file_into_a_feed_entry(
    prefect_server: str, tmp_path: Path
) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    env = service_env(
        PREFECT_API_URL=prefect_server,
        COMPFEED_SEEDS=str(seeds),
        COMPFEED_DATABASE_URL=f"sqlite:///{tmp_path / 'h.sqlite3'}",
        COMPFEED_OUT=str(tmp_path / "public"),
    )
    command = [sys.executable, "-m", "flows.cli", "watch", "--debounce", "0.5"]
    watcher = start(command, env, tmp_path / "watch.log")
    try:
        wait_for(
            lambda: "watching" in (tmp_path / "watch.log").read_text(), 90, "watch"
        )
        (seeds / "acme.md").write_text(guide_text(guide_data()))
        feed = tmp_path / "public" / "feed.xml"

        def entry() -> bool:
            if not feed.exists():
                return False
            ids = [e.id for e in feedparser.parse(feed.read_bytes()).entries]
            return "tag:compfeed,2026:acme/data-engineer/v1/new" in ids

        wait_for(entry, 90, "the new guide's feed entry")
    finally:
        stop(watcher)


def _versions(env: dict[str, str]) -> list[int]:
    engine = make_engine(env["COMPFEED_DATABASE_URL"])
    with Session(engine) as session:
        found = list(session.scalars(select(Version.id)))
    engine.dispose()
    return found
