"""Hostile and broken guide files: each gets its exact verdict, the rest of the batch
is ingested, and the stored history of the guide it claims is left as it was.

Every file is made here, in ``tmp_path``; none is kept in the project.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from db.schema import Version
from flows.cli import app
from flows.discover import discover
from flows.ingest import ingest_folder
from flows.parse import MAX_FILE_BYTES, ParsedGuide, parse_guide, read_capped
from flows.snapshot import snapshot_of
from flows.verdict import FileResult, Outcome
from tests.conftest import REALDATA, guide_data, guide_text, missing

GOOD = guide_text(guide_data())
# Lines of GOOD: 1 '---', 2 company, 4 role, 6 role_type, 7 last_updated,
# 9 salary_data_quarter, 10 next_review_due, 12 '- region: Berlin', 13 base_low,
# 14 base_high, 17 bonus_pct, 20 currency, 26 negotiation_dna_summary, 27 '---',
# 28 the body.
BERLIN = GOOD.index("Berlin")  # its offset in the file
TABLE = (
    "\n| Region | Base Salary | Stock (RSU/4yr) | Bonus | Total Comp |\n"
    "|--------|-------------|-----------------|-------|------------|\n"
)

Found = tuple[str | None, int | None, str]  # field, line, message


def edit(old: str, new: str, text: str = GOOD) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def alias_bomb(levels: int = 9) -> str:
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for n in range(1, levels):
        name, previous = f"a{n}", "a" if n == 1 else f"a{n - 1}"
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
    return "---\n" + "\n".join(lines) + f"\ncompany: *a{levels - 1}\n---\n"


@dataclass(frozen=True)
class Case:
    id: str
    data: bytes
    outcome: Outcome
    errors: list[Found] = field(default_factory=list)
    warnings: list[Found] = field(default_factory=list)
    # For a file that is read: values of the stored frontmatter, by key path.
    values: dict[str, Any] = field(default_factory=dict)


def rejected(id: str, text: str | bytes, *errors: Found) -> Case:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return Case(id, data, Outcome.REJECTED, list(errors))


def read(id: str, text: str | bytes, *warnings: Found, **values: Any) -> Case:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return Case(id, data, Outcome.OK, [], list(warnings), values)


NOT_CLOSED = "frontmatter is not closed"
WHOLE = "must be a whole number, written without quotes or separators"
ANCHORS = "anchors and aliases are not allowed in a guide"
TAGS = "tags are not allowed in a guide"
NOT_A_DATE = "must be a date like 2026-02-23, without a time or time zone"
REGION = "compensation[0].region"
BASE_LOW = "compensation[0].base_low"
BONUS_PCT = "compensation[0].bonus_pct"

CASES = [
    # The frontmatter's delimiters.
    rejected(
        "not-closed",
        "---\ncompany: acme\nrole: x\n",
        (None, 1, f"{NOT_CLOSED} by a '---' line"),
    ),
    rejected(
        "closing-with-spaces",
        edit("---\n###", "-- -\n###"),
        (None, 27, f"{NOT_CLOSED}: '-- -' should be '---'"),
    ),
    rejected(
        "closing-with-junk-and-a-rule-below",
        edit("---\n###", "----x\n###") + "\n---\nmore\n",
        (None, 27, f"{NOT_CLOSED}: '----x' should be '---'"),
    ),
    rejected(
        "closing-indented",
        edit("---\n###", "  ---\n###"),
        (None, 27, f"{NOT_CLOSED}: '  ---' should be '---'"),
    ),
    rejected(
        "closing-en-dashes",
        edit("---\n###", "–––\n###"),
        (None, 27, f"{NOT_CLOSED}: '–––' should be '---'"),
    ),
    rejected(
        "opening-mangled",
        edit("---\n", "-- -\n"),
        (None, 1, "frontmatter must open with a '---' line, not '-- -'"),
    ),
    rejected(
        "opening-missing",
        GOOD.removeprefix("---\n"),
        (None, 1, "frontmatter has no opening '---' line before its keys"),
    ),
    rejected("empty", "---\n---\nbody\n", (None, 1, "frontmatter is empty")),
    rejected(
        "a-list",
        "---\n- company: acme\n---\nbody\n",
        (None, 1, "frontmatter must be a mapping, not a list"),
    ),
    rejected(
        "toml",
        "+++\ncompany = 'acme'\nrole = 'data-engineer'\n+++\nbody\n",
        (
            None,
            1,
            "TOML frontmatter is not supported; guides use YAML between --- lines",
        ),
    ),
    rejected(
        "not-a-guide",
        "---\nlayout: post\ntitle: Hello\n---\nbody\n",
        (
            None,
            1,
            "not a guide: the frontmatter has none of company, role, "
            "salary_data_quarter, compensation",
        ),
    ),
    Case(
        "no-frontmatter",
        b"# Notes\n\nJust notes.\n",
        Outcome.SKIPPED,
        warnings=[(None, None, "no frontmatter: not a guide")],
    ),
    # YAML's own end marker closes the frontmatter as well.
    read("yaml-document-end-marker", edit("---\n###", "...\n###"), company="acme"),
    read("blank-lines-before-opening", "\n \n" + GOOD, company="acme"),
    # YAML 1.1's surprises: what the author wrote is what is stored, or a rejection.
    read(
        "yes-no-on-off-stay-text",
        edit(
            "role_type: standard",
            "role_type: on",
            edit("region: Berlin", "region: NO", edit("high\n", "yes\n")),
        ),
        role_type="on",
        data_quality="yes",
        **{"compensation.0.region": "NO"},
    ),
    read(
        "number-like-text-stays-text",
        edit(
            "region: Berlin",
            "region: 0123",
            edit("role_type: standard", "role_type: 10:15", edit("high\n", "1e5\n")),
        ),
        role_type="10:15",
        data_quality="1e5",
        **{"compensation.0.region": "0123"},
    ),
    rejected(
        "leading-zero",
        edit("base_low: 70000", "base_low: 070000"),
        (BASE_LOW, 13, f"{WHOLE} (got '070000')"),
    ),
    rejected(
        "sexagesimal",
        edit("base_low: 70000", "base_low: 10:15"),
        (BASE_LOW, 13, f"{WHOLE} (got '10:15')"),
    ),
    rejected(
        "exponent-unsigned",
        edit("base_low: 70000", "base_low: 1e5"),
        (BASE_LOW, 13, f"{WHOLE} (got '1e5')"),
    ),
    rejected(
        "exponent-signed",
        edit("base_low: 70000", "base_low: 1.5e+5"),
        (BASE_LOW, 13, f"{WHOLE} (got '1.5e+5')"),
    ),
    read(
        "underscores-in-threes",
        edit("base_low: 70000", "base_low: 70_000"),
        **{"compensation.0.base_low": 70000},
    ),
    rejected(
        "underscores-elsewhere",
        edit("base_low: 70000", "base_low: 7_0000"),
        (BASE_LOW, 13, f"{WHOLE} (got '7_0000')"),
    ),
    rejected(
        "not-a-number",
        edit("bonus_pct: 10", "bonus_pct: .nan"),
        (BONUS_PCT, 17, "must be a number (got '.nan')"),
    ),
    rejected(
        "percent-sign",
        edit("bonus_pct: 10", "bonus_pct: 10%"),
        (BONUS_PCT, 17, "must be a number (got '10%')"),
    ),
    rejected(
        "starts-with-star",
        edit("region: Berlin", "region: *Berlin"),
        (
            None,
            12,
            "invalid YAML: found undefined alias ('*' starts an alias, which guides "
            "do not use: quote the value)",
        ),
    ),
    rejected(
        "starts-with-ampersand",
        edit("region: Berlin", "region: &HQ Berlin"),
        (REGION, 12, f"{ANCHORS} (got '&HQ'); quote a value that starts with &"),
    ),
    rejected(
        "comment-cuts-text",
        edit("region: Berlin", "region: Berlin #2 office"),
        (
            REGION,
            12,
            "' #' starts a YAML comment, which cuts this value to 'Berlin'; "
            "quote the whole value",
        ),
    ),
    read(
        "comment-after-a-number",
        edit("base_low: 70000", "base_low: 70000  # Levels.fyi p25"),
        **{"compensation.0.base_low": 70000},
    ),
    rejected(
        "timestamp-with-zone",
        edit("last_updated: 2026-01-10", "last_updated: 2026-01-10T09:30:00+02:00"),
        ("last_updated", 7, f"{NOT_A_DATE} (got '2026-01-10T09:30:00+02:00')"),
    ),
    rejected(
        "midnight-utc",
        edit("last_updated: 2026-01-10", "last_updated: 2026-01-10 00:00:00Z"),
        ("last_updated", 7, f"{NOT_A_DATE} (got '2026-01-10 00:00:00Z')"),
    ),
    rejected(
        "impossible-date",
        edit("last_updated: 2026-01-10", "last_updated: 2026-02-30"),
        ("last_updated", 7, "is not a day of the calendar (got '2026-02-30')"),
    ),
    read(
        "quoted-date",
        edit("last_updated: 2026-01-10", "last_updated: '2026-01-10'"),
        last_updated="2026-01-10",
    ),
    rejected(
        "key-not-text",
        edit("role_type: standard", "2026: standard"),
        (None, 6, "invalid YAML: a key must be text, not 2026: quote it"),
    ),
    rejected(
        "duplicate-key",
        edit("role_type: standard", "company: other"),
        (None, 6, "invalid YAML: duplicate key 'company' (first written on line 2)"),
    ),
    # Anchors, aliases and tags are refused before anything is built.
    rejected(
        "alias-bomb",
        alias_bomb(),
        (
            "a",
            2,
            f"{ANCHORS} (got '&a', and more on lines 3, 4, 5, 6, 7, 3 more); "
            "quote a value that starts with &",
        ),
    ),
    rejected(
        "merge-key",
        edit(
            "compensation:\n- region: Berlin\n",
            "defaults: &eu\n  currency: EUR\n"
            "compensation:\n- <<: *eu\n  region: Berlin\n",
        ),
        ("defaults", 11, f"{ANCHORS} (got '&eu'); quote a value that starts with &"),
    ),
    rejected(
        "python-tag",
        "---\ncompany: !!python/object/apply:os.system ['echo owned']\n---\n",
        (
            "company",
            2,
            f"{TAGS} (got '!!python/object/apply:os.system'); "
            "quote a value that starts with !",
        ),
    ),
    rejected(
        "explicit-int-tag",
        edit("base_low: 70000", "base_low: !!int 0123"),
        (BASE_LOW, 13, f"{TAGS} (got '!!int'); quote a value that starts with !"),
    ),
    # Size and binary content.
    rejected(
        "too-large",
        GOOD + "x" * MAX_FILE_BYTES,
        (None, None, "larger than 1,048,576 bytes, the most a guide may be"),
    ),
    rejected(
        "nul-byte",
        GOOD.encode() + b"\x00\x01\x02",
        (None, 29, f"a binary file, not text: NUL byte at byte {len(GOOD)}"),
    ),
    # Encodings: decoded exactly, or refused with the byte.
    read(
        "utf8-bom-crlf",
        b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode(),
        company="acme",
    ),
    read(
        "utf16le-bom-crlf",
        GOOD.replace("\n", "\r\n").encode("utf-16"),
        role="data-engineer",
    ),
    read("utf16be-bom", b"\xfe\xff" + GOOD.encode("utf-16-be"), role="data-engineer"),
    read("cr-line-endings", GOOD.replace("\n", "\r"), role="data-engineer"),
    rejected(
        "utf16-without-bom",
        GOOD.encode("utf-16-le"),
        (None, 1, "a binary file, not text: NUL byte at byte 1"),
    ),
    rejected(
        "utf16-cut-short",
        GOOD.encode("utf-16")[:-1],
        (None, None, f"not valid UTF-16 at byte {len(GOOD) * 2}"),
    ),
    read(
        "windows-1252",
        edit("Steady demand", "Steady “demand”", edit("Berlin", "Zürich")).encode(
            "cp1252"
        ),
        (
            None,
            12,
            f"not UTF-8 (first at byte {BERLIN + 1}, 0xFC): read as "
            "Windows-1252, which decodes every byte of it",
        ),
        negotiation_dna_summary="Steady “demand”",
        **{"compensation.0.region": "Zürich"},
    ),
    rejected(
        "invalid-utf8-in-utf8",
        edit("Berlin", "Zürich").encode() + b"\xff\n",
        (
            None,
            29,
            f"not valid UTF-8 at byte {len(edit('Berlin', 'Zürich').encode())} (0xFF); "
            "the rest is UTF-8, so it is not read as Windows-1252 either",
        ),
    ),
    rejected(
        "neither-utf8-nor-1252",
        edit("Berlin", "Ber\x81lin").encode("latin-1"),
        (
            None,
            12,
            f"not valid UTF-8 at byte {BERLIN + 3} (0x81), nor Windows-1252",
        ),
    ),
    rejected(
        "control-characters",
        edit("Berlin", "Ber\x07lin", edit("Acme\n", "Ac\x1bme\n")) + "\x0c\n",
        (
            None,
            3,
            "control characters (U+0007, U+000C, U+001B) on lines 3, 12, 29: only "
            "tab and line breaks may appear in a guide",
        ),
    ),
    rejected(
        "line-separator",
        edit("Berlin", "Ber\u2028lin"),
        (
            None,
            12,
            "control characters (U+2028) on line 12: only tab and line breaks may "
            "appear in a guide",
        ),
    ),
    rejected(
        "control-written-as-escape",
        edit("region: Berlin", 'region: "Ber\\alin"'),
        (
            REGION,
            12,
            "control characters (U+0007) written as escapes: only tab and line "
            "breaks may appear in a guide",
        ),
    ),
    rejected(
        "c1-control",
        edit("Berlin", "Ber\x85lin"),
        (
            None,
            12,
            "control characters (U+0085) on line 12: only tab and line breaks may "
            "appear in a guide",
        ),
    ),
    rejected(
        "replacement-character",
        edit("Data Engineer | Acme", "Data Engineer \ufffd Acme"),
        (
            None,
            28,
            "U+FFFD replacement characters on line 28: text was lost before the file "
            "was saved",
        ),
    ),
    # Values out of range.
    rejected(
        "low-above-high",
        edit("base_low: 70000", "base_low: 95000"),
        (BASE_LOW, 13, "base_low (95000) is above base_high (90000)"),
    ),
    rejected(
        "negative-pay",
        edit("stock_low: 20000", "stock_low: -20000"),
        ("compensation[0].stock_low", 15, "must not be negative (got -20000)"),
    ),
    rejected(
        "bonus-above-100",
        edit("bonus_pct: 10", "bonus_pct: 100.5"),
        (BONUS_PCT, 17, "must be at most 100 (got 100.5)"),
    ),
    rejected(
        "absurd-figure",
        edit("total_comp_high: 115000", "total_comp_high: 99999999999999999999"),
        (
            "compensation[0].total_comp_high",
            19,
            "must be at most 1000000000000000 (got 99999999999999999999)",
        ),
    ),
    rejected(
        "unknown-currency",
        edit("currency: EUR", "currency: EUD"),
        (
            "compensation[0].currency",
            20,
            "is not a currency code of ISO 4217 (got 'EUD')",
        ),
    ),
    rejected(
        "malformed-quarter",
        edit("2025-Q4", "2025-Q5"),
        (
            "salary_data_quarter",
            9,
            "'2025-Q5' is not a quarter like 2025-Q4 (got '2025-Q5')",
        ),
    ),
    rejected(
        "review-before-update",
        edit("next_review_due: 2026-04-10", "next_review_due: 2025-12-31"),
        (
            "next_review_due",
            10,
            "next_review_due (2025-12-31) is before last_updated (2026-01-10)",
        ),
    ),
    # Every problem at once, from every stage.
    rejected(
        "every-problem-at-once",
        edit(
            "2025-Q4",
            "Q4",
            edit(
                "currency: EUR", "currency: ZZZ", edit("region: Berlin", "region: B #1")
            ),
        )
        + "bell\x07\n",
        (
            None,
            29,
            "control characters (U+0007) on line 29: only tab and line "
            "breaks may appear in a guide",
        ),
        ("salary_data_quarter", 9, "'Q4' is not a quarter like 2025-Q4 (got 'Q4')"),
        (
            "compensation[0].currency",
            20,
            "is not a currency code of ISO 4217 (got 'ZZZ')",
        ),
        (
            REGION,
            12,
            "' #' starts a YAML comment, which cuts this value to 'B'; quote the "
            "whole value",
        ),
    ),
    # The body's table against the frontmatter: warnings, naming region and field.
    read(
        "table-disagrees",
        GOOD + TABLE + "| Berlin | €75K–€90K | €20K–€40K | 12–15% | €85K–€115K |\n",
        (
            BASE_LOW,
            13,
            "base 70000–90000 disagrees with the body's table for Berlin on line "
            "32: €75K–€90K",
        ),
        (
            BONUS_PCT,
            17,
            "bonus_pct 10 disagrees with the body's table for Berlin on line 32: "
            "12–15%",
        ),
    ),
    read(
        "table-agrees",
        GOOD
        + TABLE
        + "| Berlin | €70K–€90K | €20K-€40K | 10–15% + any | EUR 0.085M to 115K |\n"
        + "| Paris | €1M | — | 99% | n/a |\n",
    ),
]


def verdict(
    result: ParsedGuide | FileResult,
) -> tuple[Outcome, list[Found], list[Found]]:
    def found(problems: Any) -> list[Found]:
        return [(p.field, p.line, p.message) for p in problems]

    if isinstance(result, ParsedGuide):
        return Outcome.OK, [], found(result.warnings)
    return result.outcome, found(result.errors), found(result.warnings)


def value_at(data: Any, path: str) -> Any:
    for part in path.split("."):
        data = data[int(part)] if part.isdigit() else data[part]
    return data


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_each_hostile_file_gets_its_verdict(case: Case, tmp_path: Path) -> None:
    path = tmp_path / "guide.md"
    path.write_bytes(case.data)
    started = time.perf_counter()
    result = parse_guide("guide.md", read_capped(path))
    assert time.perf_counter() - started < 0.5
    assert verdict(result) == (case.outcome, case.errors, case.warnings)
    if isinstance(result, ParsedGuide):
        stored = snapshot_of(result.guide, result.body).frontmatter
        for key, value in case.values.items():
            assert value_at(stored, key) == value, key
        assert "\ufffd" not in str(stored) + result.body


def test_a_file_too_large_is_not_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "huge.md"
    path.write_bytes(GOOD.encode() + b"x" * (50 * MAX_FILE_BYTES))
    assert len(read_capped(path)) == MAX_FILE_BYTES + 1


def test_a_large_alias_bomb_is_refused_quickly() -> None:
    # Twelve levels of nine: 9**12 (282 billion) strings if it were ever expanded.
    started = time.perf_counter()
    result = parse_guide("bomb.md", alias_bomb(12).encode())
    assert time.perf_counter() - started < 0.1
    assert isinstance(result, FileResult)
    (error,) = result.errors
    assert error.message.startswith(f"{ANCHORS} (got '&a', and more on lines 3, 4,")


def write_cases(folder: Path) -> dict[str, Case]:
    """Every case as a file in ``folder``, by file name."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for case in CASES:
        (folder / f"{case.id}.md").write_bytes(case.data)
        files[f"{case.id}.md"] = case
    return files


def test_validate_gives_every_file_its_verdict(tmp_path: Path) -> None:
    files = write_cases(tmp_path / "hostile")
    result = CliRunner().invoke(app, ["validate", str(tmp_path / "hostile")])
    assert result.exit_code == 1
    counts = {o: sum(c.outcome == o for c in files.values()) for o in Outcome}
    assert result.stdout.splitlines()[-1] == (
        f"{len(files)} file(s): {counts[Outcome.OK]} ok, "
        f"{counts[Outcome.SKIPPED]} skipped, {counts[Outcome.REJECTED]} rejected"
    )
    for name, case in files.items():
        for _, line, message in case.errors:
            where = f"{tmp_path / 'hostile' / name}" + (
                "" if line is None else f":{line}"
            )
            assert f"rejected {where}: " in result.stderr
            assert message in result.stderr


def test_validate_rejects_a_file_it_cannot_read_and_goes_on(tmp_path: Path) -> None:
    # A regular file whose read fails (EIO), whoever runs the tests.
    unreadable = Path("/proc/self/mem")
    (tmp_path / "ok.md").write_text(GOOD)
    result = CliRunner().invoke(
        app, ["validate", str(unreadable), str(tmp_path / "ok.md")]
    )
    assert result.exit_code == 1
    assert (
        f"rejected {unreadable}: cannot read: [Errno 5] Input/output error"
        in result.stderr
    )
    assert result.stdout.splitlines()[-1] == "2 file(s): 1 ok, 0 skipped, 1 rejected"


def versions(engine: Engine) -> list[tuple[int, int, str]]:
    with Session(engine) as session:
        rows = session.execute(
            select(Version.guide_id, Version.number, Version.kind).order_by(Version.id)
        )
        return [(g, n, str(k)) for g, n, k in rows]


def test_the_batch_goes_on_and_history_is_untouched(
    tmp_path: Path, engine: Engine
) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    stored = seeds / "acme.md"
    stored.write_text(GOOD, encoding="utf-8")

    def ingest(minute: int) -> dict[str, FileResult]:
        now = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(minutes=minute)
        results = ingest_folder(discover(seeds), seeds, engine, now=now)
        return {Path(r.path).name: r for r in results}

    ingest(0)
    before = versions(engine)
    assert [kind for _, _, kind in before] == ["new"]

    # Every hostile file beside a good one: each gets its verdict (those that are
    # read claim acme/data-engineer, as acme.md does: a conflict, all refused), the
    # good one is stored.
    files = write_cases(seeds / "hostile")
    (seeds / "other.md").write_text(guide_text(guide_data(company="other")))
    results = ingest(1)
    for name, case in files.items():
        expected = Outcome.REJECTED if case.outcome == Outcome.OK else case.outcome
        assert results[name].outcome == expected, name
    assert results["acme.md"].outcome == Outcome.REJECTED
    assert results["other.md"].outcome == Outcome.INGESTED
    before = versions(engine)
    assert [kind for _, _, kind in before] == ["new", "new"]

    # The stored guide's own file turned into each rejected case in turn: its
    # history is neither changed nor retired.
    rejects = [case for case in CASES if case.outcome == Outcome.REJECTED]
    for minute, case in enumerate(rejects, 2):
        stored.write_bytes(case.data)
        assert ingest(minute)["acme.md"].outcome == Outcome.REJECTED, case.id
        assert versions(engine) == before, case.id


def test_links_out_of_the_seeds_folder_are_not_followed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seeds, outside = tmp_path / "seeds", tmp_path / "outside"
    seeds.mkdir()
    outside.mkdir()
    (outside / "secret.md").write_text(GOOD)
    (seeds / "inside.md").write_text(GOOD)
    (seeds / "leak.md").symlink_to(outside / "secret.md")
    (seeds / "folder").symlink_to(outside, target_is_directory=True)
    (seeds / "alias.md").symlink_to(seeds / "inside.md")
    (seeds / "dangling.md").symlink_to(tmp_path / "gone.md")
    (seeds / "loop.md").symlink_to(seeds / "loop.md")
    (seeds / "through.md").symlink_to(seeds / "inside.md" / "x.md")
    os.mkfifo(seeds / "pipe.md")  # opening it would wait for a writer forever
    with caplog.at_level("WARNING", logger="flows.discover"):
        found = discover(seeds)
    assert [p.name for p in found] == ["alias.md", "inside.md"]
    assert sorted(r.getMessage() for r in caplog.records) == [
        f"{seeds / 'dangling.md'}: a link that leads nowhere; not read",
        f"{seeds / 'leak.md'}: links outside the seeds folder; not read",
        f"{seeds / 'loop.md'}: a link that cannot be followed"
        " (Too many levels of symbolic links); not read",
        f"{seeds / 'pipe.md'}: not a regular file; not read",
        f"{seeds / 'through.md'}: a link that cannot be followed (Not a directory);"
        " not read",
    ]


def test_hidden_files_and_folders_are_passed_over(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    for name in (
        "top.md",
        "a/b/deep.md",
        "odd.md/inside.md",  # a folder named like a guide is looked into
        ".draft.md",
        ".git/x.md",
        "a/.cache/y.md",
        "a/notes.txt",
        "a/README.MD",
    ):
        (seeds / name).parent.mkdir(parents=True, exist_ok=True)
        (seeds / name).write_text(GOOD)
    found = [p.relative_to(seeds).as_posix() for p in discover(seeds)]
    assert found == ["a/b/deep.md", "odd.md/inside.md", "top.md"]


CORPUS = REALDATA / "frontmatter-corpus"


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        missing(f"frontmatter corpus not found at {CORPUS}")
    return CORPUS


def test_real_markdown_that_is_no_guide_is_skipped_or_rejected(corpus: Path) -> None:
    """1,411 real markdown files, none a guide: each is skipped or rejected with a
    reason, and the quirks the corpus documents give the verdicts they should."""
    paths = discover(corpus) + sorted(
        p for p in corpus.rglob("*.markdown") if p.is_file()
    )
    assert len(paths) == 1 + 1411  # SOURCE.md and the corpus
    verdicts = {}
    for path in paths:
        result = parse_guide(path.as_posix(), read_capped(path))
        assert isinstance(result, FileResult), path
        assert result.outcome in (Outcome.SKIPPED, Outcome.REJECTED), path
        assert result.errors or result.warnings, path
        verdicts[path.relative_to(corpus).as_posix()] = result
    # Each file's problems, as (field, line, message).
    found = {
        name: [(p.field, p.line, p.message) for p in r.errors or r.warnings]
        for name, r in verdicts.items()
    }
    toml = (
        None,
        1,
        "TOML frontmatter is not supported; guides use YAML between --- lines",
    )
    assert all(toml in found[n] for n in found if n.startswith("rust-blog-toml"))
    not_a_guide = (
        None,
        1,
        "not a guide: the frontmatter has none of company, role, "
        "salary_data_quarter, compensation",
    )
    source = "jekyll/test/source"
    assert found[f"{source}/_encodings/UTF8CRLFandBOM.md"] == [not_a_guide]
    assert found[f"{source}/_encodings/Unicode16LECRLFandBOM.md"] == [not_a_guide]
    # The frontmatter closed by YAML's '...' is read, and found to be no guide.
    assert found[f"{source}/_methods/yaml_with_dots.md"] == [not_a_guide]
    assert found[f"{source}/_broken/bad_post.md"] == [
        (
            None,
            3,
            "invalid YAML: did not find expected node content (while parsing a "
            "flow node on line 3)",
        )
    ]
    assert found[f"{source}/_posts/2009-06-22-empty-yaml.markdown"] == [
        (None, 1, "frontmatter is empty")
    ]
    assert found[f"{source}/_posts/2009-06-22-no-yaml.markdown"] == [
        (None, None, "no frontmatter: not a guide")
    ]
    yaml_posts = "rust-blog-yaml-2024-05-28/posts"
    # A blank line before the opening '---': read all the same.
    assert found[
        f"{yaml_posts}/2023-09-25-Increasing-Apple-Version-Requirements.md"
    ] == [(None, 2, not_a_guide[2])]
    # No opening '---' and none of a guide's keys: not a guide, skipped.
    assert found[
        f"{yaml_posts}/inside-rust/2020-09-17-stabilizing-intra-doc-links.md"
    ] == [(None, None, "no frontmatter: not a guide")]


def test_validate_over_the_corpus(corpus: Path) -> None:
    result = CliRunner().invoke(app, ["validate", str(corpus)])
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-1] == (
        "1266 file(s): 0 ok, 3 skipped, 1263 rejected"
    )


def test_quoted_dates_are_checked_against_each_other() -> None:
    text = edit("next_review_due: 2026-04-10", "next_review_due: '2025-12-31'")
    text = edit("last_updated: 2026-01-10", 'last_updated: "2026-01-10"', text)
    assert verdict(parse_guide("g.md", text.encode())) == (
        Outcome.REJECTED,
        [
            (
                "next_review_due",
                10,
                "next_review_due (2025-12-31) is before last_updated (2026-01-10)",
            )
        ],
        [],
    )
