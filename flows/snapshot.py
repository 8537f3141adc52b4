"""A guide's canonical snapshot, and what kind of change one snapshot is from another.

Two files that say the same thing (key order, line endings, ``175_000`` or ``175000``)
give the same snapshot and the same hash, so re-reading a guide never makes a version.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Any

from flows.guide import Guide
from flows.quarter import Quarter

REVIEW_FIELDS = frozenset({"last_updated", "next_review_due"})
FIGURE_FIELDS = frozenset({"compensation", "salary_data_quarter"})


class ChangeKind(StrEnum):
    NEW = "new"
    UPDATED = "updated"  # figures changed for a later (or earlier) quarter
    CORRECTED = "corrected"  # figures changed within the same quarter
    REVIEWED = "reviewed"  # only the review dates moved
    EDITED = "edited"  # only prose or metadata changed
    RETIRED = "retired"  # the file is gone: a tombstone, history kept
    RESTORED = "restored"  # a retired guide's file is back
    # Not a version: an event, once per guide and passed review date.
    REVIEW_OVERDUE = "review_overdue"


@dataclass(frozen=True)
class Snapshot:
    """What is stored of a guide: its frontmatter as JSON data, and its body."""

    frontmatter: dict[str, Any]
    body: str

    @property
    def quarter(self) -> Quarter:
        return Quarter.parse(self.frontmatter["salary_data_quarter"])

    # Cached: deciding a change asks for each twice, and each is a JSON dump and a
    # SHA-256 of the whole guide.
    @cached_property
    def content_hash(self) -> str:
        return _digest({"frontmatter": self.frontmatter, "body": self.body})

    @cached_property
    def figures_hash(self) -> str:
        return _digest({key: self.frontmatter.get(key) for key in FIGURE_FIELDS})


def hashed(snapshot: Snapshot) -> Snapshot:
    """``snapshot`` with both its hashes worked out now, to travel with it."""
    _ = snapshot.content_hash, snapshot.figures_hash  # cached on the snapshot
    return snapshot


def known_hashes(snapshot: Snapshot, content_hash: str, figures_hash: str) -> Snapshot:
    """``snapshot`` with its hashes as stored beside it, not worked out again. (Were
    the hashing ever to change, stored hashes would need a migration first.)"""
    # Where the cached properties keep what they worked out.
    snapshot.__dict__.update(content_hash=content_hash, figures_hash=figures_hash)
    return snapshot


def snapshot_of(guide: Guide, body: str) -> Snapshot:
    # Null and absent mean the same (no figure), so nulls are left out.
    return Snapshot(guide.model_dump(mode="json", exclude_none=True), body)


def title_of(frontmatter: dict[str, Any]) -> str:
    """How a guide is named to readers: its display names, else its slugs."""
    company = frontmatter.get("company_display") or frontmatter["company"]
    role = frontmatter.get("role_display") or frontmatter["role"]
    return f"{company} {role}"


def changed_fields(before: Snapshot, after: Snapshot) -> list[str]:
    keys = before.frontmatter.keys() | after.frontmatter.keys()
    changed = {k for k in keys if before.frontmatter.get(k) != after.frontmatter.get(k)}
    if before.body != after.body:
        changed.add("body")
    return sorted(changed)


def classify(before: Snapshot | None, after: Snapshot) -> ChangeKind | None:
    """The kind of change from ``before`` to ``after``; None when nothing changed."""
    if before is None:
        return ChangeKind.NEW
    if before.content_hash == after.content_hash:
        return None
    changed = set(changed_fields(before, after))
    if changed & FIGURE_FIELDS:
        if after.quarter == before.quarter:
            return ChangeKind.CORRECTED
        return ChangeKind.UPDATED
    if changed <= REVIEW_FIELDS:
        return ChangeKind.REVIEWED
    return ChangeKind.EDITED


def _digest(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
