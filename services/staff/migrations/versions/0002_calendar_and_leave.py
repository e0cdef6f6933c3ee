"""The company calendar's loaded schedules and the clerk's leave records.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_calendar_years",
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "staff_calendar_adjustments",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
    )
    op.create_index("ix_staff_calendar_adjustments_year", "staff_calendar_adjustments", ["year"])
    op.create_table(
        "staff_leave_records",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("reference", sa.String(120), nullable=False, unique=True),
        sa.Column("person_id", sa.String(64), sa.ForeignKey("staff_people.id"), nullable=False),
        sa.Column("leave_type", sa.String(40), nullable=False),
        sa.Column("start_day", sa.Date, nullable=False),
        sa.Column("start_half", sa.String(2), nullable=False),
        sa.Column("end_day", sa.Date, nullable=False),
        sa.Column("end_half", sa.String(2), nullable=False),
        sa.Column("half_days", sa.Integer, nullable=False),
        sa.Column("approved_by", sa.String(64), nullable=False),
        sa.Column("rule_id", sa.String(10), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled", sa.Boolean, nullable=False),
        sa.Column("cancel_reason", sa.String(500), nullable=False),
    )
    op.create_index("ix_staff_leave_records_person_id", "staff_leave_records", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_staff_leave_records_person_id", "staff_leave_records")
    op.drop_table("staff_leave_records")
    op.drop_index("ix_staff_calendar_adjustments_year", "staff_calendar_adjustments")
    op.drop_table("staff_calendar_adjustments")
    op.drop_table("staff_calendar_years")
