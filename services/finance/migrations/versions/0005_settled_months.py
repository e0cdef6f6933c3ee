"""Settled months (PAY-2): each person's month closed once, with its statement as settled and
the ledger entries its allowances became.

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
        "finance_settled_months",
        sa.Column("person_id", sa.String(64), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("region_code", sa.String(64), nullable=False),
        sa.Column("total_fen", sa.BigInteger, nullable=False),
        sa.Column("policy_version", sa.String(64), nullable=False),
        sa.Column("statement", sa.JSON, nullable=False),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("settled_by", sa.String(100), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_finance_settled_months_region_month", "finance_settled_months", ["region_code", "month"]
    )


def downgrade() -> None:
    op.drop_index("ix_finance_settled_months_region_month", "finance_settled_months")
    op.drop_table("finance_settled_months")
