"""Guide history, sources and runs.

Revision ID: 0001
Revises:
Create Date: 2026-12-03

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""

    op.create_table(
        "guides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=200), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guides")),
        sa.UniqueConstraint("company", "role", name=op.f("uq_guides_company")),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flow_run_id", sa.String(length=36), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seeds", sa.Text(), nullable=False),
        sa.Column("force", sa.Boolean(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_runs_started_at"), ["started_at"], unique=False
        )

    op.create_table(
        "run_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("guide", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("warnings", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_run_files_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_files")),
    )
    with op.batch_alter_table("run_files", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_run_files_run_id"), ["run_id"], unique=False
        )

    op.create_table(
        "snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guide_id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("figures_hash", sa.String(length=64), nullable=False),
        sa.Column("salary_data_quarter", sa.String(length=7), nullable=False),
        sa.Column("last_updated", sa.Date(), nullable=False),
        sa.Column("next_review_due", sa.Date(), nullable=False),
        sa.Column("frontmatter", sa.JSON(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["guide_id"], ["guides.id"], name=op.f("fk_snapshots_guide_id_guides")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snapshots")),
        sa.UniqueConstraint(
            "guide_id", "content_hash", name=op.f("uq_snapshots_guide_id")
        ),
    )
    with op.batch_alter_table("snapshots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_snapshots_guide_id"), ["guide_id"], unique=False
        )

    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guide_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mtime_ns", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["guide_id"], ["guides.id"], name=op.f("fk_sources_guide_id_guides")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
        sa.UniqueConstraint("guide_id", name=op.f("uq_sources_guide_id")),
        sa.UniqueConstraint("path", name=op.f("uq_sources_path")),
    )
    op.create_table(
        "comp_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("region", sa.Text(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("base_low", sa.BigInteger(), nullable=True),
        sa.Column("base_high", sa.BigInteger(), nullable=True),
        sa.Column("stock_low", sa.BigInteger(), nullable=True),
        sa.Column("stock_high", sa.BigInteger(), nullable=True),
        sa.Column("bonus_pct", sa.Float(), nullable=True),
        sa.Column("bonus_low", sa.BigInteger(), nullable=True),
        sa.Column("bonus_high", sa.BigInteger(), nullable=True),
        sa.Column("signing_bonus_low", sa.BigInteger(), nullable=True),
        sa.Column("signing_bonus_high", sa.BigInteger(), nullable=True),
        sa.Column("total_comp_low", sa.BigInteger(), nullable=True),
        sa.Column("total_comp_high", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["snapshots.id"],
            name=op.f("fk_comp_rows_snapshot_id_snapshots"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comp_rows")),
        sa.UniqueConstraint(
            "snapshot_id", "position", name=op.f("uq_comp_rows_snapshot_id")
        ),
    )
    with op.batch_alter_table("comp_rows", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_comp_rows_snapshot_id"), ["snapshot_id"], unique=False
        )

    op.create_table(
        "versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guide_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("changed_fields", sa.JSON(), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_path", sa.Text(), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=True),
        sa.Column("flow_run_id", sa.String(length=36), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["guide_id"], ["guides.id"], name=op.f("fk_versions_guide_id_guides")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_versions_run_id_runs")
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["snapshots.id"],
            name=op.f("fk_versions_snapshot_id_snapshots"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_versions")),
        sa.UniqueConstraint("guide_id", "number", name=op.f("uq_versions_guide_id")),
    )
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_versions_guide_id"), ["guide_id"], unique=False
        )

    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guide_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("review_due", sa.Date(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("headline", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["guide_id"], ["guides.id"], name=op.f("fk_events_guide_id_guides")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"], ["versions.id"], name=op.f("fk_events_version_id_versions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint(
            "guide_id", "kind", "review_due", name=op.f("uq_events_guide_id")
        ),
        sa.UniqueConstraint("version_id", "kind", name=op.f("uq_events_version_id")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_events_guide_id"), ["guide_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_events_occurred_at"), ["occurred_at"], unique=False
        )

    op.create_table(
        "qoq_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("baseline_version_id", sa.Integer(), nullable=False),
        sa.Column("from_quarter", sa.String(length=7), nullable=False),
        sa.Column("to_quarter", sa.String(length=7), nullable=False),
        sa.Column("region", sa.Text(), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("old", sa.Float(), nullable=True),
        sa.Column("new", sa.Float(), nullable=True),
        sa.Column("delta", sa.Float(), nullable=True),
        sa.Column("pct", sa.Float(), nullable=True),
        sa.Column("flag", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["baseline_version_id"],
            ["versions.id"],
            name=op.f("fk_qoq_changes_baseline_version_id_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["versions.id"],
            name=op.f("fk_qoq_changes_version_id_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qoq_changes")),
    )
    with op.batch_alter_table("qoq_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_qoq_changes_to_quarter"), ["to_quarter"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_qoq_changes_version_id"), ["version_id"], unique=False
        )


def downgrade() -> None:
    """Downgrade schema."""

    with op.batch_alter_table("qoq_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qoq_changes_version_id"))
        batch_op.drop_index(batch_op.f("ix_qoq_changes_to_quarter"))

    op.drop_table("qoq_changes")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_events_guide_id"))

    op.drop_table("events")
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_versions_guide_id"))

    op.drop_table("versions")
    with op.batch_alter_table("comp_rows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comp_rows_snapshot_id"))

    op.drop_table("comp_rows")
    op.drop_table("sources")
    with op.batch_alter_table("snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_snapshots_guide_id"))

    op.drop_table("snapshots")
    with op.batch_alter_table("run_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_run_files_run_id"))

    op.drop_table("run_files")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_runs_started_at"))

    op.drop_table("runs")
    op.drop_table("guides")
