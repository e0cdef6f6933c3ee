"""The finance database. Enum-like columns hold the proto enum names in lower case, without prefix.

Everything here is append-only: a policy version is never edited once published (EF-1), and a
ledger entry is never updated or deleted (ACC-1); corrections are new rows.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from services.runtime.idempotency import MAX_KEY_LENGTH, IdempotencyRecordMixin

ID_LENGTH = 64
RULE_ID_LENGTH = 20
REASON_LENGTH = 500
REFERENCE_LENGTH = 200
NOTE_LENGTH = 500
RECORDED_BY_LENGTH = 100


class Base(DeclarativeBase):
    """Metadata of the finance database."""


class PolicyVersion(Base):
    """One published version of the allowance policy, in force from `effective_from`."""

    __tablename__ = "finance_policy_versions"

    version: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    effective_from: Mapped[date] = mapped_column(Date, index=True)
    note: Mapped[str] = mapped_column(String(NOTE_LENGTH))
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Loaded explicitly (selectinload) by the repository: async sessions cannot lazy-load.
    rates: Mapped[list[PolicyRate]] = relationship(order_by="PolicyRate.id")


class PolicyRate(Base):
    """One amount of a policy version: an item for a pay group (and a tier, for PAY-3)."""

    __tablename__ = "finance_policy_rates"
    __table_args__ = (
        UniqueConstraint(
            "version", "item", "pay_group", "tier", name="uq_finance_policy_rates_key"
        ),
        CheckConstraint("amount_fen > 0", name="ck_finance_policy_rates_amount_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(ForeignKey("finance_policy_versions.version"))
    item: Mapped[str] = mapped_column(String(40))
    pay_group: Mapped[str] = mapped_column(String(40))
    tier: Mapped[str] = mapped_column(String(20))
    amount_fen: Mapped[int] = mapped_column(BigInteger)


class LedgerEntry(Base):
    """One fine, allowance, reimbursement, income or forfeit of a region and month."""

    __tablename__ = "finance_ledger_entries"
    __table_args__ = (
        Index("ix_finance_ledger_entries_region_month", "region_code", "month"),
        Index("ix_finance_ledger_entries_person_month", "person_id", "month"),
        # Unique on its own, not only through the idempotency table: whatever path a retry
        # takes, one key can never become two ledger rows.
        UniqueConstraint("idempotency_key", name="uq_finance_ledger_entries_idempotency_key"),
        CheckConstraint("amount_fen > 0", name="ck_finance_ledger_entries_amount_positive"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    person_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), nullable=True)
    region_code: Mapped[str] = mapped_column(String(ID_LENGTH))
    month: Mapped[str] = mapped_column(String(7))
    kind: Mapped[str] = mapped_column(String(20))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    rule_id: Mapped[str] = mapped_column(String(RULE_ID_LENGTH))
    reason: Mapped[str] = mapped_column(String(REASON_LENGTH))
    reference: Mapped[str] = mapped_column(String(REFERENCE_LENGTH))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(RECORDED_BY_LENGTH))


class IdempotencyRecord(IdempotencyRecordMixin, Base):
    """The finance service's record of applied idempotency keys."""

    __tablename__ = "finance_idempotency"


class PreApproval(Base):
    """What a department manager approved before the spending (RB-5, PAY-4, PAY-7)."""

    __tablename__ = "finance_pre_approvals"
    __table_args__ = (
        CheckConstraint("approved_fen > 0", name="ck_finance_pre_approvals_amount_positive"),
    )

    reference: Mapped[str] = mapped_column(String(120), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(ID_LENGTH), index=True)
    category: Mapped[str] = mapped_column(String(20))  # hospitality, business, lodging_uplift
    approved_fen: Mapped[int] = mapped_column(BigInteger)
    approved_by: Mapped[str] = mapped_column(String(RECORDED_BY_LENGTH))
    approved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_by: Mapped[str | None] = mapped_column(String(REFERENCE_LENGTH), nullable=True)


class Salary(Base):
    """A base salary from its effective date (PAY-1 executes a change by adding one)."""

    __tablename__ = "finance_salaries"
    __table_args__ = (CheckConstraint("base_fen > 0", name="ck_finance_salaries_base_positive"),)

    person_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    effective_from: Mapped[date] = mapped_column(Date, primary_key=True)
    base_fen: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str] = mapped_column(String(REFERENCE_LENGTH))
    recorded_by: Mapped[str] = mapped_column(String(RECORDED_BY_LENGTH))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PerformancePay(Base):
    """The performance pay a department manager entered for a person's month (PAY-2)."""

    __tablename__ = "finance_performance_pay"
    __table_args__ = (
        CheckConstraint("amount_fen >= 0", name="ck_finance_performance_pay_not_negative"),
    )

    person_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    recorded_by: Mapped[str] = mapped_column(String(RECORDED_BY_LENGTH))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SettledRoom(Base):
    """A night's room reimbursed on an approved claim, one row per person in it: a room shared
    is settled once, and nobody in it has that night paid again on another claim (PAY-4)."""

    __tablename__ = "finance_settled_rooms"

    night: Mapped[date] = mapped_column(Date, primary_key=True)
    city: Mapped[str] = mapped_column(String(100), primary_key=True)  # case-folded
    person_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    claim: Mapped[str] = mapped_column(String(REFERENCE_LENGTH))


class SettledMonth(Base):
    """A person's month, settled once (PAY-2): the statement as it was computed then, and the
    ledger entries its allowances became. A claim for a settled month is refused."""

    __tablename__ = "finance_settled_months"
    __table_args__ = (Index("ix_finance_settled_months_region_month", "region_code", "month"),)

    person_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(ID_LENGTH))
    total_fen: Mapped[int] = mapped_column(BigInteger)
    policy_version: Mapped[str] = mapped_column(String(ID_LENGTH))
    # {"lines": [[item, rule, amount_fen, words], ...], "not_paid": [...], "entry_ids": [...]}
    statement: Mapped[dict[str, list[Any]]] = mapped_column(JSON)
    reference: Mapped[str] = mapped_column(String(REFERENCE_LENGTH))
    settled_by: Mapped[str] = mapped_column(String(RECORDED_BY_LENGTH))
    settled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RateAdjustment(Base):
    """A disputed travel allowance rate, approved for one person's month at one tier (PAY-3):
    the statement pays it instead of the table's for the days at that tier."""

    __tablename__ = "finance_rate_adjustments"
    __table_args__ = (
        CheckConstraint("daily_fen > 0", name="ck_finance_rate_adjustments_amount_positive"),
    )

    person_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    tier: Mapped[str] = mapped_column(String(20), primary_key=True)
    daily_fen: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str] = mapped_column(String(REFERENCE_LENGTH))
    approved_by: Mapped[str] = mapped_column(String(RECORDED_BY_LENGTH))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
