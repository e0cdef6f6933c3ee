"""Pay (PAY-1, PAY-2): base salaries with their effective dates, and the performance pay a
department manager enters per person and month.

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
    op.create_table(
        "finance_salaries",
        sa.Column("person_id", sa.String(64), primary_key=True),
        sa.Column("effective_from", sa.Date, primary_key=True),
        sa.Column("base_fen", sa.BigInteger, nullable=False),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("base_fen > 0", name="ck_finance_salaries_base_positive"),
    )
    op.create_table(
        "finance_performance_pay",
        sa.Column("person_id", sa.String(64), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_fen >= 0", name="ck_finance_performance_pay_not_negative"),
    )


def downgrade() -> None:
    op.drop_table("finance_performance_pay")
    op.drop_table("finance_salaries")
