"""Ingest guide files: parse, decide the change, and append it to the history.

Each file is stored in its own transaction, so a bad or failing file never takes the
rest of the batch with it. A file whose bytes equal those of its guide's stored version
is recognised by hash and not parsed again, unless ``force`` asks for a full re-read;
even then, only a real change of content writes anything.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from db import store
from db.connect import session_factory
from flows.compare import Comparison, compare, headline
from flows.discover import relative_name
from flows.guide import Guide
from flows.parse import ParsedGuide, parse_guide
from flows.quarter import Quarter
from flows.snapshot import ChangeKind, Snapshot, changed_fields, classify, snapshot_of
from flows.verdict import FileResult, Outcome, Problem

log = logging.getLogger(__name__)


def ingest_paths(
    paths: Iterable[Path],
    root: Path,
    engine: Engine,
    *,
    now: datetime,
    force: bool = False,
    flow_run_id: str | None = None,
) -> list[FileResult]:
    """Ingest each file; one verdict per file, in order."""
    sessions = session_factory(engine)
    known: dict[str, str] = {}
    if not force:
        with sessions() as session:
            known = store.source_hashes(session)
    results = []
    for path in paths:
        result = ingest_file(path, root, sessions, known, now, flow_run_id)
        report(result)
        results.append(result)
    return results


def ingest_file(
    path: Path,
    root: Path,
    sessions: sessionmaker[Session],
    known: dict[str, str],
    now: datetime,
    flow_run_id: str | None,
) -> FileResult:
    # Verdicts name the file as the operator wrote its folder; provenance is kept
    # relative to the seeds folder, so that moving that folder changes nothing.
    shown, source = path.as_posix(), relative_name(path, root)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return FileResult(
            shown, Outcome.REJECTED, errors=[Problem(f"cannot read: {exc}")]
        )
    sha256 = hashlib.sha256(data).hexdigest()
    if known.get(source) == sha256:
        return FileResult(shown, Outcome.UNCHANGED)
    parsed = parse_guide(shown, data)
    if isinstance(parsed, FileResult):
        return parsed
    provenance = _Provenance(source, sha256, now, flow_run_id)
    try:
        with sessions.begin() as session:
            return _store(session, parsed, provenance)
    except IntegrityError:
        # A concurrent run stored this guide first; decide again against what it wrote.
        with sessions.begin() as session:
            return _store(session, parsed, provenance)


@dataclass(frozen=True)
class _Provenance:
    source_path: str
    source_sha256: str
    ingested_at: datetime
    flow_run_id: str | None


def _store(
    session: Session, parsed: ParsedGuide, provenance: _Provenance
) -> FileResult:
    guide = parsed.guide
    after = snapshot_of(guide, parsed.body)
    current = store.latest_version(session, guide.company, guide.role)
    before = None if current is None else Snapshot(current.frontmatter, current.body)
    result = FileResult(
        parsed.path, Outcome.UNCHANGED, guide=guide.key, warnings=parsed.warnings
    )
    kind = classify(before, after)
    if kind is None:
        return result

    baseline = comparison = None
    if current is not None and kind in (ChangeKind.UPDATED, ChangeKind.CORRECTED):
        baseline = store.latest_before_quarter(
            session, current.guide_id, str(guide.salary_data_quarter)
        )
    if baseline is not None:
        comparison = compare(
            Quarter.parse(baseline.salary_data_quarter),
            baseline.frontmatter["compensation"],
            guide.salary_data_quarter,
            after.frontmatter["compensation"],
        )
    version = store.append_version(
        session,
        store.NewVersion(
            company=guide.company,
            role=guide.role,
            kind=kind,
            salary_data_quarter=str(guide.salary_data_quarter),
            last_updated=guide.last_updated,
            next_review_due=guide.next_review_due,
            ingested_at=provenance.ingested_at,
            source_path=provenance.source_path,
            source_sha256=provenance.source_sha256,
            flow_run_id=provenance.flow_run_id,
            content_hash=after.content_hash,
            figures_hash=after.figures_hash,
            changed_fields=[] if before is None else changed_fields(before, after),
            frontmatter=after.frontmatter,
            body=after.body,
            regions=after.frontmatter["compensation"],
        ),
        baseline=baseline,
        changes=[asdict(c) for c in comparison.changes] if comparison else (),
        event=describe(kind, guide, comparison),
    )
    result.outcome, result.kind, result.version = Outcome.INGESTED, kind, version.number
    return result


def describe(
    kind: ChangeKind, guide: Guide, comparison: Comparison | None
) -> tuple[str, str] | None:
    """The feed title and headline of a change; prose-only edits make none."""
    quarter = guide.salary_data_quarter
    regions = [r.region for r in guide.compensation]
    if kind == ChangeKind.NEW:
        return (
            f"{guide.title}: new guide for {quarter}",
            f"{quarter} pay for {len(regions)} region(s): {', '.join(regions)}; "
            f"next review due {guide.next_review_due}",
        )
    if kind == ChangeKind.REVIEWED:
        return (
            f"{guide.title}: reviewed",
            f"reviewed on {guide.last_updated}, {quarter} figures unchanged; "
            f"next review due {guide.next_review_due}",
        )
    if kind in (ChangeKind.UPDATED, ChangeKind.CORRECTED):
        verb = "updated for" if kind == ChangeKind.UPDATED else "corrected figures for"
        text = (
            headline(comparison)
            if comparison is not None
            else f"{quarter} figures changed; no earlier quarter to compare with"
        )
        return f"{guide.title}: {verb} {quarter}", text
    return None


def report(result: FileResult) -> None:
    """Log a verdict: a warning for every problem survived, naming the file."""
    for problem in result.errors:
        log.warning("rejected %s", problem.describe(result.path))
    for problem in result.warnings:
        if result.outcome == Outcome.SKIPPED:
            log.debug("skipped %s", problem.describe(result.path))
        else:
            log.warning("%s", problem.describe(result.path))
    if result.outcome == Outcome.INGESTED:
        log.info(
            "%s: stored %s version %s (%s)",
            result.path,
            result.guide,
            result.version,
            result.kind,
        )
