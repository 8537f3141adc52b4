"""A real history: levels.fyi records as guides over many quarters, ingested in order,
give quarter-over-quarter figures that a direct computation from the CSV confirms."""

from __future__ import annotations

import csv
import functools
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from db import store
from flows.discover import discover
from flows.ingest import ingest_folder
from tests.conftest import REALDATA, missing
from tests.levelsfyi import write_quarters

SAMPLE = (
    REALDATA / "levelsfyi-kaggle-stem-salaries" / "sample-negotiateup-companies.csv"
)

CHECKED = [
    ("google", "Software Engineer", "Mountain View, CA"),
    ("google", "Software Engineer", "New York, NY"),
    ("google", "Product Manager", "Mountain View, CA"),
    ("stripe", "Software Engineer", "San Francisco, CA"),
]


@pytest.fixture
def levelsfyi_csv() -> Path:
    if not SAMPLE.is_file():
        missing(f"levels.fyi records not found at {SAMPLE}")
    return SAMPLE


def percentile(values: list[float], share: float) -> int:
    """The inclusive percentile: linear between the two nearest ranks."""
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    exact = ordered[below] + (ordered[above] - ordered[below]) * (position - below)
    return round(exact)


@functools.cache
def csv_rows() -> list[dict[str, str]]:
    with SAMPLE.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def direct(
    company: str, title: str, location: str, quarter: str, column: str
) -> dict[str, int]:
    """The p25 and p75 of a column for one guide, region and quarter, from the CSV."""
    year, q = int(quarter[:4]), int(quarter[-1])
    values = []
    for row in csv_rows():
        month, _, rest = row["timestamp"].partition("/")
        row_year = int(rest.split("/")[1].split()[0])
        if (row_year, (int(month) - 1) // 3 + 1) != (year, q):
            continue
        if row["company"].strip().lower() != company or row["title"] != title:
            continue
        if row["location"] == location and row[column] not in ("NA", "", "0"):
            values.append(float(row[column]))
    return {"low": percentile(values, 0.25), "high": percentile(values, 0.75)}


def test_quarter_over_quarter_figures_match_the_csv(
    levelsfyi_csv: Path, engine: Engine, tmp_path: Path
) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    quarters = write_quarters(levelsfyi_csv, tmp_path / "quarters")
    assert len(quarters) >= 12
    for step, folder in enumerate(quarters.values()):
        # Each quarter's files replace the last; a guide without data keeps its file.
        shutil.copytree(folder, seeds, dirs_exist_ok=True)
        results = ingest_folder(
            discover(seeds), seeds, engine, now=start + timedelta(days=step)
        )
        assert not [r for r in results if r.errors]

    with Session(engine) as session:
        rows = store.current_changes(session)
    checked = 0
    guides_checked = set()
    for company, title, location in CHECKED:
        key = f"{company}/{title.lower().replace(' ', '-')}"
        for guide, change in rows:
            if guide.key != key or change.region != location or change.flag:
                continue
            figure, _, end = change.field.rpartition("_")
            column = {"base": "basesalary", "total_comp": "totalyearlycompensation"}
            if figure not in column or end not in ("low", "high"):
                continue
            old = direct(company, title, location, change.from_quarter, column[figure])
            new = direct(company, title, location, change.to_quarter, column[figure])
            assert (change.old, change.new) == (old[end], new[end]), change.__dict__
            assert change.delta == new[end] - old[end]
            checked += 1
            guides_checked.add(key)
    assert len(guides_checked) >= 3
    assert checked >= 40
