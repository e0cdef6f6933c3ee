"""Pre-approvals (RB-5, PAY-4, PAY-7): what a department manager approved before the spending,
so that the claim audit can find it.

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
        "finance_pre_approvals",
        sa.Column("reference", sa.String(120), primary_key=True),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("approved_fen", sa.BigInteger, nullable=False),
        sa.Column("approved_by", sa.String(100), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("approved_fen > 0", name="ck_finance_pre_approvals_amount_positive"),
    )
    op.create_index("ix_finance_pre_approvals_person_id", "finance_pre_approvals", ["person_id"])


def downgrade() -> None:
    op.drop_table("finance_pre_approvals")
