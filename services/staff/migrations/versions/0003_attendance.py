"""Attendance (AT-1, AT-2): daily reports, the occurrences of missing reports, and the day each
person's attendance is tracked from.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # People already in the directory are tracked from the day this runs: nobody is fined for
    # days before attendance was kept here.
    op.add_column("staff_people", sa.Column("attendance_from", sa.Date, nullable=True))
    op.execute("UPDATE staff_people SET attendance_from = CURRENT_DATE")
    op.create_table(
        "staff_attendance",
        sa.Column("person_id", sa.String(64), sa.ForeignKey("staff_people.id"), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("hospital", sa.String(200), nullable=False),
        sa.Column("city", sa.String(100), nullable=False),
        sa.Column(
            "place_region_code", sa.String(40), sa.ForeignKey("staff_regions.code"), nullable=True
        ),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("reported_by", sa.String(64), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_staff_attendance_day", "staff_attendance", ["day"])
    op.create_table(
        "staff_missing_report_occurrences",
        sa.Column("id", sa.String(120), primary_key=True),
        sa.Column("person_id", sa.String(64), sa.ForeignKey("staff_people.id"), nullable=False),
        sa.Column("region_code", sa.String(40), nullable=False),
        sa.Column("first_day", sa.Date, nullable=False),
        sa.Column("last_day", sa.Date, nullable=False),
        sa.Column("days", sa.String(4000), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_staff_missing_report_occurrences_person_id",
        "staff_missing_report_occurrences",
        ["person_id"],
    )


def downgrade() -> None:
    op.drop_table("staff_missing_report_occurrences")
    op.drop_index("ix_staff_attendance_day", "staff_attendance")
    op.drop_table("staff_attendance")
    op.drop_column("staff_people", "attendance_from")
