"""Cheaper writes: indexes no query needs, and lz4 for snapshot text on PostgreSQL.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04

Each dropped single-column index repeats the first column of a unique constraint on
the same table, which serves the same lookups; the index on ``qoq_changes.to_quarter``
served no query at all (quarters are filtered after the join, in Python). Every
index is kept up on each insert, and a next quarter writes 140,000 comparison rows.

PostgreSQL compresses snapshot bodies and frontmatter when it stores them; lz4 does it
in half the server time of the default pglz, for the same size. Rows stored before
keep pglz and stay readable. A server built without lz4 keeps its default.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (index, table, column): each covered by a unique constraint that starts with it,
# except the last, which no query uses.
DROPPED = (
    ("ix_snapshots_guide_id", "snapshots", "guide_id"),
    ("ix_versions_guide_id", "versions", "guide_id"),
    ("ix_comp_rows_snapshot_id", "comp_rows", "snapshot_id"),
    ("ix_events_guide_id", "events", "guide_id"),
    ("ix_qoq_changes_to_quarter", "qoq_changes", "to_quarter"),
)
COMPRESSED = ("body", "frontmatter")


def upgrade() -> None:
    """Upgrade schema."""
    for index, table, _ in DROPPED:
        op.drop_index(index, table_name=table)
    if _lz4_available():
        for column in COMPRESSED:
            op.execute(
                f"ALTER TABLE snapshots ALTER COLUMN {column} SET COMPRESSION lz4"
            )


def downgrade() -> None:
    """Downgrade schema."""
    if _lz4_available():
        for column in COMPRESSED:
            op.execute(
                f"ALTER TABLE snapshots ALTER COLUMN {column} SET COMPRESSION DEFAULT"
            )
    for index, table, column in reversed(DROPPED):
        op.create_index(index, table, [column], unique=False)


def _lz4_available() -> bool:
    """Whether this is PostgreSQL built with lz4 (14 and later can be)."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    methods = bind.scalar(
        sa.text(
            "SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'"
        )
    )
    return bool(methods) and "lz4" in methods
