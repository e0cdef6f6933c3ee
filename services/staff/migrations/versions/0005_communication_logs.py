"""Hospital projects under maintenance and their communication logs (CL-1..CL-3).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_projects",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("hospital", sa.String(200), nullable=False),
        sa.Column(
            "region_code", sa.String(40), sa.ForeignKey("staff_regions.code"), nullable=False
        ),
        sa.Column("engineer_id", sa.String(64), sa.ForeignKey("staff_people.id"), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("log_version", sa.Integer, nullable=False),
    )
    op.create_index("ix_staff_projects_region_code", "staff_projects", ["region_code"])
    op.create_table(
        "staff_log_entries",
        sa.Column(
            "project_code", sa.String(64), sa.ForeignKey("staff_projects.code"), primary_key=True
        ),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("author_id", sa.String(64), nullable=False),
        sa.Column("author_role", sa.String(40), nullable=False),
        sa.Column("contact_with", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("summary", sa.String(2000), nullable=False),
        sa.Column("contacted_on", sa.Date, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("reference", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("staff_log_entries")
    op.drop_index("ix_staff_projects_region_code", "staff_projects")
    op.drop_table("staff_projects")
