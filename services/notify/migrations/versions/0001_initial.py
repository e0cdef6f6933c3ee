"""The notify schema: the delivery log.

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
        "notify_deliveries",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("recipients", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("provider", sa.String(40), nullable=False),
        sa.Column("provider_ref", sa.Text, nullable=False),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("idempotency_key", name="uq_notify_deliveries_idempotency_key"),
    )
    op.create_index("ix_notify_deliveries_channel", "notify_deliveries", ["channel"])
    op.create_index("ix_notify_deliveries_reference", "notify_deliveries", ["reference"])
    op.create_index("ix_notify_deliveries_created_at", "notify_deliveries", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_notify_deliveries_created_at", "notify_deliveries")
    op.drop_index("ix_notify_deliveries_reference", "notify_deliveries")
    op.drop_index("ix_notify_deliveries_channel", "notify_deliveries")
    op.drop_table("notify_deliveries")
