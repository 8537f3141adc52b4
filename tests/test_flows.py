"""The Prefect flows and the command line, run for real."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

import flows.ingest
import flows.pipeline
from db.connect import make_engine
from db.migrate import upgrade
from db.schema import Version
from db.store import count_rows
from flows.cli import app
from flows.discover import discover
from flows.ingest import ingest_folder
from flows.pipeline import ingest_flow, run_flow
from tests.conftest import ROOT, SEED, WriteGuide
from tests.test_workers import history_of


def test_one_flow_run_ingests_publishes_and_records_its_id(
    prefect_server: str,
    seeds: Path,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shutil.copy(SEED, seeds)
    monkeypatch.setenv("COMPFEED_DATABASE_URL", database_url)
    state = run_flow(
        seeds=str(seeds),
        out=str(tmp_path / "public"),
        base_url="http://x/",
        return_state=True,
    )
    report = state.result()
    assert [(r.outcome, r.kind) for r in report.results] == [("ingested", "new")]
    out = tmp_path / "public"
    assert {w.path.relative_to(out).as_posix() for w in report.published} >= {
        "CHANGELOG.md",
        "changes.json",
        "atom.xml",
        "feed.xml",
        "index.html",
        "guides/twilio/senior-software-engineer/index.html",
        "feeds/company/twilio/feed.xml",
    }
    engine = make_engine(database_url)
    with Session(engine) as session:
        version = session.scalars(select(Version)).one()
        assert version.flow_run_id == str(state.state_details.flow_run_id)
    engine.dispose()


def test_read_task_runs_at_once_give_what_one_plain_ingest_gives(
    prefect_server: str,
    real_guides: Path,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alone = make_engine(f"sqlite:///{tmp_path / 'alone.sqlite3'}")
    upgrade(alone)
    now = datetime.now(UTC).replace(microsecond=0)
    expected = [
        r.as_json()
        for r in ingest_folder(discover(real_guides), real_guides, alone, now=now)
    ]
    # Five read task runs at once, each reading in the process pool.
    monkeypatch.setattr(flows.pipeline, "READ_BATCH", 50)
    monkeypatch.setattr(flows.ingest, "PARALLEL_READS", 20)
    monkeypatch.setenv("COMPFEED_DATABASE_URL", database_url)
    report = ingest_flow(seeds=str(real_guides))
    assert [r.as_json() for r in report.results] == expected
    engine = make_engine(database_url)
    assert history_of(engine) == history_of(alone)
    engine.dispose()
    alone.dispose()


def compfeed(
    *args: str, cwd: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "flows.cli", *args]
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PREFECT_", "COMPFEED_"))
    }
    env["PYTHONPATH"] = str(ROOT)
    return env | extra


def test_compfeed_run_works_with_no_prefect_server(tmp_path: Path) -> None:
    """The README's main job, as a newcomer runs it: defaults, embedded SQLite."""
    (tmp_path / "seeds").mkdir()
    shutil.copy(SEED, tmp_path / "seeds")
    env = clean_env(PREFECT_HOME=str(tmp_path / "prefect-home"))
    done = compfeed("run", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert (
        "1 file(s): 1 ingested (1 new), 0 unchanged, 0 skipped, 0 rejected"
        in done.stdout
    )
    assert (
        "seeds/twilio-senior-software-engineer.md:53: repaired mojibake" in done.stderr
    )
    assert (tmp_path / "db" / "compfeed.sqlite3").is_file()
    rss = feedparser.parse((tmp_path / "public" / "feed.xml").read_bytes())
    assert not rss.bozo
    # The seed's review was due on 2026-05-23: a first run already finds it overdue.
    assert {e.tags[0].term for e in rss.entries} == {"new", "review_overdue"}
    assert [e.id for e in rss.entries if e.tags[0].term == "new"] == [
        "tag:compfeed,2026:twilio/senior-software-engineer/v1/new"
    ]
    assert (
        "http://localhost:8000/feed.xml"
        in (tmp_path / "public" / "feed.xml").read_text()
    )


def test_ingest_and_publish_commands_on_each_database(
    prefect_server: str,
    seeds: Path,
    write_guide: WriteGuide,
    database_url: str,
    tmp_path: Path,
) -> None:
    write_guide()
    env = clean_env(PREFECT_API_URL=prefect_server)
    options = ["--seeds", str(seeds), "--database-url", database_url]
    first = compfeed("ingest", *options, cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    assert "1 ingested (1 new)" in first.stdout
    again = compfeed("ingest", "--force", *options, cwd=tmp_path, env=env)
    assert "0 ingested, 1 unchanged" in again.stdout
    assert not (tmp_path / "public").exists()
    env["COMPFEED_OUT"] = str(tmp_path / "site")
    published = compfeed(
        "publish", "--database-url", database_url, cwd=tmp_path, env=env
    )
    assert published.returncode == 0, published.stderr
    assert f"  {tmp_path / 'site' / 'feed.xml'}\n" in published.stdout
    assert published.stdout.count("published ") == 1
    engine = make_engine(database_url)
    assert count_rows(engine)["versions"] == 1
    engine.dispose()


def test_a_rejected_file_makes_the_run_exit_1(
    prefect_server: str, seeds: Path, write_guide: WriteGuide, tmp_path: Path
) -> None:
    write_guide(role="Data Engineer")
    write_guide("ok.md", company="fine")
    env = clean_env(PREFECT_API_URL=prefect_server)
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    done = compfeed(
        "run", "--seeds", str(seeds), "--database-url", url, cwd=tmp_path, env=env
    )
    assert done.returncode == 1
    assert (
        f"rejected {seeds}/acme/data-engineer.md:4: role: must be lowercase letters, "
        "digits and hyphens, like data-engineer (got 'Data Engineer')" in done.stderr
    )
    assert (
        "2 file(s): 1 ingested (1 new), 0 unchanged, 0 skipped, 1 rejected"
        in done.stdout
    )


runner = CliRunner()


def test_validate_names_the_file_and_field_and_exits_1(
    seeds: Path, write_guide: WriteGuide
) -> None:
    good = write_guide("good.md")
    bad = write_guide("bad.md", salary_data_quarter="Q4-2025")
    result = runner.invoke(app, ["validate", str(good), str(bad)])
    assert result.exit_code == 1
    assert (
        f"rejected {bad.as_posix()}:9: salary_data_quarter: 'Q4-2025' is not a quarter "
        "like 2025-Q4 (got 'Q4-2025')" in result.stderr
    )
    assert "2 file(s): 1 ok, 0 skipped, 1 rejected" in result.stdout


def test_validate_json_reports_each_file(real_guides: Path, seeds: Path) -> None:
    shutil.copy(SEED, seeds)
    result = runner.invoke(
        app, ["validate", "--json", str(seeds), str(real_guides / "twilio")]
    )
    assert result.exit_code == 0, result.stderr
    reports = json.loads(result.stdout)
    assert len(reports) == 15
    seed = reports[0]
    assert seed["path"] == f"{seeds.as_posix()}/twilio-senior-software-engineer.md"
    assert (seed["outcome"], seed["guide"], seed["errors"]) == (
        "ok",
        "twilio/senior-software-engineer",
        [],
    )
    assert seed["warnings"][0] == {
        "field": None,
        "line": 53,
        "message": "repaired mojibake in the body on lines 53, 54, 55, 58, 67, 72",
    }
    assert {r["outcome"] for r in reports[1:]} == {"ok"}


def test_validate_writes_nothing(
    seeds: Path, write_guide: WriteGuide, tmp_path: Path
) -> None:
    write_guide()
    before = sorted(tmp_path.rglob("*"))
    assert runner.invoke(app, ["validate", "--seeds", str(seeds)]).exit_code == 0
    assert sorted(tmp_path.rglob("*")) == before


def test_every_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = [
        c.name or (c.callback.__name__ if c.callback else "")
        for c in app.registered_commands
    ]
    assert {"run", "ingest", "publish", "validate", "serve", "trigger"} <= set(commands)
    for name in commands:
        assert f"`compfeed {name}" in readme, name
        assert runner.invoke(app, [name, "--help"]).exit_code == 0
