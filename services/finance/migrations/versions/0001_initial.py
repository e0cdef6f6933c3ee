"""The finance schema: policy versions and rates, ledger entries, idempotency records.

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
        "finance_policy_versions",
        sa.Column("version", sa.String(64), primary_key=True),
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_finance_policy_versions_effective_from", "finance_policy_versions", ["effective_from"]
    )
    op.create_table(
        "finance_policy_rates",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "version",
            sa.String(64),
            sa.ForeignKey("finance_policy_versions.version"),
            nullable=False,
        ),
        sa.Column("item", sa.String(40), nullable=False),
        sa.Column("pay_group", sa.String(40), nullable=False),
        sa.Column("tier", sa.String(20), nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.UniqueConstraint(
            "version", "item", "pay_group", "tier", name="uq_finance_policy_rates_key"
        ),
        sa.CheckConstraint("amount_fen > 0", name="ck_finance_policy_rates_amount_positive"),
    )
    op.create_table(
        "finance_ledger_entries",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("person_id", sa.String(64), nullable=True),
        sa.Column("region_code", sa.String(64), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("rule_id", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.UniqueConstraint("idempotency_key", name="uq_finance_ledger_entries_idempotency_key"),
        sa.CheckConstraint("amount_fen > 0", name="ck_finance_ledger_entries_amount_positive"),
    )
    op.create_index(
        "ix_finance_ledger_entries_region_month",
        "finance_ledger_entries",
        ["region_code", "month"],
    )
    op.create_index(
        "ix_finance_ledger_entries_person_month",
        "finance_ledger_entries",
        ["person_id", "month"],
    )
    op.create_table(
        "finance_idempotency",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("operation", sa.String(100), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("response", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("finance_idempotency")
    op.drop_index("ix_finance_ledger_entries_person_month", "finance_ledger_entries")
    op.drop_index("ix_finance_ledger_entries_region_month", "finance_ledger_entries")
    op.drop_table("finance_ledger_entries")
    op.drop_table("finance_policy_rates")
    op.drop_index("ix_finance_policy_versions_effective_from", "finance_policy_versions")
    op.drop_table("finance_policy_versions")
