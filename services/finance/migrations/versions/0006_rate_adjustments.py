"""Disputed travel allowance rates (PAY-3), approved per person, month and tier.

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
        "finance_rate_adjustments",
        sa.Column("person_id", sa.String(64), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("tier", sa.String(20), primary_key=True),
        sa.Column("daily_fen", sa.BigInteger, nullable=False),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("approved_by", sa.String(100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("daily_fen > 0", name="ck_finance_rate_adjustments_amount_positive"),
    )


def downgrade() -> None:
    op.drop_table("finance_rate_adjustments")
