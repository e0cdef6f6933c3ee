"""Absence found in spot checks (AT-3, AT-4).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_absences",
        sa.Column("person_id", sa.String(64), sa.ForeignKey("staff_people.id"), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("reference", sa.String(120), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("staff_absences")
