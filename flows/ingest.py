"""Ingest a seeds folder into the history, in four steps.

1. Scan: each file is recognised as unchanged by its signature (size and modification
   time, then content hash) without being parsed, or read and parsed, by a process
   per core when there are many. Parsed guides wait in spool files, so memory stays
   flat however large the folder.
2. Conflicts: two files that claim the same guide are both refused, whatever their
   order, and the guide's history is left as it was.
3. Write: the changed guides are stored a batch per transaction, a statement per
   table for the whole batch. A concurrent run that stored one of its guides first
   makes the batch go again one file at a time, each looking again at what is stored
   and writing nothing if nothing is left.
4. Retire: a guide whose file is gone gets a tombstone; its history stays. A live
   guide whose review date has passed gets one ``review_overdue`` event per due date.

Each step works on a batch of files, so that the flows can make a task of it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from fnmatch import fnmatch
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from db import store
from db.connect import session_factory
from db.schema import Version
from db.store import Content, FileSignature, KnownSource
from flows import progress
from flows.compare import compare, headline
from flows.discover import relative_name
from flows.parse import ParsedGuide, parse_guide, read_capped, unreadable
from flows.processes import cores, process_pool
from flows.quarter import Quarter
from flows.snapshot import (
    ChangeKind,
    Snapshot,
    changed_fields,
    classify,
    hashed,
    known_hashes,
    snapshot_of,
    title_of,
)
from flows.verdict import FileResult, Outcome, Problem

log = logging.getLogger(__name__)


# Files read by processes once a scan has this many to read: below it, starting
# them (about a second) costs more than it saves. Each is handed this many at a time.
PARALLEL_READS = 1000
READ_CHUNK = 25

# Versions stored by one run after which PostgreSQL's planner statistics are
# renewed: on a table it still believes small, the next publish chose full scans and
# took seconds where it takes milliseconds (autovacuum would renew them later).
ANALYZE_AFTER = 1000

# Guides named in the line that tells of overdue reviews; the others are counted. A
# quarter's reviews fall due together, and a line per guide (thousands) cost a run
# through Prefect seconds of console and API work; each is logged at DEBUG.
OVERDUE_NAMED = 10

# Files written in one transaction: fewer commits, and a batch whose guides a
# concurrent run wrote first is simply written again one file at a time.
WRITE_BATCH = 250


@dataclass
class Scanned:
    """One file after the scan: its verdict so far and what the write step needs."""

    result: FileResult
    source: str  # the path relative to the seeds folder
    signature: FileSignature | None = None  # set when the file was read
    guide: str | None = None  # the guide it claims, when known
    spooled: tuple[str, int] | None = None  # where its parsed guide waits


@dataclass
class Decision:
    """What one file changes: a version to append, or only the file it is read from
    now (same content, another path or a newer modification time)."""

    result: FileResult
    source: tuple[int, FileSignature] | None = None
    new: store.NewVersion | None = None


# A parsed guide and its snapshot, whose hashes are worked out by the process that
# parsed it: with a process per core, that work is shared out.
Spooled = tuple[ParsedGuide, Snapshot]


class Spool:
    """Parsed guides kept in temporary files between the scan and the write: one
    file per thread that parses, each written by that thread alone."""

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="compfeed-spool-")
        self.path = self._folder.name
        self._readers: dict[str, IO[bytes]] = {}

    def get(self, place: tuple[str, int]) -> Spooled:
        name, offset = place
        reader = self._readers.get(name)
        if reader is None:
            # Open for the run's lifetime; close() closes it.
            reader = self._readers[name] = (Path(self.path) / name).open("rb")
        reader.seek(offset)
        # Unpickling is safe here: the spool holds only what this run wrote to it.
        item: Spooled = pickle.load(reader)
        return item

    def close(self) -> None:
        for reader in self._readers.values():
            reader.close()
        self._folder.cleanup()


def spool_put(folder: str, item: Spooled) -> tuple[str, int]:
    """Append ``item`` to this thread's file in the spool folder; where it is."""
    name = f"{os.getpid()}-{threading.get_ident()}"
    with (Path(folder) / name).open("ab") as file:
        offset = file.tell()
        pickle.dump(item, file, protocol=pickle.HIGHEST_PROTOCOL)
    return name, offset


@dataclass
class Ingest:
    """One ingest run of a seeds folder: its settings, its spool and its record."""

    root: Path
    engine: Engine
    now: datetime
    force: bool = False
    flow_run_id: str | None = None
    # Patterns of the guides this run may touch (``twilio/*``); None for all.
    guides: tuple[str, ...] | None = None
    run_id: int | None = None
    known: dict[str, KnownSource] = field(default_factory=dict)
    spool: Spool = field(default_factory=Spool)
    # The files whose verdict this run has committed (their sources).
    written: set[str] = field(default_factory=set)
    _pool: ProcessPoolExecutor | None = None
    # Batches may be read from several threads at once (concurrent task runs).
    _starting: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.sessions: sessionmaker[Session] = session_factory(self.engine)

    def __enter__(self) -> Ingest:
        with self.sessions.begin() as session:
            self.known = store.known_sources(session)
            self.run_id = store.start_run(
                session, self.now, self.flow_run_id, self.root.as_posix(), self.force
            )
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
        self.spool.close()

    # 1. Scan

    def wanted(self, guide: str | None) -> bool:
        """Whether this run may touch ``guide``; an unknown one only when unfiltered."""
        if self.guides is None:
            return True
        return guide is not None and any(fnmatch(guide, p) for p in self.guides)

    def scan(self, paths: Iterable[Path]) -> list[Scanned]:
        looked = self.look(paths)
        return self.merge(looked, self.read(unread(looked)))

    def look(self, paths: Iterable[Path]) -> list[Scanned | ToRead]:
        """Each file's verdict from its signature alone where that is enough (an
        unchanged file), or what reading it needs."""
        return [self._look(path) for path in paths]

    def read(self, files: list[ToRead]) -> list[Scanned]:
        """Read, hash and parse the files that need it, in the order given."""
        read = self._read(files)
        progress.current().advance(len(files))
        return read

    def merge(
        self, looked: Iterable[Scanned | ToRead], read: Iterable[Scanned]
    ) -> list[Scanned]:
        """The scan in the files' order: what ``look`` settled, and what was read in
        its place; only the guides this run may touch."""
        done = iter(read)
        scanned = []
        for item in looked:
            found = next(done) if isinstance(item, ToRead) else item
            if self.wanted(found.guide or found.result.guide):
                scanned.append(found)
        return scanned

    def _look(self, path: Path) -> Scanned | ToRead:
        """A verdict from the file's signature alone, or what reading it needs."""
        # Verdicts name the file as the operator wrote its folder; provenance is kept
        # relative to the seeds folder, so that moving that folder changes nothing.
        shown, source = path.as_posix(), relative_name(path, self.root)
        known = self.known.get(source)
        if known and not self.wanted(known.guide):
            # Another guide's file, as last read: not even looked at.
            return Scanned(
                FileResult(shown, Outcome.UNCHANGED), source, guide=known.guide
            )
        try:
            stat = path.stat()
        except OSError as exc:
            return _unreadable(shown, source, exc)
        if (
            not self.force
            and known
            and _same_stat(known, stat.st_size, stat.st_mtime_ns)
        ):
            return Scanned(
                FileResult(shown, Outcome.UNCHANGED, guide=known.guide),
                source,
                guide=known.guide,
            )
        return ToRead(
            path,
            shown,
            source,
            stat.st_size,
            stat.st_mtime_ns,
            None if self.force or known is None else (known.sha256, known.guide),
        )

    def _read(self, files: list[ToRead]) -> list[Scanned]:
        """Read, hash and parse: in a process per core when there are many files."""
        if len(files) < PARALLEL_READS or cores() < 2:
            return read_files(files, self.spool.path)
        with self._starting:
            if self._pool is None:
                self._pool = process_pool(cores())
        chunks = list(batches(files, READ_CHUNK))
        done = self._pool.map(read_files, chunks, [self.spool.path] * len(chunks))
        return [item for chunk in done for item in chunk]

    # 2. Conflicts

    @staticmethod
    def conflicts(scanned: Iterable[Scanned]) -> dict[str, list[str]]:
        """Guides claimed by more than one file, with the files' paths."""
        claims: dict[str, list[str]] = {}
        for item in scanned:
            if item.guide and item.result.outcome in (Outcome.OK, Outcome.UNCHANGED):
                claims.setdefault(item.guide, []).append(item.result.path)
        return {
            guide: sorted(paths) for guide, paths in claims.items() if len(paths) > 1
        }

    # 3. Write

    def write(
        self, scanned: Sequence[Scanned], conflicts: dict[str, list[str]]
    ) -> None:
        """Write what changed, and log every file's verdict."""
        for batch in batches(self.to_write(scanned, conflicts), WRITE_BATCH):
            self.write_batch(batch)
        self.report(scanned)

    def to_write(
        self, scanned: Sequence[Scanned], conflicts: dict[str, list[str]]
    ) -> list[Scanned]:
        """The files with something to store; files in conflict are refused."""
        for item in scanned:
            if item.guide in conflicts:
                _refuse_conflict(item, conflicts[item.guide])
        pending = [
            item
            for item in scanned
            if item.guide not in conflicts
            and (
                item.spooled is not None
                # Same bytes, newer modification time: remembered, to skip the read.
                or (item.signature and item.result.outcome == Outcome.UNCHANGED)
            )
        ]
        progress.current().advance(len(scanned) - len(pending))
        return pending

    def write_batches(self, batches: Iterable[list[Scanned]]) -> None:
        """Several batches, a transaction each. Called again after a transient
        database error, it leaves out what the first call committed: stored again,
        those files would be told unchanged."""
        for batch in batches:
            left = [item for item in batch if item.source not in self.written]
            if left:
                self.write_batch(left)

    def write_batch(self, batch: list[Scanned]) -> None:
        """A batch in one transaction; its files one at a time if a concurrent run
        stored one of its guides first, each deciding again against what it wrote."""
        try:
            with self.sessions.begin() as session:
                results = self._store(session, batch)
        except IntegrityError:
            for item in batch:
                self._written(item, self._store_alone(item))
        else:
            for item, result in zip(batch, results, strict=True):
                self._written(item, result)
        progress.current().advance(len(batch))

    def _written(self, item: Scanned, result: FileResult) -> None:
        item.result = result
        self.written.add(item.source)

    @staticmethod
    def report(scanned: Sequence[Scanned]) -> None:
        for item in scanned:
            report(item.result)
        stored = count_outcomes(item.result for item in scanned if item.result.kind)
        if stored:
            kinds = ", ".join(
                f"{n} {k}" for k, n in sorted(stored.items()) if k != "ingested"
            )
            log.info("stored %d version(s): %s", stored["ingested"], kinds)

    def _store_alone(self, item: Scanned) -> FileResult:
        try:
            with self.sessions.begin() as session:
                return self._store(session, [item])[0]
        except IntegrityError:
            # Written meanwhile by a concurrent run: decide once more against it.
            with self.sessions.begin() as session:
                return self._store(session, [item])[0]

    def _store(self, session: Session, batch: list[Scanned]) -> list[FileResult]:
        """Decide what each file changes, against what is stored, and write it."""
        guides = [
            None if item.spooled is None else self.spool.get(item.spooled)
            for item in batch
        ]
        stored = store.stored_guides(
            session,
            [(g.guide.company, g.guide.role) for g, _ in filter(None, guides)],
        )
        decisions = []
        for item, spooled in zip(batch, guides, strict=True):
            assert item.signature is not None
            if spooled is None:
                guide_id = self.known[item.source].guide_id
                decisions.append(Decision(item.result, (guide_id, item.signature)))
            else:
                parsed, after = spooled
                key = (parsed.guide.company, parsed.guide.role)
                decisions.append(
                    self._decide(
                        session, parsed, after, item.signature, stored.get(key)
                    )
                )
        store.append_versions(session, [d.new for d in decisions if d.new])
        store.set_sources(session, [d.source for d in decisions if d.source])
        return [d.result for d in decisions]

    def _decide(
        self,
        session: Session,
        parsed: ParsedGuide,
        after: Snapshot,
        source: FileSignature,
        found: store.Stored | None,
    ) -> Decision:
        guide = parsed.guide
        current = None if found is None else found.current
        before = None if current is None else _snapshot_of(current)
        result = FileResult(
            parsed.path, Outcome.UNCHANGED, guide=guide.key, warnings=parsed.warnings
        )

        kind = classify(before, after)
        if current is not None and current.kind == ChangeKind.RETIRED:
            kind = ChangeKind.RESTORED
        if kind is None:
            assert found is not None and current is not None
            if current.source_path != source.path:
                log.info(
                    "%s: %s moved here from %s",
                    parsed.path,
                    guide.key,
                    current.source_path,
                )
            return Decision(result, (found.guide_id, source))

        quarter = str(guide.salary_data_quarter)
        baseline, comparison = None, None
        if (
            found is not None
            and current is not None
            and before is not None
            and before.figures_hash != after.figures_hash
        ):
            if (
                current.kind != ChangeKind.RETIRED
                and current.snapshot.salary_data_quarter < quarter
            ):
                baseline = current  # the usual case, a quarter on: no query needed
            else:
                baseline = store.baseline_for(
                    session, found.guide_id, quarter, ChangeKind.RETIRED
                )
        told = None
        if baseline is not None:
            comparison = compare(
                Quarter.parse(baseline.snapshot.salary_data_quarter),
                baseline.snapshot.frontmatter["compensation"],
                guide.salary_data_quarter,
                after.frontmatter["compensation"],
            )
            # Once: the event and the file's verdict both show it.
            told = headline(comparison)
        new = store.NewVersion(
            guide_id=None if found is None else found.guide_id,
            number=1 if current is None else current.number + 1,
            company=guide.company,
            role=guide.role,
            kind=kind,
            content=_content(after),
            changed_fields=[] if before is None else changed_fields(before, after),
            ingested_at=self.now,
            source_path=source.path,
            source=source,
            flow_run_id=self.flow_run_id,
            run_id=self.run_id,
            baseline=baseline,
            # A change's fields are plain values: asdict's deep copy of each cost
            # seconds in a quarter of 140,000 changes.
            changes=[dict(vars(c)) for c in comparison.changes] if comparison else (),
            event=describe(kind, after, told),
        )
        result.outcome, result.kind, result.version = (
            Outcome.INGESTED,
            kind,
            new.number,
        )
        result.headline = told
        return Decision(result, new=new)

    # 4. Retire

    def retire_missing(self, scanned: list[Scanned]) -> list[FileResult]:
        """Tombstones for the guides whose files are gone and claimed by no other."""
        if not scanned and self.known:
            log.warning(
                "%s holds no guide files; nothing retired (a wrong folder is likelier "
                "than every guide gone)",
                self.root,
            )
            return []
        # What each file claims now; a file that could not be read claims nothing,
        # and keeps its guide until it is fixed or removed.
        claims = {item.source: item.guide or item.result.guide for item in scanned}
        claimed = {guide for guide in claims.values() if guide}
        gone = [
            known
            for path, known in sorted(self.known.items())
            if (path not in claims or claims[path] not in (None, known.guide))
            and known.guide not in claimed
            and self.wanted(known.guide)
        ]
        results = []
        for known in gone:
            try:
                with self.sessions.begin() as session:
                    result = self._retire(session, known)
            except IntegrityError:
                continue  # a concurrent run retired it first
            if result is not None:
                log.info("%s: retired %s, its file is gone", result.path, result.guide)
                results.append(result)
        return results

    def _retire(self, session: Session, known: KnownSource) -> FileResult | None:
        current = store.latest_version(session, known.guide_id)
        if current is None or current.kind == ChangeKind.RETIRED:
            return None
        before = _snapshot_of(current)
        tombstone = store.NewVersion(
            guide_id=known.guide_id,
            number=current.number + 1,
            company=known.guide.split("/")[0],
            role=known.guide.split("/")[1],
            kind=ChangeKind.RETIRED,
            content=_content(before),
            changed_fields=[],
            ingested_at=self.now,
            source_path=known.path,
            source=None,
            flow_run_id=self.flow_run_id,
            run_id=self.run_id,
            event=describe(ChangeKind.RETIRED, before, None, gone_from=known.path),
        )
        store.append_versions(session, [tombstone])
        shown = (self.root / known.path).as_posix()
        return FileResult(
            shown,
            Outcome.INGESTED,
            known.guide,
            kind=ChangeKind.RETIRED,
            version=tombstone.number,
        )

    def flag_overdue(self) -> int:
        """One ``review_overdue`` event per live guide and passed due date."""
        with self.sessions() as session:
            late = store.overdue(session, self.now.date(), ChangeKind.REVIEW_OVERDUE)
        events, named = [], []
        for guide in late:
            key = f"{guide.company}/{guide.role}"
            if not self.wanted(key):
                continue
            events.append(
                store.NewEvent(
                    guide.guide_id,
                    guide.version_id,
                    ChangeKind.REVIEW_OVERDUE,
                    self.now,
                    f"{title_of(guide._asdict())}: review overdue",
                    f"the review due {guide.due} has not happened; "
                    f"figures are for {guide.quarter}",
                    review_due=guide.due,
                )
            )
            log.debug("%s: review overdue since %s", key, guide.due)
            named.append(f"{key} (since {guide.due})")
        if events:
            more = len(named) - OVERDUE_NAMED
            log.info(
                "review overdue for %d guide(s): %s%s",
                len(events),
                ", ".join(named[:OVERDUE_NAMED]),
                f" and {more} more" if more > 0 else "",
            )
        try:
            with self.sessions.begin() as session:
                store.add_events(session, events)
        except IntegrityError:
            # A concurrent run told some of them first: the others one at a time.
            for event in events:
                try:
                    with self.sessions.begin() as session:
                        store.add_events(session, [event])
                except IntegrityError:
                    continue
        return len(late)

    # The record

    def finish(self, results: list[FileResult]) -> dict[str, int]:
        counts = count_outcomes(results)
        with self.sessions.begin() as session:
            assert self.run_id is not None
            store.finish_run(
                session,
                self.run_id,
                datetime.now(UTC),
                counts,
                [
                    {
                        **r.as_json(),
                        "kind": r.kind,
                        "version": r.version,
                    }
                    for r in results
                    # Unchanged files are counted, not listed: a scheduled run over
                    # an unchanged folder would add a row per file each time.
                    if r.outcome != Outcome.UNCHANGED or r.warnings
                ],
            )
        if counts.get(str(Outcome.INGESTED), 0) >= ANALYZE_AFTER:
            store.refresh_statistics(self.engine)
        return counts


def ingest_folder(
    paths: Iterable[Path],
    root: Path,
    engine: Engine,
    *,
    now: datetime,
    force: bool = False,
    flow_run_id: str | None = None,
    guides: Sequence[str] | None = None,
) -> list[FileResult]:
    """All four steps, without Prefect; one verdict per file (and per retirement)."""
    patterns = None if guides is None else tuple(guides)
    with Ingest(root, engine, now, force, flow_run_id, patterns) as job:
        scanned = job.scan(paths)
        job.write(scanned, job.conflicts(scanned))
        results = [item.result for item in scanned] + job.retire_missing(scanned)
        job.flag_overdue()
        job.finish(results)
    return results


def unread(looked: Iterable[Scanned | ToRead]) -> list[ToRead]:
    return [item for item in looked if isinstance(item, ToRead)]


@dataclass(frozen=True)
class ToRead:
    """A file the scan must read: its names, its signature so far, and the content
    hash and guide last read from it (None when it must be parsed whatever it holds).
    """

    path: Path
    shown: str
    source: str
    size: int
    mtime_ns: int
    known: tuple[str, str] | None


def read_files(files: list[ToRead], spool: str) -> list[Scanned]:
    """Read, hash and parse files; parsed guides go to the spool folder."""
    return [_read_file(file, spool) for file in files]


def _read_file(file: ToRead, spool: str) -> Scanned:
    try:
        data = read_capped(file.path)  # a file too large is not read whole
    except OSError as exc:
        return _unreadable(file.shown, file.source, exc)
    signature = FileSignature(
        file.source, hashlib.sha256(data).hexdigest(), file.size, file.mtime_ns
    )
    if file.known is not None and file.known[0] == signature.sha256:
        result = FileResult(file.shown, Outcome.UNCHANGED, guide=file.known[1])
        return Scanned(result, file.source, signature, file.known[1])
    parsed = parse_guide(file.shown, data)
    if isinstance(parsed, FileResult):
        return Scanned(parsed, file.source, signature)
    result = FileResult(
        file.shown, Outcome.OK, guide=parsed.guide.key, warnings=parsed.warnings
    )
    # The snapshot's hashes are worked out here, by the process that parsed it.
    snapshot = hashed(snapshot_of(parsed.guide, parsed.body))
    place = spool_put(spool, (parsed, snapshot))
    return Scanned(result, file.source, signature, parsed.guide.key, place)


def _unreadable(shown: str, source: str, error: OSError) -> Scanned:
    return Scanned(unreadable(shown, error), source)


def count_outcomes(results: Iterable[FileResult]) -> dict[str, int]:
    """Files per outcome, and stored versions per change kind."""
    counts: dict[str, int] = {}
    for result in results:
        for name in (str(result.outcome), result.kind):
            if name:
                counts[name] = counts.get(name, 0) + 1
    return counts


def _same_stat(known: KnownSource, size: int, mtime_ns: int) -> bool:
    return (known.size, known.mtime_ns) == (size, mtime_ns)


def _snapshot_of(version: Version) -> Snapshot:
    stored = version.snapshot
    return known_hashes(
        Snapshot(stored.frontmatter, stored.body),
        stored.content_hash,
        stored.figures_hash,
    )


def _content(snapshot: Snapshot) -> Content:
    data = snapshot.frontmatter
    return Content(
        content_hash=snapshot.content_hash,
        figures_hash=snapshot.figures_hash,
        salary_data_quarter=data["salary_data_quarter"],
        last_updated=_date(data["last_updated"]),
        next_review_due=_date(data["next_review_due"]),
        frontmatter=data,
        body=snapshot.body,
    )


def _date(text: str) -> date:
    return date.fromisoformat(text)


def _refuse_conflict(item: Scanned, paths: list[str]) -> None:
    others = ", ".join(p for p in paths if p != item.result.path)
    item.result = FileResult(
        item.result.path,
        Outcome.REJECTED,
        guide=item.guide,
        errors=[
            Problem(
                f"{others} also claims {item.guide}; neither file is stored "
                "until one of them names another company or role",
                field="company/role",
            )
        ],
    )


def describe(
    kind: ChangeKind,
    snapshot: Snapshot,
    told: str | None,
    gone_from: str | None = None,
) -> tuple[str, str] | None:
    """The feed title and headline of a change, given the quarter-over-quarter
    headline when there was a comparison; prose-only edits make none."""
    data = snapshot.frontmatter
    title, quarter = title_of(data), data["salary_data_quarter"]
    regions = [r["region"] for r in data["compensation"]]
    due = data["next_review_due"]
    if kind == ChangeKind.NEW:
        return (
            f"{title}: new guide for {quarter}",
            f"{quarter} pay for {len(regions)} region(s): {', '.join(regions)}; "
            f"next review due {due}",
        )
    if kind == ChangeKind.REVIEWED:
        return (
            f"{title}: reviewed",
            f"reviewed on {data['last_updated']}, {quarter} figures unchanged; "
            f"next review due {due}",
        )
    if kind in (ChangeKind.UPDATED, ChangeKind.CORRECTED):
        verb = "updated for" if kind == ChangeKind.UPDATED else "corrected figures for"
        text = (
            told
            if told is not None
            else f"{quarter} figures changed; no earlier quarter to compare with"
        )
        return f"{title}: {verb} {quarter}", text
    if kind == ChangeKind.RETIRED:
        return f"{title}: retired", f"its file {gone_from} is gone; history kept"
    if kind == ChangeKind.RESTORED:
        return (
            f"{title}: restored",
            f"back with {quarter} pay for {len(regions)} region(s)",
        )
    return None


def report(result: FileResult) -> None:
    """Log a verdict: a warning for every problem survived, naming the file; what
    was stored, in detail (``write`` sums it up per batch)."""
    for problem in result.errors:
        log.warning("rejected %s", problem.describe(result.path))
    for problem in result.warnings:
        if result.outcome == Outcome.SKIPPED:
            log.debug("skipped %s", problem.describe(result.path))
        else:
            log.warning("%s", problem.describe(result.path))
    if result.outcome == Outcome.INGESTED:
        # Per file only in detail: a large first ingest would log thousands of lines.
        log.debug(
            "%s: stored %s version %s (%s)",
            result.path,
            result.guide,
            result.version,
            result.kind,
        )


def batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
