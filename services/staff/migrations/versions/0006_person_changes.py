"""Level, track and role history per person (ORG-3).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_person_changes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("person_id", sa.String(64), sa.ForeignKey("staff_people.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("field", sa.String(20), nullable=False),
        sa.Column("old", sa.String(40), nullable=False),
        sa.Column("new", sa.String(40), nullable=False),
        sa.Column("changed_by", sa.String(64), nullable=False),
    )
    op.create_index("ix_staff_person_changes_person_id", "staff_person_changes", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_staff_person_changes_person_id", "staff_person_changes")
    op.drop_table("staff_person_changes")
