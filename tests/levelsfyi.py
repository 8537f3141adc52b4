"""Turns levels.fyi salary records into guide files, one folder per quarter.

A test utility, not part of compfeed: it gives the history real quarter-over-quarter
movement. A guide is a company and title; its regions are the locations with at least
``MIN_ROWS`` records in the quarter. Ranges are the 25th and 75th percentiles of the
records (base, stock over four years, total comp), the bonus the median share of base.

Run as a script to write the folders: ``python -m tests.levelsfyi CSV OUT``.
"""

from __future__ import annotations

import csv
import gzip
import re
import sys
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from statistics import median, quantiles
from typing import Any

import yaml

MIN_ROWS = 5
MAX_REGIONS = 7


def records(path: Path) -> Iterator[dict[str, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="", encoding="utf-8") as handle:
        yield from csv.DictReader(handle)


def quarter_of(timestamp: str) -> str:
    day = datetime.strptime(timestamp.split()[0], "%m/%d/%Y").date()
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.strip().lower()).strip("-")


def whole(value: str) -> int | None:
    """A money value, or None where levels.fyi hid or lacked it (NA or 0)."""
    if value in ("", "NA"):
        return None
    amount = round(float(value))
    return amount or None


def p25_p75(values: list[int]) -> tuple[int, int]:
    low, _, high = quantiles(values, n=4, method="inclusive")
    return round(low), round(high)


def region(location: str, rows: list[dict[str, str]]) -> dict[str, Any]:
    bases = [b for r in rows if (b := whole(r["basesalary"]))]
    totals = [t for r in rows if (t := whole(r["totalyearlycompensation"]))]
    # The data set's stock is yearly; guides state stock over four years.
    stocks = [
        s * 4
        for r in rows
        if whole(r["basesalary"]) and (s := whole(r["stockgrantvalue"]))
    ]
    bonus = [
        float(r["bonus"]) / b * 100
        for r in rows
        if (b := whole(r["basesalary"])) and r["bonus"] not in ("", "NA")
    ]
    figures: dict[str, Any] = {"region": location}
    for name, values in (("base", bases), ("stock", stocks), ("total_comp", totals)):
        low, high = p25_p75(values) if len(values) >= 2 else (None, None)
        figures[f"{name}_low"], figures[f"{name}_high"] = low, high
    figures["bonus_pct"] = round(median(bonus), 1) if bonus else None
    figures["currency"] = "USD"
    return figures


def guides(path: Path) -> dict[str, dict[tuple[str, str], dict[str, Any]]]:
    """Frontmatter per quarter and (company, role)."""
    groups: dict[tuple[str, str, str, str], list[dict[str, str]]] = defaultdict(list)
    for row in records(path):
        company = slug(row["company"].replace("\xa0", " "))
        key = (quarter_of(row["timestamp"]), company, row["title"], row["location"])
        groups[key].append(row)
    by_guide: dict[tuple[str, str, str], list[tuple[str, list[dict[str, str]]]]] = (
        defaultdict(list)
    )
    for (quarter, company, title, location), rows in groups.items():
        if len(rows) >= MIN_ROWS:
            by_guide[(quarter, company, title)].append((location, rows))
    out: dict[str, dict[tuple[str, str], dict[str, Any]]] = defaultdict(dict)
    for (quarter, company, title), places in sorted(by_guide.items()):
        places.sort(key=lambda place: (-len(place[1]), place[0]))
        places = sorted(places[:MAX_REGIONS])
        rows = [r for _, rs in places for r in rs]
        last = max(datetime.strptime(r["timestamp"], "%m/%d/%Y %H:%M:%S") for r in rows)
        updated: date = last.date()
        out[quarter][(company, slug(title))] = {
            "company": company,
            "company_display": rows[0]["company"].strip(),
            "role": slug(title),
            "role_display": title,
            "last_updated": updated,
            "salary_data_quarter": quarter,
            "next_review_due": updated + timedelta(days=91),
            "compensation": [region(location, rs) for location, rs in places],
            "data_sources": ["Levels.fyi"],
        }
    return out


def write_quarters(path: Path, out: Path) -> dict[str, Path]:
    """Writes ``OUT/QUARTER/COMPANY/ROLE.md`` files; returns the folder per quarter."""
    folders = {}
    for quarter, by_key in guides(path).items():
        folder = out / quarter
        for (company, role), data in by_key.items():
            file = folder / company / f"{role}.md"
            file.parent.mkdir(parents=True, exist_ok=True)
            block = yaml.safe_dump(data, sort_keys=False)
            file.write_text(f"---\n{block}---\n### {data['role_display']}\n")
        folders[quarter] = folder
    return dict(sorted(folders.items()))


if __name__ == "__main__":
    for quarter, folder in write_quarters(Path(sys.argv[1]), Path(sys.argv[2])).items():
        sys.stdout.write(f"{quarter}: {folder}\n")
