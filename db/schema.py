"""The tables: an append-only history of every guide's snapshots.

History model: a guide row is its identity (company and role). Each change to a guide
appends a ``versions`` row, numbered per guide, with its provenance and the snapshot
itself; ``comp_rows`` holds that snapshot's figures per region for querying; rows are
never updated or deleted. ``qoq_changes`` holds the quarter-over-quarter comparison of a
version with the one before it, and ``events`` the entries readers are told about. The
database enforces what the code assumes: one row per guide, per version number, per
region position and per event.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
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


class Version(Base):
    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("guide_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guide_id: Mapped[int] = mapped_column(ForeignKey("guides.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    # Business time: what the guide says of itself.
    salary_data_quarter: Mapped[str] = mapped_column(String(7))
    last_updated: Mapped[date] = mapped_column(Date)
    next_review_due: Mapped[date] = mapped_column(Date)
    # System time and provenance: when and from where compfeed saw this content.
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source_path: Mapped[str] = mapped_column(Text, index=True)
    source_sha256: Mapped[str] = mapped_column(String(64))
    flow_run_id: Mapped[str | None] = mapped_column(String(36))
    content_hash: Mapped[str] = mapped_column(String(64))
    figures_hash: Mapped[str] = mapped_column(String(64))
    changed_fields: Mapped[list[str]] = mapped_column(JSON)
    frontmatter: Mapped[dict[str, Any]] = mapped_column(JSON)
    body: Mapped[str] = mapped_column(Text)

    guide: Mapped[Guide] = relationship(back_populates="versions")
    regions: Mapped[list[CompRow]] = relationship(order_by="CompRow.position")


class CompRow(Base):
    """One region's figures in one version; money in whole units of its currency."""

    __tablename__ = "comp_rows"
    __table_args__ = (UniqueConstraint("version_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), index=True)
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
    """One figure of one region, from the previous quarter's version to this one."""

    __tablename__ = "qoq_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), index=True)
    previous_version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"))
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
    """Something readers of the feed are told about; one per version and kind."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("version_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guide_id: Mapped[int] = mapped_column(ForeignKey("guides.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"))
    kind: Mapped[str] = mapped_column(String(20))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    title: Mapped[str] = mapped_column(Text)
    headline: Mapped[str] = mapped_column(Text)

    guide: Mapped[Guide] = relationship()
    version: Mapped[Version] = relationship()
