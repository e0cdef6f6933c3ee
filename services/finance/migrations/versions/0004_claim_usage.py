"""What approved claims used (RB-1, RB-5, PAY-4): the rooms reimbursed, night by night with who
shared them, and the pre-approvals spent, so that neither is paid twice across claims.

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
        "finance_settled_rooms",
        sa.Column("night", sa.Date, primary_key=True),
        sa.Column("city", sa.String(100), primary_key=True),
        sa.Column("person_id", sa.String(64), primary_key=True),
        sa.Column("claim", sa.String(200), nullable=False),
    )
    op.add_column("finance_pre_approvals", sa.Column("used_by", sa.String(200), nullable=True))


def downgrade() -> None:
    op.drop_column("finance_pre_approvals", "used_by")
    op.drop_table("finance_settled_rooms")
