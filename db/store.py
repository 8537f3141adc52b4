"""Reading and appending guide history. Callers own the transaction."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    Connection,
    Engine,
    Select,
    Subquery,
    Table,
    delete,
    func,
    select,
    text,
    tuple_,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, selectinload

from db.connect import reading
from db.schema import (
    Base,
    CompRow,
    Event,
    Guide,
    QoqChange,
    Run,
    RunFile,
    Snapshot,
    Source,
    Version,
)


@dataclass(frozen=True)
class KnownSource:
    """A live guide's file as compfeed last read it."""

    guide_id: int
    guide: str  # company/role
    path: str
    sha256: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class FileSignature:
    path: str
    sha256: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Content:
    """A snapshot's content, as the pipeline computed it."""

    content_hash: str
    figures_hash: str
    salary_data_quarter: str
    last_updated: date
    next_review_due: date
    frontmatter: dict[str, Any]
    body: str


@dataclass(frozen=True)
class NewVersion:
    """Everything a version needs.

    ``guide_id`` and ``number`` come from the same read that decided the change: a
    concurrent run that wrote first makes the insert fail on a unique constraint,
    instead of this version being appended on top of what it never saw.
    """

    guide_id: int | None  # None: a guide not stored yet (company and role create it)
    number: int
    company: str
    role: str
    kind: str
    content: Content
    changed_fields: list[str]
    ingested_at: datetime
    source_path: str
    # The file the guide is now read from; None for a tombstone (the file is gone).
    source: FileSignature | None
    flow_run_id: str | None
    run_id: int | None
    baseline: Version | None = None
    changes: Sequence[dict[str, Any]] = ()
    event: tuple[str, str] | None = None  # title, headline


@dataclass(frozen=True)
class PublishedEvent:
    """An event with what a feed entry or changelog line needs to show it."""

    company: str
    role: str
    version: int
    version_id: int
    kind: str
    occurred_at: datetime
    review_due: date | None
    title: str
    headline: str
    salary_data_quarter: str


class Overdue(NamedTuple):
    """A live guide whose review date has passed, with no event for it yet: its
    names (as ``flows.snapshot.title_of`` reads them) and the quarter its figures
    describe, not its whole frontmatter, which thousands of late guides would hold
    in memory at once."""

    guide_id: int
    version_id: int
    due: date
    company: str
    role: str
    company_display: str | None
    role_display: str | None
    quarter: str


def known_sources(session: Session) -> dict[str, KnownSource]:
    """Every live guide's source file, by path."""
    # Columns, not ORM objects: every run reads them all, before anything else.
    rows = session.execute(
        select(
            Source.guide_id,
            Guide.company,
            Guide.role,
            Source.path,
            Source.sha256,
            Source.size,
            Source.mtime_ns,
        ).join(Guide, Source.guide_id == Guide.id)
    )
    return {
        path: KnownSource(guide_id, f"{company}/{role}", path, sha256, size, mtime_ns)
        for guide_id, company, role, path, sha256, size, mtime_ns in rows
    }


def latest_version(session: Session, guide_id: int) -> Version | None:
    return session.scalars(
        select(Version)
        .where(Version.guide_id == guide_id)
        .options(selectinload(Version.snapshot))
        .order_by(Version.number.desc())
        .limit(1)
    ).first()


@dataclass(frozen=True)
class Stored:
    """A guide as stored: its id and its latest version (None before the first)."""

    guide_id: int
    current: Version | None


def stored_guides(
    session: Session, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], Stored]:
    """The stored guides among ``keys`` (company, role), each with its latest
    version and that version's snapshot: three statements for a whole batch."""
    if not keys:
        return {}
    # Companies and roles each in a list, and the pairs picked here: PostgreSQL
    # matched a list of (company, role) pairs against every row, one by one, before
    # its statistics knew the table had grown.
    wanted = set(keys)
    ids = {
        (company, role): guide_id
        for guide_id, company, role in session.execute(
            select(Guide.id, Guide.company, Guide.role).where(
                Guide.company.in_(sorted({company for company, _ in wanted})),
                Guide.role.in_(sorted({role for _, role in wanted})),
            )
        )
        if (company, role) in wanted
    }
    latest = _latest_numbers(list(ids.values()))
    current = {
        version.guide_id: version
        for version in session.scalars(
            select(Version)
            .join(
                latest,
                (latest.c.guide_id == Version.guide_id)
                & (latest.c.number == Version.number),
            )
            .where(Version.guide_id.in_(list(ids.values())))
            .options(selectinload(Version.snapshot))
        )
    }
    return {key: Stored(id_, current.get(id_)) for key, id_ in ids.items()}


def baseline_for(
    session: Session, guide_id: int, quarter: str, retired: str
) -> Version | None:
    """The guide's last version of the latest quarter before ``quarter``, leaving out
    tombstones (``retired`` names their kind)."""
    # Quarters are spelled YYYY-QN, so text order is time order.
    return session.scalars(
        select(Version)
        .join(Snapshot, Version.snapshot_id == Snapshot.id)
        .where(
            Version.guide_id == guide_id,
            Snapshot.salary_data_quarter < quarter,
            Version.kind != retired,
        )
        .options(selectinload(Version.snapshot))
        .order_by(Version.number.desc())
        .limit(1)
    ).first()


def append_versions(session: Session, news: Sequence[NewVersion]) -> list[int]:
    """Append versions of distinct guides, each with its snapshot (stored once per
    content), its quarter-over-quarter changes against its baseline, its event, and
    the guide's source file; the ids of the versions, in order.

    A statement per table for the whole batch rather than a dozen per guide. The
    unique constraints refuse a duplicate written by a concurrent run.
    """
    if not news:
        return []
    guide_ids = _guide_ids(session, news)
    snapshot_ids = _snapshot_ids(session, guide_ids, [new.content for new in news])
    version_ids = _inserted_ids(
        session,
        Version,
        [
            {
                "guide_id": guide_id,
                "number": new.number,
                "kind": new.kind,
                "snapshot_id": snapshot_id,
                "changed_fields": new.changed_fields,
                "ingested_at": new.ingested_at,
                "source_path": new.source_path,
                "source_sha256": new.source.sha256 if new.source else None,
                "flow_run_id": new.flow_run_id,
                "run_id": new.run_id,
            }
            for new, guide_id, snapshot_id in zip(
                news, guide_ids, snapshot_ids, strict=True
            )
        ],
    )
    changes = [
        {
            "version_id": version_id,
            "baseline_version_id": new.baseline.id,
            "from_quarter": new.baseline.snapshot.salary_data_quarter,
            "to_quarter": new.content.salary_data_quarter,
        }
        | change
        for new, version_id in zip(news, version_ids, strict=True)
        if new.baseline is not None
        for change in new.changes
    ]
    if changes:
        _insert(session, QoqChange, changes)
    events = [
        {
            "guide_id": guide_id,
            "version_id": version_id,
            "kind": new.kind,
            "occurred_at": new.ingested_at,
            "review_due": None,
            "title": new.event[0],
            "headline": new.event[1],
        }
        for new, guide_id, version_id in zip(news, guide_ids, version_ids, strict=True)
        if new.event is not None
    ]
    if events:
        _insert(session, Event, events)
    set_sources(
        session,
        [(guide_id, new.source) for new, guide_id in zip(news, guide_ids, strict=True)],
    )
    return version_ids


def _inserted_ids(
    session: Session, table: type[Base], rows: list[dict[str, Any]]
) -> list[int]:
    """Insert ``rows`` in one statement; their new ids, in the rows' order."""
    if not rows:
        return []
    target = _table(table)
    if session.connection().dialect.name == "postgresql":
        # The ids first, from the column's own sequence as its default would draw
        # them, then COPY: an INSERT of a batch with RETURNING was one statement of
        # thousands of parameters, which the driver parsed anew each time.
        ids = list(session.scalars(_NEXT_IDS, {"table": target.name, "n": len(rows)}))
    else:
        # SQLite: the write lock is held from the transaction's start (BEGIN
        # IMMEDIATE), so the ids after the largest stored one are this batch's to
        # take; an INSERT returning them in order went one row per statement.
        first = (session.scalar(select(func.max(target.c.id))) or 0) + 1
        ids = list(range(first, first + len(rows)))
    _insert(
        session, table, [{"id": id_} | row for id_, row in zip(ids, rows, strict=True)]
    )
    return ids


_NEXT_IDS = text(
    "SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
    "FROM generate_series(1, :n) ORDER BY 1"
)


def _table(mapped: type[Base]) -> Table:
    return cast(Table, mapped.__table__)


def _insert(session: Session, table: type[Base], rows: list[dict[str, Any]]) -> None:
    """Insert ``rows``, all of one shape, in as few statements as the driver allows."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        _copy(connection, _table(table), rows)
        return
    _execute_many(connection, _table(table), rows)


def _execute_many(
    connection: Connection, table: Table, rows: list[dict[str, Any]]
) -> None:
    """Insert ``rows`` with SQLite's executemany, values through the columns'
    own types: SQLAlchemy's handling of each row's parameters cost more than
    SQLite's insert of it."""
    names, values = _driver_values(connection.dialect, table, rows)
    marks = ", ".join("?" for _ in names)
    target = _target(connection.dialect, table, names)
    connection.exec_driver_sql(f"INSERT INTO {target} VALUES ({marks})", values)


def _target(dialect: Dialect, table: Table, names: list[str]) -> str:
    """``table (column, ...)``, quoted as the dialect wants, for raw SQL."""
    quote = dialect.identifier_preparer
    listed = ", ".join(quote.quote(name) for name in names)
    return f"{quote.format_table(table)} ({listed})"


def _driver_values(
    dialect: Dialect, table: Table, rows: list[dict[str, Any]]
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The columns of ``rows`` (all of one shape), and each row's values as the
    driver takes them: through each column type's bind processor, as SQLAlchemy
    would put them."""
    columns = [table.c[key] for key in rows[0]]
    names = [column.key for column in columns]
    processors = [
        (index, processor)
        for index, column in enumerate(columns)
        if (processor := column.type.dialect_impl(dialect).bind_processor(dialect))
    ]
    values = []
    for row in rows:
        value = [row[name] for name in names]
        for index, processor in processors:
            value[index] = processor(value[index])
        values.append(tuple(value))
    return names, values


def _copy(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` with PostgreSQL's COPY: one statement, where an INSERT per row
    cost the server an execution each and the client a round of parameter handling.
    Values go through the columns' own types, as an INSERT's would."""
    dialect = connection.dialect
    names, values = _driver_values(dialect, table, rows)
    sql = f"COPY {_target(dialect, table, names)} FROM STDIN"
    driver = connection.connection.driver_connection
    assert driver is not None
    try:
        with driver.cursor() as cursor, cursor.copy(sql) as copy:
            for value in values:
                copy.write_row(value)
    except dialect.loaded_dbapi.Error as exc:
        # As SQLAlchemy raises for an INSERT: a unique or foreign key violation is an
        # IntegrityError, which callers catch to decide again.
        raise DBAPIError.instance(
            sql, None, exc, dialect.loaded_dbapi.Error, dialect=dialect
        ) from exc


def _guide_ids(session: Session, news: Sequence[NewVersion]) -> list[int]:
    """Each version's guide id, creating the guides not stored yet."""
    created = iter(
        _inserted_ids(
            session,
            Guide,
            [
                {
                    "company": new.company,
                    "role": new.role,
                    "first_seen_at": new.ingested_at,
                }
                for new in news
                if new.guide_id is None
            ],
        )
    )
    return [next(created) if new.guide_id is None else new.guide_id for new in news]


def _snapshot_ids(
    session: Session, guide_ids: list[int], contents: list[Content]
) -> list[int]:
    """Each content's snapshot id: the guide's stored one, or a new one with its
    regions' rows."""
    stored = {
        (guide_id, content_hash): snapshot_id
        for snapshot_id, guide_id, content_hash in session.execute(
            select(Snapshot.id, Snapshot.guide_id, Snapshot.content_hash).where(
                Snapshot.guide_id.in_(guide_ids),
                Snapshot.content_hash.in_([c.content_hash for c in contents]),
            )
        )
    }
    missing = [
        (guide_id, content)
        for guide_id, content in zip(guide_ids, contents, strict=True)
        if (guide_id, content.content_hash) not in stored
    ]
    created = _inserted_ids(
        session,
        Snapshot,
        [{"guide_id": guide_id, **content.__dict__} for guide_id, content in missing],
    )
    rows = []
    for (guide_id, content), snapshot_id in zip(missing, created, strict=True):
        stored[guide_id, content.content_hash] = snapshot_id
        rows += [
            {"snapshot_id": snapshot_id, "position": position, **_columns(region)}
            for position, region in enumerate(content.frontmatter["compensation"])
        ]
    if rows:
        _insert(session, CompRow, rows)
    return [
        stored[guide_id, content.content_hash]
        for guide_id, content in zip(guide_ids, contents, strict=True)
    ]


_COMP_COLUMNS = [c.key for c in CompRow.__table__.columns if c.key != "id"]


def _columns(region: dict[str, Any]) -> dict[str, Any]:
    """Every figure column, null where the region has none: one shape per row lets
    the rows go in one INSERT."""
    return {
        key: region.get(key)
        for key in _COMP_COLUMNS
        if key not in ("snapshot_id", "position")
    }


def set_sources(
    session: Session, sources: Sequence[tuple[int, FileSignature | None]]
) -> None:
    """Record the file each guide is now read from, or that it has none (None: its
    file is gone). A path belongs to one guide: whoever held it before lets go."""
    if not sources:
        return
    paths = [signature.path for _, signature in sources if signature is not None]
    session.execute(
        delete(Source).where(
            Source.guide_id.in_([guide_id for guide_id, _ in sources])
            | Source.path.in_(paths)
        )
    )
    rows = [
        {"guide_id": guide_id, **signature.__dict__}
        for guide_id, signature in sources
        if signature is not None
    ]
    if rows:
        _insert(session, Source, rows)


def start_run(
    session: Session,
    started_at: datetime,
    flow_run_id: str | None,
    seeds: str,
    force: bool,
) -> int:
    run = Run(
        flow_run_id=flow_run_id,
        started_at=started_at,
        seeds=seeds,
        force=force,
        counts={},
    )
    session.add(run)
    session.flush()
    return run.id


def finish_run(
    session: Session,
    run_id: int,
    finished_at: datetime,
    counts: dict[str, int],
    files: Sequence[dict[str, Any]],
) -> None:
    run = session.get_one(Run, run_id)
    run.finished_at, run.counts = finished_at, counts
    if files:
        _insert(session, RunFile, [{"run_id": run_id, **file} for file in files])


def recent_runs(session: Session, last: int) -> list[Run]:
    return list(
        session.scalars(
            select(Run)
            .options(selectinload(Run.files))
            .order_by(Run.started_at.desc(), Run.id.desc())
            .limit(last)
        )
    )


def history(session: Session, company: str, role: str) -> list[Version]:
    """A guide's versions, oldest first, with their snapshots and regions."""
    return list(
        session.scalars(
            select(Version)
            .join(Guide)
            .where(Guide.company == company, Guide.role == role)
            .options(selectinload(Version.snapshot).selectinload(Snapshot.regions))
            .order_by(Version.number)
        )
    )


def histories(session: Session, guide_ids: Sequence[int]) -> dict[int, list[Version]]:
    """The versions of several guides, each oldest first, with their snapshots and
    regions: one look for them all rather than one per guide."""
    found: dict[int, list[Version]] = {guide_id: [] for guide_id in guide_ids}
    query = (
        select(Version)
        .where(Version.guide_id.in_(guide_ids))
        .options(selectinload(Version.snapshot).selectinload(Snapshot.regions))
        .order_by(Version.guide_id, Version.number)
    )
    for version in session.scalars(query):
        found[version.guide_id].append(version)
    return found


@dataclass
class EventScopes:
    """Where a set of events shows: companies, roles and months (``YYYY-MM``)."""

    companies: set[str]
    roles: set[str]
    months: set[str]


def event_scopes(session: Session, after: int = 0) -> EventScopes:
    """The scopes of the events stored after event ``after`` (all for 0)."""
    scopes = EventScopes(set(), set(), set())
    query = (
        select(Guide.company, Guide.role, Event.occurred_at)
        .join(Guide, Event.guide_id == Guide.id)
        .where(Event.id > after)
    )
    for company, role, occurred_at in session.execute(
        query.execution_options(yield_per=10_000)
    ):
        scopes.companies.add(company)
        scopes.roles.add(role)
        scopes.months.add(month_of(occurred_at))
    return scopes


def month_of(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """The first instant of a ``YYYY-MM`` month (UTC) and of the next."""
    year, number = int(month[:4]), int(month[5:])
    start = datetime(year, number, 1, tzinfo=UTC)
    if number == 12:
        return start, datetime(year + 1, 1, 1, tzinfo=UTC)
    return start, datetime(year, number + 1, 1, tzinfo=UTC)


def event_months(session: Session) -> list[str]:
    """The months that have events, newest first."""
    # One indexed look per month between the oldest event and the newest, rather
    # than grouping every event: the cost follows the span, not the history's size.
    oldest, newest = session.execute(
        select(func.min(Event.occurred_at), func.max(Event.occurred_at))
    ).one()
    if oldest is None:
        return []
    months = []
    month = month_of(newest)
    while month >= month_of(oldest):
        start, end = month_bounds(month)
        if session.scalar(
            select(
                select(Event.id)
                .where(Event.occurred_at >= start, Event.occurred_at < end)
                .exists()
            )
        ):
            months.append(month)
        month = month_of(start - timedelta(days=1))
    return months


def last_event_id(session: Session) -> int:
    return session.scalar(select(func.max(Event.id))) or 0


def recent_events(
    session: Session,
    limit: int | None = None,
    *,
    company: str | None = None,
    role: str | None = None,
) -> list[PublishedEvent]:
    """Events newest first, of one company or role if given; ties (one run, one
    time) in the order they were written."""
    query = _published().order_by(Event.occurred_at.desc(), Event.id.desc())
    if company is not None:
        query = query.where(Guide.company == company)
    if role is not None:
        query = query.where(Guide.role == role)
    return [
        PublishedEvent(**row._mapping) for row in session.execute(query.limit(limit))
    ]


def events_after(session: Session, after: int) -> Iterator[PublishedEvent]:
    """The events stored after event ``after``, newest first, as they stream."""
    query = (
        _published()
        .where(Event.id > after)
        .order_by(Event.occurred_at.desc(), Event.id.desc())
    )
    for row in session.execute(query.execution_options(yield_per=5000)):
        yield PublishedEvent(**row._mapping)


def month_events(session: Session, month: str, skip: int = 0) -> list[PublishedEvent]:
    """A ``YYYY-MM`` month's events oldest first, from the one at position ``skip``
    on; ties in the order they were written."""
    start, end = month_bounds(month)
    in_month = (Event.occurred_at >= start, Event.occurred_at < end)
    in_order = (Event.occurred_at, Event.id)
    query = _published().where(*in_month).order_by(*in_order)
    if skip:
        # The first event kept, found in the index alone: an offset in the query
        # above would join every event it skips.
        first = session.execute(
            select(*in_order).where(*in_month).order_by(*in_order).offset(skip)
        ).first()
        if first is None:
            return []
        query = query.where(tuple_(*in_order) >= tuple_(*first))
    return [PublishedEvent(**row._mapping) for row in session.execute(query)]


def month_position(session: Session, month: str, after: int) -> int:
    """How many of a month's events come, oldest first, before the first one stored
    after event ``after``: what a publish that drew the month up to that event can
    keep (the month's count when no later event falls in it)."""
    start, end = month_bounds(month)
    in_month = (Event.occurred_at >= start, Event.occurred_at < end)
    first = session.execute(
        select(Event.occurred_at, Event.id)
        .where(*in_month, Event.id > after)
        .order_by(Event.occurred_at, Event.id)
        .limit(1)
    ).first()
    query = select(func.count()).select_from(Event).where(*in_month)
    if first is not None:
        at, event_id = first
        query = query.where(
            (Event.occurred_at < at)
            | ((Event.occurred_at == at) & (Event.id < event_id))
        )
    return session.scalar(query) or 0


def _published() -> Select[*tuple[Any, ...]]:
    """Events with what a feed entry or changelog line shows of them."""
    # Columns, not ORM objects: a long history loads in a fraction of the time.
    return (
        select(
            Guide.company,
            Guide.role,
            Version.number.label("version"),
            Version.id.label("version_id"),
            Event.kind,
            Event.occurred_at,
            Event.review_due,
            Event.title,
            Event.headline,
            Snapshot.salary_data_quarter,
        )
        .join(Guide, Event.guide_id == Guide.id)
        .join(Version, Event.version_id == Version.id)
        .join(Snapshot, Version.snapshot_id == Snapshot.id)
    )


def _latest_numbers(
    guide_ids: Sequence[int] | Select[int] | None = None,
) -> Subquery:
    """Each guide's latest version number (of ``guide_ids`` only, a list or a query,
    if given), as a subquery."""
    query = select(Version.guide_id, func.max(Version.number).label("number"))
    if guide_ids is not None:
        # The planner does not carry an IN list from the outer query into the
        # grouping: without it, every batch grouped the whole history.
        query = query.where(Version.guide_id.in_(guide_ids))
    return query.group_by(Version.guide_id).subquery()


@dataclass(frozen=True)
class NewEvent:
    guide_id: int
    version_id: int
    kind: str
    occurred_at: datetime
    title: str
    headline: str
    review_due: date | None = None


def add_events(session: Session, events: Sequence[NewEvent]) -> None:
    if events:
        _insert(session, Event, [event.__dict__ for event in events])


def _names() -> tuple[Any, ...]:
    """A guide's slugs and display names, as ``flows.snapshot.title_of`` reads them,
    taken out of its snapshot's frontmatter without loading the rest."""
    return (
        Guide.company,
        Guide.role,
        Snapshot.frontmatter["company_display"].as_string(),
        Snapshot.frontmatter["role_display"].as_string(),
    )


def overdue(session: Session, today: date, kind: str) -> list[Overdue]:
    """Live guides whose latest version's review is due before ``today`` and that
    have no event of ``kind`` for that due date."""
    latest = _latest_numbers()
    told = select(Event.id).where(
        Event.guide_id == Version.guide_id,
        Event.kind == kind,
        Event.review_due == Snapshot.next_review_due,
    )
    query = (
        select(
            Version.guide_id,
            Version.id,
            Snapshot.next_review_due,
            *_names(),
            Snapshot.salary_data_quarter,
        )
        .join(
            latest,
            (latest.c.guide_id == Version.guide_id)
            & (latest.c.number == Version.number),
        )
        .join(Snapshot, Version.snapshot_id == Snapshot.id)
        .join(Guide, Guide.id == Version.guide_id)
        .join(Source, Source.guide_id == Version.guide_id)
        .where(Snapshot.next_review_due < today, ~told.exists())
        .order_by(Version.guide_id)
    )
    return [Overdue(*row) for row in session.execute(query)]


def compared_versions(session: Session, version_ids: Sequence[int]) -> set[int]:
    """Those of the versions given that have quarter-over-quarter rows."""
    if not version_ids:
        return set()
    query = (
        select(QoqChange.version_id)
        .where(QoqChange.version_id.in_(version_ids))
        .distinct()
    )
    return set(session.scalars(query))


def changes_of(
    session: Session, version_ids: Sequence[int]
) -> dict[int, list[QoqChange]]:
    """The quarter-over-quarter rows of each version."""
    found: dict[int, list[QoqChange]] = {}
    if version_ids:
        query = (
            select(QoqChange)
            .where(QoqChange.version_id.in_(version_ids))
            .order_by(QoqChange.id)
        )
        for change in session.scalars(query):
            found.setdefault(change.version_id, []).append(change)
    return found


# Ids in one IN list: well under SQLite's limit on a statement's parameters.
IDS_AT_ONCE = 5000


class Moved(NamedTuple):
    """A figure that moved or is flagged, as a feed entry shows it."""

    region: str
    field: str
    old: float | None
    new: float | None
    pct: float | None
    flag: str | None


def moved_of(session: Session, version_ids: Sequence[int]) -> dict[int, list[Moved]]:
    """Each version's figures that moved or are flagged. Plain rows, not ORM
    objects: every feed entry shows them, dozens of entries per feed."""
    found: dict[int, list[Moved]] = {}
    columns = [getattr(QoqChange, name) for name in Moved._fields]
    for start in range(0, len(version_ids), IDS_AT_ONCE):
        query = (
            select(QoqChange.version_id, *columns)
            .where(
                QoqChange.version_id.in_(version_ids[start : start + IDS_AT_ONCE]),
                QoqChange.flag.is_not(None) | (QoqChange.delta != 0),
            )
            .order_by(QoqChange.id)
        )
        for version_id, *row in session.execute(query):
            found.setdefault(version_id, []).append(Moved(*row))
    return found


def guides_changed_after(session: Session, version_id: int) -> list[Guide]:
    """Guides with a version stored after ``version_id`` (all guides for 0)."""
    query = (
        select(Guide)
        .where(Guide.id.in_(select(Version.guide_id).where(Version.id > version_id)))
        .order_by(Guide.company, Guide.role)
    )
    return list(session.scalars(query))


def last_version_id(session: Session) -> int:
    return session.scalar(select(func.max(Version.id))) or 0


class Listed(NamedTuple):
    """A guide as its company's page lists it: its names (as ``flows.snapshot.title_of``
    reads them), its latest version's kind and quarter, and whether it is live (has a
    file)."""

    guide_id: int
    company: str
    role: str
    company_display: str | None
    role_display: str | None
    kind: str
    quarter: str
    live: bool


def guide_index(session: Session, companies: Collection[str]) -> list[Listed]:
    """The guides of some companies, by company and role."""
    theirs = Guide.company.in_(sorted(companies))
    latest = _latest_numbers(select(Guide.id).where(theirs))
    # Columns, not whole snapshots: loading those cost several times the rest.
    query = (
        select(
            Guide.id,
            *_names(),
            Version.kind,
            Snapshot.salary_data_quarter,
            Source.id.is_not(None),
        )
        .join(Version, Version.guide_id == Guide.id)
        .join(
            latest,
            (latest.c.guide_id == Version.guide_id)
            & (latest.c.number == Version.number),
        )
        .join(Snapshot, Snapshot.id == Version.snapshot_id)
        .outerjoin(Source, Source.guide_id == Guide.id)
        .where(theirs)
        .order_by(Guide.company, Guide.role)
    )
    return [Listed(*row) for row in session.execute(query)]


@dataclass(frozen=True)
class Company:
    """A company in the index: how many guides it has, and how many are live."""

    name: str
    guides: int
    live: int


def companies(session: Session) -> list[Company]:
    query = (
        select(Guide.company, func.count(Guide.id), func.count(Source.id))
        .outerjoin(Source, Source.guide_id == Guide.id)
        .group_by(Guide.company)
        .order_by(Guide.company)
    )
    return [Company(*row) for row in session.execute(query)]


def roles(session: Session) -> list[str]:
    return list(session.scalars(select(Guide.role).distinct().order_by(Guide.role)))


def current_changes(
    session: Session,
    quarter: str | None = None,
    company: str | None = None,
    role: str | None = None,
) -> list[tuple[Guide, QoqChange]]:
    """The quarter-over-quarter rows in force: for each guide and quarter, those of
    the guide's last version for that quarter that has a comparison."""
    compared = (
        select(
            Version.guide_id,
            QoqChange.to_quarter,
            func.max(Version.number).label("number"),
        )
        .join(QoqChange, QoqChange.version_id == Version.id)
        .group_by(Version.guide_id, QoqChange.to_quarter)
        .subquery()
    )
    query = (
        select(Guide, QoqChange)
        .join(Version, Version.guide_id == Guide.id)
        .join(
            compared,
            (compared.c.guide_id == Version.guide_id)
            & (compared.c.number == Version.number),
        )
        .join(QoqChange, QoqChange.version_id == Version.id)
        .order_by(Guide.company, Guide.role, QoqChange.to_quarter, QoqChange.id)
    )
    if quarter is not None:
        query = query.where(QoqChange.to_quarter == quarter)
    if company is not None:
        query = query.where(Guide.company == company)
    if role is not None:
        query = query.where(Guide.role == role)
    return [(guide, change) for guide, change in session.execute(query)]


def refresh_statistics(engine: Engine) -> None:
    """Have PostgreSQL's planner look at the history tables again after a large
    write. SQLite plans from its indexes alone and needs nothing."""
    if engine.dialect.name != "postgresql":
        return
    tables = ", ".join(
        model.__tablename__
        for model in (Guide, Snapshot, Version, CompRow, QoqChange, Event, Source)
    )
    with engine.begin() as connection:
        connection.exec_driver_sql(f"ANALYZE {tables}")


def count_rows(engine: Engine) -> dict[str, int]:
    """Rows per history table: how tests and operators see that a run wrote nothing."""
    with Session(reading(engine)) as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            or 0
            for model in (Guide, Snapshot, Version, CompRow, QoqChange, Event)
        }
