"""Ingest and versioning against real databases: SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import shutil
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

import flows.ingest as ingest_module
from db import store
from db.connect import make_engine
from db.migrate import upgrade
from db.schema import CompRow, Event, Guide, QoqChange, Version
from db.store import count_rows
from flows.discover import discover
from flows.ingest import Ingest, ingest_folder
from flows.processes import process_pool
from flows.verdict import FileResult, Outcome
from tests.conftest import SEED, WriteGuide
from tests.test_workers import history_of

T1 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
T2 = datetime(2026, 4, 2, 9, 30, tzinfo=UTC)


def ingest(
    seeds: Path, engine: Engine, now: datetime = T1, force: bool = False
) -> list[FileResult]:
    return ingest_folder(discover(seeds), seeds, engine, now=now, force=force)


def outcomes(results: list[FileResult]) -> Counter[str]:
    return Counter(str(r.outcome) for r in results)


def test_the_seed_is_stored_with_exact_figures_and_a_clean_body(
    seeds: Path, engine: Engine
) -> None:
    shutil.copy(SEED, seeds)
    (result,) = ingest(seeds, engine)
    assert (result.outcome, result.kind, result.version) == (Outcome.INGESTED, "new", 1)
    with Session(engine) as session:
        version = session.scalars(select(Version)).one()
        rows = {r.region: r for r in version.snapshot.regions}
        sf, london = rows["San Francisco, CA (HQ)"], rows["London, UK"]
        assert (sf.base_low, sf.base_high, sf.currency) == (175000, 230000, "USD")
        assert (london.base_low, london.base_high, london.currency) == (
            110000,
            155000,
            "GBP",
        )
        assert (
            sf.bonus_pct == 10
            and sf.stock_high == 350000
            and sf.total_comp_low == 260000
        )
        body = version.snapshot.body
        assert "$175K–$230K" in body and "£110K" in body
        assert "â€" not in body and "Â£" not in body
        assert (version.source_path, version.snapshot.salary_data_quarter) == (
            "twilio-senior-software-engineer.md",
            "2025-Q4",
        )
        assert version.snapshot.last_updated == date(2026, 2, 23)
        assert version.ingested_at == T1
        assert version.source_sha256 is not None
        assert len(version.source_sha256) == len(version.snapshot.content_hash) == 64
        event = session.scalars(select(Event)).one()
        assert (event.kind, event.title) == (
            "new",
            "Twilio Senior Software Engineer: new guide for 2025-Q4",
        )


def test_running_again_writes_nothing_even_when_forced(
    seeds: Path, engine: Engine
) -> None:
    shutil.copy(SEED, seeds)
    ingest(seeds, engine)
    before = count_rows(engine)
    assert outcomes(ingest(seeds, engine, T2)) == {"unchanged": 1}
    assert outcomes(ingest(seeds, engine, T2, force=True)) == {"unchanged": 1}
    assert count_rows(engine) == before


def test_next_quarter_yields_one_version_with_exact_qoq_rows(
    write_guide: WriteGuide, seeds: Path, engine: Engine
) -> None:
    write_guide()
    ingest(seeds, engine)
    before = count_rows(engine)
    write_guide(
        salary_data_quarter="2026-Q1",
        last_updated=date(2026, 4, 1),
        next_review_due=date(2026, 7, 1),
        compensation=[
            {
                "region": "Berlin",
                "base_low": 73500,
                "base_high": 94500,
                "stock_low": 20000,
                "stock_high": 44000,
                "bonus_pct": 10,
                "total_comp_low": 85000,
                "total_comp_high": None,
                "currency": "EUR",
            },
            {
                "region": "Munich",
                "base_low": 75000,
                "base_high": 95000,
                "currency": "EUR",
            },
        ],
    )
    (result,) = ingest(seeds, engine, T2)
    assert (result.outcome, result.kind, result.version) == (
        Outcome.INGESTED,
        "updated",
        2,
    )
    after = count_rows(engine)
    assert after["versions"] - before["versions"] == 1
    assert after["events"] - before["events"] == 1
    with Session(engine) as session:
        changes = session.scalars(select(QoqChange).order_by(QoqChange.id)).all()
        assert [
            (
                c.region,
                c.field,
                c.old,
                c.new,
                c.delta,
                c.pct,
                c.flag,
                c.from_quarter,
                c.to_quarter,
            )
            for c in changes
        ] == [
            ("Berlin", "base_low", 70000, 73500, 3500, 5.0, None, "2025-Q4", "2026-Q1"),
            (
                "Berlin",
                "base_high",
                90000,
                94500,
                4500,
                5.0,
                None,
                "2025-Q4",
                "2026-Q1",
            ),
            ("Berlin", "stock_low", 20000, 20000, 0, 0.0, None, "2025-Q4", "2026-Q1"),
            (
                "Berlin",
                "stock_high",
                40000,
                44000,
                4000,
                10.0,
                None,
                "2025-Q4",
                "2026-Q1",
            ),
            ("Berlin", "bonus_pct", 10, 10, 0, 0.0, None, "2025-Q4", "2026-Q1"),
            (
                "Berlin",
                "total_comp_low",
                85000,
                85000,
                0,
                0.0,
                None,
                "2025-Q4",
                "2026-Q1",
            ),
            (
                "Berlin",
                "total_comp_high",
                115000,
                None,
                None,
                None,
                "missing_value",
                "2025-Q4",
                "2026-Q1",
            ),
            (
                "Munich",
                "region",
                None,
                None,
                None,
                None,
                "region_added",
                "2025-Q4",
                "2026-Q1",
            ),
        ]
        event = session.scalars(select(Event).order_by(Event.id.desc())).first()
        assert event is not None
        assert (event.kind, event.title, event.headline, event.occurred_at) == (
            "updated",
            "Acme Data Engineer: updated for 2026-Q1",
            "2025-Q4 → 2026-Q1: Berlin base +5.0%/+5.0%, stock +0.0%/+10.0%, "
            "total comp dropped; Munich added",
            T2,
        )
        version = session.scalars(select(Version).where(Version.number == 2)).one()
        assert version.changed_fields == [
            "compensation",
            "last_updated",
            "next_review_due",
            "salary_data_quarter",
        ]


def test_a_review_only_change_is_reviewed_and_compares_nothing(
    write_guide: WriteGuide, seeds: Path, engine: Engine
) -> None:
    write_guide()
    ingest(seeds, engine)
    write_guide(last_updated=date(2026, 2, 1), next_review_due=date(2026, 5, 1))
    (result,) = ingest(seeds, engine, T2)
    assert (result.kind, result.version) == ("reviewed", 2)
    assert count_rows(engine)["qoq_changes"] == 0
    assert count_rows(engine)["events"] == 2


def test_overdue_reviews_are_told_in_one_line_naming_the_first_ones(
    write_guide: WriteGuide,
    seeds: Path,
    engine: Engine,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_guide()
    write_guide("other/guide.md", company="other")
    write_guide("third/guide.md", company="third")
    monkeypatch.setattr(ingest_module, "OVERDUE_NAMED", 2)
    with caplog.at_level("INFO", logger="flows.ingest"):
        ingest(seeds, engine, datetime(2026, 5, 1, tzinfo=UTC))
    told = [r.getMessage() for r in caplog.records if "overdue" in r.getMessage()]
    assert told == [
        "review overdue for 3 guide(s): acme/data-engineer (since 2026-04-10), "
        "other/data-engineer (since 2026-04-10) and 1 more"
    ]
    assert count_rows(engine)["events"] == 6  # three new, three overdue


def test_batches_written_again_after_a_transient_error_keep_what_was_committed(
    write_guide: WriteGuide,
    seeds: Path,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for company in ("one", "two", "three"):
        write_guide(f"{company}/guide.md", company=company)
    calls = itertools.count(1)
    append = store.append_versions

    def busy_once(*args: Any, **kwargs: Any) -> None:
        if next(calls) == 2:
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        append(*args, **kwargs)

    monkeypatch.setattr(store, "append_versions", busy_once)
    with Ingest(seeds, engine, T1) as job:
        scanned = job.scan(discover(seeds))
        pending = job.to_write(scanned, job.conflicts(scanned))
        batches = [pending[:2], pending[2:]]
        with pytest.raises(OperationalError):
            job.write_batches(batches)
        # A retried task goes again over both: the first stays as it was stored.
        job.write_batches(batches)
    assert [(i.result.outcome, i.result.version) for i in scanned] == [
        (Outcome.INGESTED, 1)
    ] * 3
    assert count_rows(engine)["versions"] == 3


def test_a_rejected_file_keeps_history_and_the_batch_goes_on(
    write_guide: WriteGuide, seeds: Path, engine: Engine
) -> None:
    write_guide()
    ingest(seeds, engine)
    before = count_rows(engine)
    broken = write_guide(salary_data_quarter="2026-Q5")
    write_guide("other/guide.md", company="other")
    results = {r.path: r for r in ingest(seeds, engine, T2)}
    bad = results[broken.as_posix()]
    assert bad.outcome == Outcome.REJECTED
    assert [(e.field, e.line) for e in bad.errors] == [("salary_data_quarter", 9)]
    assert results[(seeds / "other/guide.md").as_posix()].outcome == Outcome.INGESTED
    with Session(engine) as session:
        acme = session.scalars(select(Guide).where(Guide.company == "acme")).one()
        assert [v.snapshot.salary_data_quarter for v in acme.versions] == ["2025-Q4"]
    assert count_rows(engine)["versions"] == before["versions"] + 1


def test_all_real_guides_ingest_and_a_second_run_writes_nothing(
    real_guides: Path, engine: Engine
) -> None:
    first = ingest(real_guides, engine)
    assert outcomes(first) == {"ingested": 224, "skipped": 4}
    assert not [r for r in first if r.errors]
    stored = count_rows(engine)
    assert stored["guides"] == stored["versions"] == stored["events"] == 224
    assert stored["snapshots"] == 224
    with Session(engine) as session:
        assert session.query(CompRow).count() == 703
    assert outcomes(ingest(real_guides, engine, T2)) == {"unchanged": 224, "skipped": 4}
    assert outcomes(ingest(real_guides, engine, T2, force=True)) == {
        "unchanged": 224,
        "skipped": 4,
    }
    assert count_rows(engine) == stored


def test_files_read_by_processes_give_what_one_process_gives(
    real_guides: Path,
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alone = make_engine(f"sqlite:///{tmp_path / 'alone.sqlite3'}")
    upgrade(alone)
    expected = [r.as_json() for r in ingest(real_guides, alone)]
    pools = []

    def counted(workers: int) -> ProcessPoolExecutor:
        pools.append(workers)
        return process_pool(workers)

    monkeypatch.setattr(ingest_module, "PARALLEL_READS", 2)
    monkeypatch.setattr(ingest_module, "process_pool", counted)
    assert [r.as_json() for r in ingest(real_guides, engine)] == expected
    assert pools and pools[0] >= 2
    assert history_of(engine) == history_of(alone)
    alone.dispose()


def test_a_large_run_renews_postgresqls_planner_statistics(
    write_guide: WriteGuide,
    seeds: Path,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_guide()
    monkeypatch.setattr(ingest_module, "ANALYZE_AFTER", 1)
    assert outcomes(ingest(seeds, engine)) == {"ingested": 1}
    if engine.dialect.name != "postgresql":
        return  # SQLite keeps no statistics to renew
    with engine.connect() as connection:
        analysed = connection.exec_driver_sql(
            "SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL"
        )
        assert {"guides", "versions", "events"} <= set(analysed.scalars())
