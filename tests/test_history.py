"""The history's semantics on both databases: change kinds, moves, retirement and
restoration, conflicts, concurrent runs, the run record and the views over it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import threading
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, inspect, select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from db import store
from db.schema import Event, Guide, Run, Source, Version
from db.store import count_rows
from flows.cli import app
from tests.conftest import ROOT, WriteGuide, guide_data
from tests.test_ingest import T1, T2, ingest, outcomes

runner = CliRunner()


def kinds(engine: Engine, company: str = "acme") -> list[str]:
    with Session(engine) as session:
        return list(
            session.scalars(
                select(Version.kind)
                .join(Version.guide)
                .where(Version.guide.has(company=company))
                .order_by(Version.number)
            )
        )


def event_kinds(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.scalars(select(Event.kind).order_by(Event.id)))


def test_each_change_kind_in_turn(
    write_guide: WriteGuide, seeds: Path, engine: Engine
) -> None:
    write_guide()
    ingest(seeds, engine)
    berlin = {**guide_data()["compensation"][0], "base_low": 71000}
    steps: list[tuple[dict[str, Any], str]] = [
        ({"compensation": [berlin]}, "corrected"),
        ({"compensation": [berlin], "body": "### Better prose\n"}, "edited"),
        (
            {
                "compensation": [berlin],
                "body": "### Better prose\n",
                "last_updated": date(2026, 2, 1),
                "next_review_due": date(2026, 5, 1),
            },
            "reviewed",
        ),
        (
            {
                "compensation": [berlin],
                "body": "### Better prose\n",
                "last_updated": date(2026, 2, 1),
                "next_review_due": date(2026, 5, 1),
                "salary_data_quarter": "2026-Q1",
            },
            "updated",
        ),
    ]
    for changes, kind in steps:
        write_guide(**changes)
        (result,) = ingest(seeds, engine, T2)
        assert result.kind == kind, changes
    assert kinds(engine) == ["new", "corrected", "edited", "reviewed", "updated"]
    # A prose-only edit is history, not news.
    assert event_kinds(engine) == ["new", "corrected", "reviewed", "updated"]
    with Session(engine) as session:
        edited = session.scalars(select(Version).where(Version.kind == "edited")).one()
        assert edited.changed_fields == ["body"]


def test_the_same_content_spelled_otherwise_makes_no_version(
    write_guide: WriteGuide, seeds: Path, engine: Engine
) -> None:
    path = write_guide()
    ingest(seeds, engine)
    before = count_rows(engine)
    text = path.read_text(encoding="utf-8")
    respelled = text.replace("base_low: 70000", "base_low: 70_000").replace(
        "\n", "\r\n"
    )
    path.write_bytes(b"\xef\xbb\xbf" + respelled.encode("utf-8") + b"\r\n\r\n")
    assert outcomes(ingest(seeds, engine, T2)) == {"unchanged": 1}
    assert count_rows(engine) == before


def test_a_moved_file_is_the_same_guide(
    write_guide: WriteGuide, seeds: Path, engine: Engine
) -> None:
    path = write_guide()
    ingest(seeds, engine)
    before = count_rows(engine)
    (seeds / "moved").mkdir()
    path.rename(seeds / "moved" / "acme-de.md")
    assert outcomes(ingest(seeds, engine, T2)) == {"unchanged": 1}
    assert count_rows(engine) == before
    with Session(engine) as session:
        assert session.scalars(select(Source.path)).all() == ["moved/acme-de.md"]


def test_a_file_that_now_claims_another_guide_retires_the_first(
    write_guide: WriteGuide, seeds: Path, engine: Engine
) -> None:
    path = write_guide()
    ingest(seeds, engine)
    write_guide(role="ml-engineer")  # the same file
    results = ingest(seeds, engine, T2)
    assert outcomes(results) == {"ingested": 2}  # the new guide and the tombstone
    with Session(engine) as session:
        kinds = session.execute(
            select(Guide.role, Version.kind).join(Version.guide).order_by(Version.id)
        ).all()
        assert [tuple(row) for row in kinds] == [
            ("data-engineer", "new"),
            ("ml-engineer", "new"),
            ("data-engineer", "retired"),
        ]
        sources = session.scalars(select(Source.path)).all()
        assert sources == [path.relative_to(seeds).as_posix()]


def test_a_deleted_guide_is_retired_and_restored(
    write_guide: WriteGuide, seeds: Path, engine: Engine, tmp_path: Path
) -> None:
    path = write_guide()
    write_guide("other.md", company="other")
    ingest(seeds, engine)
    kept = tmp_path / "kept.md"
    shutil.move(path, kept)
    results = ingest(seeds, engine, T2)
    retired = [r for r in results if r.kind == "retired"]
    assert [(r.path, r.guide, r.version) for r in retired] == [
        (path.as_posix(), "acme/data-engineer", 2)
    ]
    snapshots = count_rows(engine)["snapshots"]
    # Nothing more happens while it stays gone.
    assert outcomes(ingest(seeds, engine, T2)) == {"unchanged": 1}
    shutil.move(kept, seeds / "back.md")
    (result,) = [
        r for r in ingest(seeds, engine, T2) if r.guide == "acme/data-engineer"
    ]
    assert (result.kind, result.version) == ("restored", 3)
    assert kinds(engine) == ["new", "retired", "restored"]
    assert count_rows(engine)["snapshots"] == snapshots  # the same content, reused
    assert event_kinds(engine) == ["new", "new", "retired", "restored"]


def test_two_files_for_one_guide_are_a_conflict_in_either_order(
    write_guide: WriteGuide, seeds: Path, engine: Engine
) -> None:
    write_guide("b.md")
    ingest(seeds, engine)
    before = count_rows(engine)
    for name in ("a.md", "c.md"):  # sorts before, then after, the stored one
        copy = write_guide(name, salary_data_quarter="2026-Q1")
        results = {Path(r.path).name: r for r in ingest(seeds, engine, T2)}
        assert {n: r.outcome for n, r in results.items()} == {
            "b.md": "rejected",
            name: "rejected",
        }
        (error,) = results[name].errors
        assert error.field == "company/role"
        assert error.message == (
            f"{seeds / 'b.md'} also claims acme/data-engineer; neither file is stored "
            "until one of them names another company or role"
        )
        assert count_rows(engine) == before
        copy.unlink()


def test_two_runs_at_once_end_as_one_run(
    real_guides: Path, database_url: str, engine: Engine, tmp_path: Path
) -> None:
    script = textwrap.dedent(
        """
        import sys
        from datetime import UTC, datetime
        from pathlib import Path
        from db.connect import make_engine
        from flows.discover import discover
        from flows.ingest import ingest_folder

        root, url = Path(sys.argv[1]), sys.argv[2]
        engine = make_engine(url)
        results = ingest_folder(
            discover(root), root, engine, now=datetime.now(UTC).replace(microsecond=0)
        )
        print(sum(r.outcome == "ingested" for r in results))
        """
    )
    command = [sys.executable, "-c", script, str(real_guides), database_url]
    runs = [
        subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    finished = [run.communicate(timeout=300) for run in runs]
    for run, (_, err) in zip(runs, finished, strict=True):
        assert run.returncode == 0, err.decode()
    # Between them the two runs stored each guide once.
    assert sum(int(out) for out, _ in finished) == 224, finished
    stored = count_rows(engine)
    assert stored["guides"] == stored["versions"] == stored["snapshots"] == 224
    # The real guides' reviews were due in 2026-05: one overdue event each, once.
    assert Counter(event_kinds(engine)) == {"new": 224, "review_overdue": 224}


def test_a_batch_that_lost_a_race_is_written_one_file_at_a_time(
    write_guide: WriteGuide,
    seeds: Path,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_guide()
    ingest(seeds, engine)
    berlin = {**guide_data()["compensation"][0], "base_low": 71000}
    write_guide(compensation=[berlin])
    write_guide("acme/ml-engineer.md", role="ml-engineer")
    looked: list[list[tuple[str, str]]] = []

    def before_the_other_run_wrote(
        session: Session, keys: list[tuple[str, str]]
    ) -> dict[tuple[str, str], store.Stored]:
        # The first look misses acme/data-engineer, as if a concurrent run had
        # committed it just after: the batch's insert then breaks a unique constraint.
        found = stored_guides(session, keys)
        looked.append(sorted(found))
        return {} if len(looked) == 1 else found

    stored_guides = store.stored_guides
    monkeypatch.setattr(store, "stored_guides", before_the_other_run_wrote)
    results = {r.guide: (r.outcome, r.kind, r.version) for r in ingest(seeds, engine)}
    assert looked[0] == [("acme", "data-engineer")]
    assert len(looked) == 3  # the batch, then each of its two files alone
    assert results == {
        "acme/data-engineer": ("ingested", "corrected", 2),
        "acme/ml-engineer": ("ingested", "new", 1),
    }
    assert sorted(kinds(engine)) == ["corrected", "new", "new"]
    stored = count_rows(engine)
    assert (stored["guides"], stored["versions"], stored["events"]) == (2, 3, 3)


def test_a_reader_sees_the_last_commit_while_a_run_writes(
    write_guide: WriteGuide, seeds: Path, engine: Engine, database_url: str
) -> None:
    write_guide()
    ingest(seeds, engine)
    holding, done = threading.Event(), threading.Event()
    released_by_reader = []

    def write_and_hold() -> None:
        with Session(engine) as session, session.begin():
            session.execute(update(Guide).values(first_seen_at=T2))
            holding.set()
            # Held until the reader has answered: a reader that waited for this
            # lock could only answer after this wait timed out.
            released_by_reader.append(done.wait(timeout=30))

    writer = threading.Thread(target=write_and_hold)
    writer.start()
    assert holding.wait(timeout=30)
    try:
        result = runner.invoke(
            app,
            ["history", "acme/data-engineer", "--json", "--database-url", database_url],
        )
    finally:
        done.set()
        writer.join()
    assert released_by_reader == [True]
    assert result.exit_code == 0, result.stderr
    assert [(v["version"], v["kind"]) for v in json.loads(result.stdout)] == [
        (1, "new")
    ]


def test_every_run_is_recorded_with_each_stored_skipped_or_rejected_file(
    write_guide: WriteGuide, seeds: Path, engine: Engine, database_url: str
) -> None:
    write_guide()
    write_guide("bad.md", company="bad", salary_data_quarter="soon")
    (seeds / "notes.md").write_text("# Just notes\n")
    ingest(seeds, engine)
    ingest(seeds, engine, T2)
    with Session(engine) as session:
        first, second = session.scalars(select(Run).order_by(Run.id)).all()
        assert first.started_at == T1 and first.finished_at is not None
        assert first.counts == {"ingested": 1, "new": 1, "rejected": 1, "skipped": 1}
        assert second.counts == {"unchanged": 1, "rejected": 1, "skipped": 1}
    result = runner.invoke(
        app, ["runs", "--last", "1", "--json", "--database-url", database_url]
    )
    assert result.exit_code == 0, result.stderr
    (run,) = json.loads(result.stdout)
    files = {Path(f["path"]).name: f for f in run["files"]}
    assert set(files["bad.md"]) >= {"path", "outcome", "guide", "errors", "warnings"}
    assert files["bad.md"]["outcome"] == "rejected"
    assert files["bad.md"]["errors"] == [
        {
            "field": "salary_data_quarter",
            "line": 9,
            "message": "'soon' is not a quarter like 2025-Q4 (got 'soon')",
        }
    ]
    assert files["notes.md"]["outcome"] == "skipped"
    # The unchanged guide is counted above, not listed.
    assert "data-engineer.md" not in files
    plain = runner.invoke(app, ["runs", "--last", "1", "--database-url", database_url])
    assert plain.exit_code == 0, plain.stderr
    assert (
        f"rejected {seeds / 'bad.md'}: salary_data_quarter: 'soon' is not a quarter"
        in plain.stdout
    )


def test_history_diff_and_as_of(
    write_guide: WriteGuide, seeds: Path, engine: Engine, database_url: str
) -> None:
    write_guide()
    ingest(seeds, engine, T1)
    write_guide(
        salary_data_quarter="2026-Q1",
        last_updated=date(2026, 4, 1),
        next_review_due=date(2026, 7, 1),
        compensation=[
            {
                "region": "Berlin",
                "base_low": 73500,
                "base_high": 94500,
                "currency": "EUR",
            }
        ],
    )
    ingest(seeds, engine, T2)
    db = ["--database-url", database_url]

    result = runner.invoke(app, ["history", "acme/data-engineer", "--json", *db])
    assert result.exit_code == 0, result.stderr
    versions = json.loads(result.stdout)
    assert [(v["version"], v["kind"], v["salary_data_quarter"]) for v in versions] == [
        (1, "new", "2025-Q4"),
        (2, "updated", "2026-Q1"),
    ]
    assert set(versions[1]) >= {
        "version",
        "kind",
        "salary_data_quarter",
        "last_updated",
        "next_review_due",
        "source_path",
        "changed_fields",
        "compensation",
    }
    assert versions[1]["compensation"] == [
        {"region": "Berlin", "base_low": 73500, "base_high": 94500, "currency": "EUR"}
    ]
    assert versions[0]["source_path"] == "acme/data-engineer.md"

    for when, number in (
        ("2025-Q4", 1),
        ("2026-Q2", 2),
        ("2026-03-15", 1),
        ("2026-04-02", 2),
    ):
        result = runner.invoke(
            app, ["history", "acme/data-engineer", "--as-of", when, "--json", *db]
        )
        assert json.loads(result.stdout)["version"] == number, when
    result = runner.invoke(
        app, ["history", "acme/data-engineer", "--as-of", "2025-Q1", *db]
    )
    assert result.exit_code == 1
    assert "acme/data-engineer had no version as of 2025-Q1" in result.stderr

    result = runner.invoke(app, ["diff", "acme/data-engineer", "--json", *db])
    changes = {
        c["field"]: (c["old"], c["new"]) for c in json.loads(result.stdout)["changes"]
    }
    assert changes["salary_data_quarter"] == ("2025-Q4", "2026-Q1")
    assert changes["compensation[Berlin].base_low"] == (70000, 73500)
    assert changes["compensation[Berlin].stock_low"] == (20000, None)
    assert "body" not in changes
    text = runner.invoke(app, ["diff", "acme/data-engineer", "1", "2", *db]).stdout
    assert "  compensation[Berlin].base_high: 90000 -> 94500" in text
    missing = runner.invoke(app, ["diff", "acme/data-engineer", "1", "9", *db])
    assert missing.exit_code == 2
    assert "has versions 1 to 2; no version 9" in missing.stderr
    unknown = runner.invoke(app, ["history", "acme", *db])
    assert unknown.exit_code == 2
    assert "give the guide as COMPANY/ROLE" in unknown.stderr


def test_diff_of_a_single_version_says_so(
    write_guide: WriteGuide, seeds: Path, engine: Engine, database_url: str
) -> None:
    write_guide()
    ingest(seeds, engine, T1)
    result = runner.invoke(
        app, ["diff", "acme/data-engineer", "--database-url", database_url]
    )
    assert result.exit_code == 2
    assert "has only version 1: nothing to compare it with" in result.stderr


def test_commands_that_read_never_create_a_database(
    database_url: str, tmp_path: Path
) -> None:
    # An empty database (a new SQLite path, a fresh PostgreSQL database) stays empty.
    for command in (["runs"], ["qoq"], ["history", "acme/data-engineer"]):
        result = runner.invoke(app, [*command, "--database-url", database_url])
        assert result.exit_code == 1, result.output
        assert "no compfeed history in" in result.stderr
    if database_url.startswith("sqlite"):
        assert not (tmp_path / "compfeed.sqlite3").exists()
    else:
        engine = create_engine(database_url)
        with engine.connect() as connection:
            assert not inspect(connection).get_table_names()
        engine.dispose()


def test_a_database_without_its_driver_is_a_usage_error() -> None:
    result = runner.invoke(app, ["runs", "--database-url", "mysql://u:pw@h/db"])
    assert result.exit_code == 2
    assert "its driver is not installed" in result.stderr
    assert "pw" not in result.stderr
    empty = runner.invoke(app, ["runs", "--database-url", "postgres://u@h/db"])
    assert empty.exit_code == 2
    assert "postgresql+psycopg://" in empty.stderr


def test_qoq_reports_changes_and_medians(
    write_guide: WriteGuide, seeds: Path, engine: Engine, database_url: str
) -> None:
    def region(
        name: str, base: tuple[int, int], total: tuple[int, int]
    ) -> dict[str, object]:
        return {
            "region": name,
            "base_low": base[0],
            "base_high": base[1],
            "total_comp_low": total[0],
            "total_comp_high": total[1],
            "currency": "USD",
        }

    q4 = {"salary_data_quarter": "2025-Q4"}
    q1 = {
        "salary_data_quarter": "2026-Q1",
        "last_updated": date(2026, 4, 1),
        "next_review_due": date(2026, 7, 1),
    }
    write_guide(
        "a.md", company="a", compensation=[region("SF", (100, 200), (200, 400))], **q4
    )
    write_guide(
        "b.md",
        company="b",
        compensation=[region("SF (HQ)", (100, 100), (100, 300))],
        **q4,
    )
    ingest(seeds, engine, T1)
    write_guide(
        "a.md", company="a", compensation=[region("SF", (110, 220), (200, 400))], **q1
    )
    write_guide(
        "b.md", company="b", compensation=[region("SF", (130, 130), (150, 350))], **q1
    )
    ingest(seeds, engine, T2)

    result = runner.invoke(
        app, ["qoq", "--format", "json", "--database-url", database_url]
    )
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["quarter"] == "2026-Q1"
    base_low = [c for c in report["changes"] if c["field"] == "base_low"]
    assert [
        (c["guide"], c["old"], c["new"], c["delta"], c["pct"]) for c in base_low
    ] == [
        ("a/data-engineer", 100, 110, 10, 10.0),
        ("b/data-engineer", 100, 130, 30, 30.0),
    ]
    assert set(base_low[0]) >= {
        "guide",
        "region",
        "field",
        "from_quarter",
        "to_quarter",
        "old",
        "new",
        "delta",
        "pct",
        "flag",
    }
    # Midpoints: base +10% and +30%, total comp 0% and +25%.
    assert report["summary"]["overall"] == {
        "base": {"median_pct": 20.0, "guides": 2},
        "stock": {"median_pct": None, "guides": 0},
        "total_comp": {"median_pct": 12.5, "guides": 2},
    }
    assert report["summary"]["by_role"]["data-engineer"]["base"]["guides"] == 2

    only_b = runner.invoke(
        app,
        [
            "qoq",
            "--company",
            "b",
            "--region",
            "sf (hq)",
            "--format",
            "csv",
            "--database-url",
            database_url,
        ],
    )
    lines = only_b.stdout.splitlines()
    assert (
        lines[0]
        == "guide,region,field,currency,from_quarter,to_quarter,old,new,delta,pct,flag"
    )
    assert (
        lines[1] == "b/data-engineer,SF,base_low,USD,2025-Q4,2026-Q1,100,130,30,30.0,"
    )
    table = runner.invoke(app, ["qoq", "--database-url", database_url]).stdout
    assert "2026-Q1 summary" in table and "+20.00% (2 guide(s))" in table
