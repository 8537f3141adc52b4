"""Events indexed in the order feeds list them: by time, then id.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04

A run stores its events at one time, so thousands share it. With the time alone
indexed, a role's feed (its 50 newest events) had to read and sort every event of the
newest runs, about 19,000 rows at 100,000 events on PostgreSQL; indexed by time and
id, the query reads events in the feed's order and stops at its window.
"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index("ix_events_occurred_at_id", "events", ["occurred_at", "id"])
    op.drop_index("ix_events_occurred_at", table_name="events")


def downgrade() -> None:
    """Downgrade schema."""
    op.create_index("ix_events_occurred_at", "events", ["occurred_at"])
    op.drop_index("ix_events_occurred_at_id", table_name="events")
