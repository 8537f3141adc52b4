"""Several machines, played on one: a Prefect server on PostgreSQL, the work-pool
deployment from prefect.yaml, two process workers, and compfeed's history on
PostgreSQL. Two runs for different companies go to different workers, and the
history ends as one sequential run would leave it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from db.connect import make_engine
from db.migrate import upgrade
from db.schema import Guide, Snapshot, Version
from flows.discover import discover
from flows.ingest import ingest_folder
from tests.conftest import ROOT, _fresh_postgres_database
from tests.test_service import prefect_server_at, service_env, start, stop, wait_for

COMPANIES = ("twilio", "stripe")


@pytest.fixture
def prefect_on_postgres(tmp_path: Path) -> Iterator[str]:
    with _fresh_postgres_database() as url:
        async_url = make_url(url).set(drivername="postgresql+asyncpg")
        env = service_env(
            PREFECT_HOME=str(tmp_path / "prefect-server"),
            PREFECT_API_DATABASE_CONNECTION_URL=async_url.render_as_string(False),
        )
        with prefect_server_at(env, tmp_path / "server.log") as api:
            yield api


def history_of(engine: Engine) -> set[tuple[str, int, str, str]]:
    with Session(engine) as session:
        rows = session.execute(
            select(
                Guide.company,
                Guide.role,
                Version.number,
                Version.kind,
                Snapshot.content_hash,
            )
            .join(Version, Version.guide_id == Guide.id)
            .join(Snapshot, Version.snapshot_id == Snapshot.id)
        )
        return {(f"{c}/{r}", n, k, h) for c, r, n, k, h in rows}


def test_two_workers_split_by_company_end_as_one_sequential_run(
    prefect_on_postgres: str, real_guides: Path, tmp_path: Path
) -> None:
    seeds = tmp_path / "seeds"
    for company in COMPANIES:
        shutil.copytree(real_guides / company, seeds / company)
    with _fresh_postgres_database() as history_url:
        env = service_env(
            PREFECT_API_URL=prefect_on_postgres,
            PREFECT_HOME=str(tmp_path / "prefect-client"),
            PREFECT_WORKER_QUERY_SECONDS="1",
            COMPFEED_HOME=str(ROOT),
            COMPFEED_SEEDS=str(seeds),
            COMPFEED_DATABASE_URL=history_url,
        )

        def prefect(*args: str) -> str:
            done = subprocess.run(
                [sys.executable, "-m", "prefect", *args],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=180,
            )
            assert done.returncode == 0, done.stdout + done.stderr
            return done.stdout

        prefect("work-pool", "create", "compfeed", "--type", "process")
        prefect("--no-prompt", "deploy", "--all")
        workers = []
        for name in ("worker-a", "worker-b"):
            command = [sys.executable, "-m", "prefect", "worker", "start"]
            command += ["--pool", "compfeed", "--limit", "1", "--name", name]
            log = tmp_path / f"{name}.log"
            worker_env = env | {"COMPFEED_OUT": str(tmp_path / f"public-{name}")}
            workers.append((name, log, start(command, worker_env, log)))
        try:
            runs = {}
            for company in COMPANIES:
                out = prefect(
                    "deployment",
                    "run",
                    "compfeed-run/compfeed-pool",
                    "--param",
                    f"guides={json.dumps([f'{company}/*'])}",
                )
                runs[company] = re.search(r"UUID: ([0-9a-f-]{36})", out).group(1)  # type: ignore[union-attr]

            def states() -> dict[str, str]:
                found = {}
                for company, run_id in runs.items():
                    data = httpx.get(f"{prefect_on_postgres}/flow_runs/{run_id}").json()
                    found[company] = data["state"]["type"]
                return found

            wait_for(
                lambda: all(
                    s in ("COMPLETED", "FAILED", "CRASHED") for s in states().values()
                ),
                240,
                "both runs",
            )
            assert states() == {"twilio": "COMPLETED", "stripe": "COMPLETED"}
            # A worker's log shows the runs it executed (both may try to claim one).
            names = {
                company: httpx.get(f"{prefect_on_postgres}/flow_runs/{run_id}").json()[
                    "name"
                ]
                for company, run_id in runs.items()
            }
            ran_on = {
                company: [
                    worker
                    for worker, log, _ in workers
                    if f"Beginning flow run '{name}'" in log.read_text()
                ]
                for company, name in names.items()
            }
            assert sorted(ran_on.values()) == [["worker-a"], ["worker-b"]], ran_on
        finally:
            for _, _, process in workers:
                stop(process)

        distributed = make_engine(history_url)
        sequential = make_engine(f"sqlite:///{tmp_path / 'sequential.sqlite3'}")
        upgrade(sequential)
        ingest_folder(discover(seeds), seeds, sequential, now=datetime.now(UTC))
        assert len(history_of(distributed)) == 28
        assert history_of(distributed) == history_of(sequential)
        distributed.dispose()
        sequential.dispose()
