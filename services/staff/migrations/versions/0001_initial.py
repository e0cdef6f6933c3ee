"""The staff schema: regions, people, on-call shifts, idempotency records.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_regions",
        sa.Column("code", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("tier", sa.String(20), nullable=False),
    )
    op.create_table(
        "staff_people",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("email", sa.String(200), nullable=False),
        sa.Column("phone", sa.String(40), nullable=False),
        sa.Column("role", sa.String(40), nullable=False),
        sa.Column("track", sa.String(40), nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("region_code", sa.String(40), sa.ForeignKey("staff_regions.code"), nullable=True),
        sa.Column("manager_id", sa.String(64), sa.ForeignKey("staff_people.id"), nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_index("ix_staff_people_role", "staff_people", ["role"])
    op.create_index("ix_staff_people_region_code", "staff_people", ["region_code"])
    op.create_table(
        "staff_on_call_shifts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "region_code", sa.String(40), sa.ForeignKey("staff_regions.code"), nullable=False
        ),
        sa.Column("person_id", sa.String(64), sa.ForeignKey("staff_people.id"), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("region_code", "starts_at"),
    )
    op.create_table(
        "staff_idempotency",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("operation", sa.String(100), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("response", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("staff_idempotency")
    op.drop_table("staff_on_call_shifts")
    op.drop_index("ix_staff_people_region_code", "staff_people")
    op.drop_index("ix_staff_people_role", "staff_people")
    op.drop_table("staff_people")
    op.drop_table("staff_regions")
