"""Dev-data fingerprints: the Development field's summary hash per issue, to re-read only changed dev data.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 12:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``dev_fingerprints``."""
    op.create_table(
        "dev_fingerprints",
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_dev_fingerprints_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("integration_id", "issue_id", name=op.f("pk_dev_fingerprints")),
    )


def downgrade() -> None:
    """Drop ``dev_fingerprints``."""
    op.drop_table("dev_fingerprints")
