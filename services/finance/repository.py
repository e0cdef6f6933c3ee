"""Reads and writes of the finance database. Every function takes the session by keyword.

There are only inserts and reads: policy versions and ledger entries are append-only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from services.finance.models import LedgerEntry, PolicyRate, PolicyVersion
from services.runtime.database import insert_statement

_LEDGER_COLUMNS = tuple(column.key for column in LedgerEntry.__table__.columns)


async def get_policy_version(version: str, *, session: AsyncSession) -> PolicyVersion | None:
    """The version of that name, with its rates."""
    query = (
        select(PolicyVersion)
        .where(PolicyVersion.version == version)
        .options(selectinload(PolicyVersion.rates))
    )
    return (await session.scalars(query)).first()


async def policy_in_force(as_of: date, *, session: AsyncSession) -> PolicyVersion | None:
    """The version with the latest effective date on or before `as_of`, with its rates.

    Of two versions taking effect on the same day, the one published later supersedes.
    """
    query = (
        select(PolicyVersion)
        .where(PolicyVersion.effective_from <= as_of)
        .order_by(
            PolicyVersion.effective_from.desc(),
            PolicyVersion.published_at.desc(),
            PolicyVersion.version.desc(),
        )
        .limit(1)
        .options(selectinload(PolicyVersion.rates))
    )
    return (await session.scalars(query)).first()


async def list_policy_versions(*, session: AsyncSession) -> Sequence[PolicyVersion]:
    """Every version, in the order they take effect, with their rates."""
    query = (
        select(PolicyVersion)
        .order_by(PolicyVersion.effective_from, PolicyVersion.published_at, PolicyVersion.version)
        .options(selectinload(PolicyVersion.rates))
    )
    return (await session.scalars(query)).all()


async def any_policy_version(*, session: AsyncSession) -> bool:
    """Whether any version is published yet."""
    found = await session.execute(select(PolicyVersion.version).limit(1))
    return found.first() is not None


async def add_policy_version(policy: PolicyVersion, *, session: AsyncSession) -> PolicyVersion:
    """Insert a new version with its rates; a name already taken fails at flush."""
    session.add(policy)
    await session.flush()
    return policy


async def find_rate(
    version: str, item: str, pay_group: str, tier: str, *, session: AsyncSession
) -> PolicyRate | None:
    query = select(PolicyRate).where(
        PolicyRate.version == version,
        PolicyRate.item == item,
        PolicyRate.pay_group == pay_group,
        PolicyRate.tier == tier,
    )
    return (await session.scalars(query)).first()


async def add_entry(entry: LedgerEntry, *, session: AsyncSession) -> LedgerEntry:
    """Insert a ledger entry; a second row for one idempotency key fails here.

    A plain INSERT of the row's columns: the ledger is append-only, so the unit of work (and its
    cost on every fine and reimbursement) buys nothing; the table's one statement, with the row
    as its parameters."""
    values = {key: getattr(entry, key) for key in _LEDGER_COLUMNS}
    await session.execute(insert_statement(LedgerEntry), values)
    return entry


async def list_entries(
    *,
    session: AsyncSession,
    person_id: str = "",
    region_code: str = "",
    month: str = "",
    kind: str = "",
) -> Sequence[LedgerEntry]:
    """Entries matching every filter given, oldest first."""
    query = select(LedgerEntry).order_by(LedgerEntry.recorded_at, LedgerEntry.id)
    if person_id:
        query = query.where(LedgerEntry.person_id == person_id)
    if region_code:
        query = query.where(LedgerEntry.region_code == region_code)
    if month:
        query = query.where(LedgerEntry.month == month)
    if kind:
        query = query.where(LedgerEntry.kind == kind)
    return (await session.scalars(query)).all()


@dataclass(frozen=True)
class KindTotal:
    """The sum in fen and the number of one kind of entry."""

    amount_fen: int
    count: int


async def region_month_totals(
    region_code: str, month: str, *, session: AsyncSession
) -> dict[str, KindTotal]:
    """Totals per kind for one region and month; kinds without entries are absent."""
    query = (
        select(LedgerEntry.kind, func.sum(LedgerEntry.amount_fen), func.count())
        .where(LedgerEntry.region_code == region_code, LedgerEntry.month == month)
        .group_by(LedgerEntry.kind)
    )
    # PostgreSQL sums a bigint as numeric (a Decimal here); the amounts are whole fen either way.
    return {
        kind: KindTotal(amount_fen=int(total), count=count)
        for kind, total, count in await session.execute(query)
    }


async def ledger_rows_by_month(*, session: AsyncSession) -> dict[str, int]:
    """How many ledger rows each month holds."""
    rows = await session.execute(
        select(LedgerEntry.month, func.count()).group_by(LedgerEntry.month)
    )
    return {month: count for month, count in rows}
