"""Reading and appending guide history. Callers own the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from db.schema import CompRow, Event, Guide, QoqChange, Version


@dataclass(frozen=True)
class NewVersion:
    """Everything a version row needs; the version number is decided here."""

    company: str
    role: str
    kind: str
    salary_data_quarter: str
    last_updated: date
    next_review_due: date
    ingested_at: datetime
    source_path: str
    source_sha256: str
    flow_run_id: str | None
    content_hash: str
    figures_hash: str
    changed_fields: list[str]
    frontmatter: dict[str, Any]
    body: str
    regions: list[dict[str, Any]]


@dataclass(frozen=True)
class PublishedEvent:
    """An event with what a feed entry or changelog line needs to show it."""

    company: str
    role: str
    version: int
    kind: str
    occurred_at: datetime
    title: str
    headline: str
    salary_data_quarter: str


def source_hashes(session: Session) -> dict[str, str]:
    """The raw-file hash of each guide's latest version, by the path it came from."""
    latest = (
        select(Version.guide_id, func.max(Version.number).label("number"))
        .group_by(Version.guide_id)
        .subquery()
    )
    rows = session.execute(
        select(Version.source_path, Version.source_sha256).join(
            latest,
            (Version.guide_id == latest.c.guide_id)
            & (Version.number == latest.c.number),
        )
    )
    return {path: sha for path, sha in rows}


def latest_version(session: Session, company: str, role: str) -> Version | None:
    return session.scalars(
        select(Version)
        .join(Guide)
        .where(Guide.company == company, Guide.role == role)
        .order_by(Version.number.desc())
        .limit(1)
    ).first()


def latest_before_quarter(
    session: Session, guide_id: int, quarter: str
) -> Version | None:
    """The guide's last snapshot of the latest quarter earlier than ``quarter``."""
    # Quarters are spelled YYYY-QN, so text order is time order.
    return session.scalars(
        select(Version)
        .where(Version.guide_id == guide_id, Version.salary_data_quarter < quarter)
        .order_by(Version.number.desc())
        .limit(1)
    ).first()


def append_version(
    session: Session,
    new: NewVersion,
    *,
    baseline: Version | None = None,
    changes: Sequence[dict[str, Any]] = (),
    event: tuple[str, str] | None = None,
) -> Version:
    """Append a version with its regions, its quarter-over-quarter ``changes`` against
    ``baseline`` and its event (title, headline). The unique constraints refuse a
    duplicate written by a concurrent run."""
    guide = session.scalars(
        select(Guide).where(Guide.company == new.company, Guide.role == new.role)
    ).first()
    if guide is None:
        guide = Guide(company=new.company, role=new.role, first_seen_at=new.ingested_at)
        session.add(guide)
        session.flush()
    number = (
        session.scalar(
            select(func.max(Version.number)).where(Version.guide_id == guide.id)
        )
        or 0
    ) + 1
    version = Version(
        guide_id=guide.id,
        number=number,
        kind=new.kind,
        salary_data_quarter=new.salary_data_quarter,
        last_updated=new.last_updated,
        next_review_due=new.next_review_due,
        ingested_at=new.ingested_at,
        source_path=new.source_path,
        source_sha256=new.source_sha256,
        flow_run_id=new.flow_run_id,
        content_hash=new.content_hash,
        figures_hash=new.figures_hash,
        changed_fields=new.changed_fields,
        frontmatter=new.frontmatter,
        body=new.body,
    )
    session.add(version)
    session.flush()
    session.add_all(
        CompRow(version_id=version.id, position=position, **region)
        for position, region in enumerate(new.regions)
    )
    if baseline is not None:
        session.add_all(
            QoqChange(
                version_id=version.id,
                previous_version_id=baseline.id,
                from_quarter=baseline.salary_data_quarter,
                to_quarter=new.salary_data_quarter,
                **change,
            )
            for change in changes
        )
    if event is not None:
        title, headline = event
        session.add(
            Event(
                guide_id=guide.id,
                version_id=version.id,
                kind=new.kind,
                occurred_at=new.ingested_at,
                title=title,
                headline=headline,
            )
        )
    session.flush()
    return version


def recent_events(session: Session, limit: int | None = None) -> list[PublishedEvent]:
    """Events newest first; ties (one run, one time) in the order they were written."""
    query = (
        select(Event, Guide, Version)
        .join(Guide, Event.guide_id == Guide.id)
        .join(Version, Event.version_id == Version.id)
        .order_by(Event.occurred_at.desc(), Event.id.desc())
        .limit(limit)
    )
    return [
        PublishedEvent(
            company=guide.company,
            role=guide.role,
            version=version.number,
            kind=event.kind,
            occurred_at=event.occurred_at,
            title=event.title,
            headline=event.headline,
            salary_data_quarter=version.salary_data_quarter,
        )
        for event, guide, version in session.execute(query)
    ]


def qoq_changes(session: Session, company: str, role: str) -> list[QoqChange]:
    """The quarter-over-quarter rows of the guide's versions, oldest first."""
    return list(
        session.scalars(
            select(QoqChange)
            .join(Version, QoqChange.version_id == Version.id)
            .join(Guide)
            .where(Guide.company == company, Guide.role == role)
            .order_by(Version.number, QoqChange.id)
        )
    )


def count_rows(engine: Engine) -> dict[str, int]:
    """Rows per table: how tests and operators see that a run wrote nothing."""
    with Session(engine) as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            or 0
            for model in (Guide, Version, CompRow, QoqChange, Event)
        }
