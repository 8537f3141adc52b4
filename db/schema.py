"""The tables: an append-only history of every guide.

History model. A ``guides`` row is a guide's identity (company and role). What a guide
said is a ``snapshots`` row, stored once per distinct content (so a guide that returns
to earlier content, or is retired and restored, reuses its snapshot); ``comp_rows``
holds a snapshot's figures per region for querying. Each change in a guide's life
appends a ``versions`` row, numbered per guide, with its kind, its snapshot and its
provenance. ``qoq_changes`` holds the quarter-over-quarter comparison of a version with
its baseline, and ``events`` the entries readers are told about. None of these rows is
ever updated or deleted.

Two tables are bookkeeping rather than history: ``sources`` maps each live guide to the
file it is read from (its path and the file's signature), and ``runs`` / ``run_files``
record every run and each file's verdict.

The database enforces what the code assumes, so that two runs at once cannot write a
duplicate: one row per guide, per content of a guide, per version number, per region
position, per event, per source path and per guide source. A column that leads one
of these constraints has no index of its own: the constraint's index serves its
lookups, and every index costs each insert.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: compfeed stores only aware times")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if not isinstance(value, datetime):
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Guide(Base):
    __tablename__ = "guides"
    __table_args__ = (UniqueConstraint("company", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(200))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)

    versions: Mapped[list[Version]] = relationship(
        back_populates="guide", order_by="Version.number"
    )

    @property
    def key(self) -> str:
        return f"{self.company}/{self.role}"


class Snapshot(Base):
    """What a guide said: its frontmatter as JSON data and its body, stored once."""

    __tablename__ = "snapshots"
    __table_args__ = (UniqueConstraint("guide_id", "content_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guide_id: Mapped[int] = mapped_column(ForeignKey("guides.id"))
    content_hash: Mapped[str] = mapped_column(String(64))
    figures_hash: Mapped[str] = mapped_column(String(64))
    # Business time: what the guide says of itself.
    salary_data_quarter: Mapped[str] = mapped_column(String(7))
    last_updated: Mapped[date] = mapped_column(Date)
    next_review_due: Mapped[date] = mapped_column(Date)
    frontmatter: Mapped[dict[str, Any]] = mapped_column(JSON)
    body: Mapped[str] = mapped_column(Text)

    regions: Mapped[list[CompRow]] = relationship(order_by="CompRow.position")


class Version(Base):
    """One change in a guide's life, in order: its kind, content and provenance."""

    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("guide_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guide_id: Mapped[int] = mapped_column(ForeignKey("guides.id"))
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshots.id"))
    changed_fields: Mapped[list[str]] = mapped_column(JSON)
    # System time and provenance: when, from where and by which run compfeed saw it.
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source_path: Mapped[str] = mapped_column(Text)
    source_sha256: Mapped[str | None] = mapped_column(String(64))
    flow_run_id: Mapped[str | None] = mapped_column(String(36))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"))

    guide: Mapped[Guide] = relationship(back_populates="versions")
    snapshot: Mapped[Snapshot] = relationship()


class CompRow(Base):
    """One region's figures in one snapshot; money in whole units of its currency."""

    __tablename__ = "comp_rows"
    __table_args__ = (UniqueConstraint("snapshot_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshots.id"))
    position: Mapped[int] = mapped_column(Integer)
    region: Mapped[str] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(String(3))
    base_low: Mapped[int | None] = mapped_column(BigInteger)
    base_high: Mapped[int | None] = mapped_column(BigInteger)
    stock_low: Mapped[int | None] = mapped_column(BigInteger)
    stock_high: Mapped[int | None] = mapped_column(BigInteger)
    bonus_pct: Mapped[float | None] = mapped_column(Float)
    bonus_low: Mapped[int | None] = mapped_column(BigInteger)
    bonus_high: Mapped[int | None] = mapped_column(BigInteger)
    signing_bonus_low: Mapped[int | None] = mapped_column(BigInteger)
    signing_bonus_high: Mapped[int | None] = mapped_column(BigInteger)
    total_comp_low: Mapped[int | None] = mapped_column(BigInteger)
    total_comp_high: Mapped[int | None] = mapped_column(BigInteger)


class QoqChange(Base):
    """One figure of one region, from the baseline version's quarter to this one's."""

    __tablename__ = "qoq_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), index=True)
    baseline_version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"))
    from_quarter: Mapped[str] = mapped_column(String(7))
    to_quarter: Mapped[str] = mapped_column(String(7))
    region: Mapped[str] = mapped_column(Text)
    field: Mapped[str] = mapped_column(String(40))
    currency: Mapped[str | None] = mapped_column(String(3))
    old: Mapped[float | None] = mapped_column(Float)
    new: Mapped[float | None] = mapped_column(Float)
    delta: Mapped[float | None] = mapped_column(Float)
    pct: Mapped[float | None] = mapped_column(Float)
    flag: Mapped[str | None] = mapped_column(String(40))


class Event(Base):
    """Something readers of the feed are told about: one per version and kind, and
    one ``review_overdue`` per guide and due date (``review_due``, null otherwise)."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("version_id", "kind"),
        UniqueConstraint("guide_id", "kind", "review_due"),
        # Feeds and the changelog list events newest first, ties by id: in this
        # order, a feed's query stops at its window.
        Index("ix_events_occurred_at_id", "occurred_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guide_id: Mapped[int] = mapped_column(ForeignKey("guides.id"))
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"))
    kind: Mapped[str] = mapped_column(String(20))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    review_due: Mapped[date | None] = mapped_column(Date)
    title: Mapped[str] = mapped_column(Text)
    headline: Mapped[str] = mapped_column(Text)

    guide: Mapped[Guide] = relationship()
    version: Mapped[Version] = relationship()


class Source(Base):
    """The file a live guide is read from, and that file's signature when last read."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guide_id: Mapped[int] = mapped_column(ForeignKey("guides.id"), unique=True)
    path: Mapped[str] = mapped_column(Text, unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)


class Run(Base):
    """One ingest run: when, which flow run, and how many files had each outcome."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flow_run_id: Mapped[str | None] = mapped_column(String(36))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    seeds: Mapped[str] = mapped_column(Text)
    force: Mapped[bool] = mapped_column(Boolean)
    counts: Mapped[dict[str, int]] = mapped_column(JSON)

    files: Mapped[list[RunFile]] = relationship(order_by="RunFile.id")


class RunFile(Base):
    """One file's verdict in one run."""

    __tablename__ = "run_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    path: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(20))
    guide: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str | None] = mapped_column(String(20))
    version: Mapped[int | None] = mapped_column(Integer)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
