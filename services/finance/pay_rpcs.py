"""Salaries, performance pay and the monthly statement (PAY-1, PAY-2, PAY-3, PAY-5, PAY-6)."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime

import grpc
from csd.finance.v1 import finance_pb2
from csd.staff.v1 import staff_pb2
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.finance import repository, settlement
from services.finance.directory import (
    Directory,
    attendance_status,
    pay_group_of,
    place_tiers,
)
from services.finance.models import (
    REASON_LENGTH,
    REFERENCE_LENGTH,
    IdempotencyRecord,
    LedgerEntry,
    PerformancePay,
    RateAdjustment,
    Salary,
    SettledMonth,
)
from services.finance.validation import check_amount
from services.runtime.dates import parse_date, parse_month, rfc3339
from services.runtime.errors import FailedPrecondition, InvalidArgument, Unavailable
from services.runtime.idempotency import run_once
from services.runtime.validation import limit_text, require_id
from workflows.regulation.allowances import PLACE_TIERS

F, S = finance_pb2, staff_pb2
# The statement's lines that are the region's costs (ACC-1: allowances are its expenses).
LEDGER_ITEMS = frozenset({"travel_allowance", "communication_allowance", "transport_allowance"})
MAX_LISTED = 1000


def _directory(directory: Directory | None) -> Directory:
    if directory is None:
        raise Unavailable("this finance service has no staff directory to settle against")
    return directory


class PayRpcs:
    """Mixed into FinanceServicer."""

    _sessions: async_sessionmaker[AsyncSession]
    _directory: Directory | None
    _today: Callable[[], date]

    async def RecordSalary(
        self, request: finance_pb2.RecordSalaryRequest, context: grpc.aio.ServicerContext
    ) -> finance_pb2.Salary:
        require_id(request.person_id, "person_id")
        require_id(request.recorded_by, "recorded_by")
        effective = parse_date(request.effective_from, "effective_from")
        if request.base_fen <= 0:
            raise InvalidArgument("base_fen must be positive")
        check_amount(request.base_fen, "base_fen")
        limit_text(request.reference, "reference", limit=200)

        async def apply(session: AsyncSession) -> finance_pb2.Salary:
            await _directory(self._directory).require_person(request.person_id, "person_id")
            session.add(
                Salary(
                    person_id=request.person_id,
                    effective_from=effective,
                    base_fen=request.base_fen,
                    reference=request.reference,
                    recorded_by=request.recorded_by,
                    recorded_at=datetime.now(UTC),
                )
            )
            await session.flush()
            return F.Salary(
                person_id=request.person_id,
                effective_from=effective.isoformat(),
                base_fen=request.base_fen,
                reference=request.reference,
            )

        return await run_once(
            self._sessions,
            IdempotencyRecord,
            key=request.idempotency_key,
            operation="RecordSalary",
            request=request,
            response_type=F.Salary,
            apply=apply,
        )

    async def RecordPerformancePay(
        self, request: finance_pb2.RecordPerformancePayRequest, context: grpc.aio.ServicerContext
    ) -> finance_pb2.PerformancePay:
        require_id(request.person_id, "person_id")
        require_id(request.recorded_by, "recorded_by")
        month = parse_month(request.month)
        if request.amount_fen < 0:
            raise InvalidArgument("amount_fen must not be negative")
        check_amount(request.amount_fen, "amount_fen")

        async def apply(session: AsyncSession) -> finance_pb2.PerformancePay:
            await _directory(self._directory).require_person(request.person_id, "person_id")
            if await session.get(PerformancePay, (request.person_id, month)) is not None:
                raise FailedPrecondition(
                    f"performance pay for {request.person_id} in {month} is already entered"
                )
            session.add(
                PerformancePay(
                    person_id=request.person_id,
                    month=month,
                    amount_fen=request.amount_fen,
                    recorded_by=request.recorded_by,
                    recorded_at=datetime.now(UTC),
                )
            )
            await session.flush()
            return F.PerformancePay(
                person_id=request.person_id,
                month=month,
                amount_fen=request.amount_fen,
                recorded_by=request.recorded_by,
            )

        return await run_once(
            self._sessions,
            IdempotencyRecord,
            key=request.idempotency_key,
            operation="RecordPerformancePay",
            request=request,
            response_type=F.PerformancePay,
            apply=apply,
        )

    async def GetSettlement(
        self, request: finance_pb2.GetSettlementRequest, context: grpc.aio.ServicerContext
    ) -> finance_pb2.Settlement:
        require_id(request.person_id, "person_id")
        month = parse_month(request.month)
        async with self._sessions() as session:
            settled = await session.get(SettledMonth, (request.person_id, month))
        if settled is not None:
            return settled_message(settled)
        person, statement, policy = await self._compute(request.person_id, month)
        return statement_message(person.id, month, statement, policy)

    async def SettleMonth(
        self, request: finance_pb2.SettleMonthRequest, context: grpc.aio.ServicerContext
    ) -> finance_pb2.Settlement:
        require_id(request.person_id, "person_id")
        require_id(request.settled_by, "settled_by")
        month = parse_month(request.month)
        limit_text(request.reference, "reference", limit=REFERENCE_LENGTH)
        today = self._today()
        if month >= today.isoformat()[:7]:
            raise FailedPrecondition(
                f"{month} is not over (today is {today.isoformat()}): a month is settled after "
                "its last day (PAY-2)"
            )
        directory = _directory(self._directory)
        await directory.require_region(request.region_code)
        person, statement, policy = await self._compute(request.person_id, month)
        now = datetime.now(UTC)

        async def apply(session: AsyncSession) -> finance_pb2.Settlement:
            earlier = await session.get(SettledMonth, (person.id, month))
            if earlier is not None:
                raise FailedPrecondition(
                    f"{person.id}'s {month} was settled on {rfc3339(earlier.settled_at)[:10]} by "
                    f"{earlier.settled_by} ({earlier.reference}): a month is settled once (PAY-2)"
                )
            entry_ids = []
            for n, line in enumerate(statement.lines):
                if line.item not in LEDGER_ITEMS:
                    continue  # salary and performance pay are payroll, not the region's costs
                entry = LedgerEntry(
                    id=str(uuid.uuid4()),
                    idempotency_key=f"{request.idempotency_key}:{n}:{line.item}",
                    person_id=person.id,
                    region_code=request.region_code,
                    month=month,
                    kind="allowance",
                    amount_fen=line.amount_fen,
                    rule_id=line.rule,
                    reason=f"{line.item.replace('_', ' ')} for {month}: {line.words}"[
                        :REASON_LENGTH
                    ],
                    reference=request.reference or f"settlement {person.id} {month}",
                    recorded_at=now,
                    recorded_by=request.settled_by,
                )
                await repository.add_entry(entry, session=session)
                entry_ids.append(entry.id)
            row = SettledMonth(
                person_id=person.id,
                month=month,
                region_code=request.region_code,
                total_fen=statement.total_fen,
                policy_version=policy,
                statement={
                    "lines": [_row(line) for line in statement.lines],
                    "not_paid": [_row(line) for line in statement.not_paid],
                    "entry_ids": entry_ids,
                },
                reference=request.reference,
                settled_by=request.settled_by,
                settled_at=now,
            )
            session.add(row)
            await session.flush()
            return settled_message(row)

        return await run_once(
            self._sessions,
            IdempotencyRecord,
            key=request.idempotency_key,
            operation="SettleMonth",
            request=request,
            response_type=F.Settlement,
            apply=apply,
        )

    async def RecordRateAdjustment(
        self, request: finance_pb2.RecordRateAdjustmentRequest, context: grpc.aio.ServicerContext
    ) -> finance_pb2.RateAdjustment:
        require_id(request.person_id, "person_id")
        require_id(request.approved_by, "approved_by")
        month = parse_month(request.month)
        if request.tier not in PLACE_TIERS:
            raise InvalidArgument(f"tier {request.tier!r}: use {', '.join(PLACE_TIERS)}")
        if request.daily_fen <= 0:
            raise InvalidArgument("daily_fen must be positive")
        check_amount(request.daily_fen, "daily_fen")
        limit_text(request.reference, "reference", limit=REFERENCE_LENGTH)
        await _directory(self._directory).require_person(request.person_id, "person_id")

        async def apply(session: AsyncSession) -> finance_pb2.RateAdjustment:
            settled = await session.get(SettledMonth, (request.person_id, month))
            if settled is not None:
                raise FailedPrecondition(
                    f"{request.person_id}'s {month} is settled: its rates can no longer change "
                    "(PAY-2, PAY-3)"
                )
            earlier = await session.get(RateAdjustment, (request.person_id, month, request.tier))
            if earlier is not None:
                raise FailedPrecondition(
                    f"{request.person_id}'s tier {request.tier} rate for {month} is already "
                    f"adjusted ({earlier.reference}): one adjustment per tier and month (PAY-3)"
                )
            session.add(
                RateAdjustment(
                    person_id=request.person_id,
                    month=month,
                    tier=request.tier,
                    daily_fen=request.daily_fen,
                    reference=request.reference,
                    approved_by=request.approved_by,
                    recorded_at=datetime.now(UTC),
                )
            )
            await session.flush()
            return F.RateAdjustment(
                person_id=request.person_id,
                month=month,
                tier=request.tier,
                daily_fen=request.daily_fen,
                reference=request.reference,
                approved_by=request.approved_by,
            )

        return await run_once(
            self._sessions,
            IdempotencyRecord,
            key=request.idempotency_key,
            operation="RecordRateAdjustment",
            request=request,
            response_type=F.RateAdjustment,
            apply=apply,
        )

    async def ListSettlements(
        self, request: finance_pb2.ListSettlementsRequest, context: grpc.aio.ServicerContext
    ) -> finance_pb2.ListSettlementsResponse:
        if not request.person_id and not (request.region_code and request.month):
            raise InvalidArgument(
                "name a person_id, or a region_code with a month: the settlements of whom"
            )
        query = select(SettledMonth).order_by(SettledMonth.month, SettledMonth.person_id)
        if request.person_id:
            require_id(request.person_id, "person_id")
            query = query.where(SettledMonth.person_id == request.person_id)
        if request.month:
            query = query.where(SettledMonth.month == parse_month(request.month))
        if request.region_code:
            require_id(request.region_code, "region_code")
            query = query.where(SettledMonth.region_code == request.region_code)
        async with self._sessions() as session:
            rows = (await session.scalars(query.limit(MAX_LISTED))).all()
        return F.ListSettlementsResponse(settlements=[settled_message(r) for r in rows])

    async def _compute(
        self, person_id: str, month: str
    ) -> tuple[staff_pb2.Person, settlement.Statement, str]:
        """The month's statement as the records stand now, and the policy version it used."""
        directory = _directory(self._directory)
        person = await directory.person(person_id)
        group = pay_group_of(person)
        sheet = await directory.attendance_sheet(person.id, month)
        tiers = await place_tiers(directory, sheet.days)
        days = [
            settlement.Day(attendance_status(d.status), tiers.get(d.place_region_code, ""))
            for d in sheet.days
        ]
        first = date.fromisoformat(f"{month}-01")
        async with self._sessions() as session:
            salary = (
                await session.scalars(
                    select(Salary)
                    .where(Salary.person_id == person.id, Salary.effective_from <= first)
                    .order_by(Salary.effective_from.desc())
                    .limit(1)
                )
            ).first()
            performance = await session.get(PerformancePay, (person.id, month))
            forfeited = (
                await session.scalars(
                    select(LedgerEntry.id).where(
                        LedgerEntry.person_id == person.id,
                        LedgerEntry.month == month,
                        LedgerEntry.kind == "forfeit",
                        LedgerEntry.rule_id == "OC-1",
                    )
                )
            ).first() is not None
            policy = await repository.policy_in_force(first, session=session)
            adjustments = (
                await session.scalars(
                    select(RateAdjustment).where(
                        RateAdjustment.person_id == person.id, RateAdjustment.month == month
                    )
                )
            ).all()
        if policy is None:
            raise FailedPrecondition(f"no policy version is in force on {first.isoformat()}")
        rates = {
            (rate.item, rate.tier): rate.amount_fen
            for rate in policy.rates
            if rate.pay_group == group
        }
        # PAY-3: an approved dispute's rate replaces the table's for its tier.
        rates.update({("travel_daily", a.tier): a.daily_fen for a in adjustments})
        statement = settlement.settle(
            base_fen=salary.base_fen if salary else None,
            performance_fen=performance.amount_fen if performance else None,
            days=days,
            full_month=sheet.complete,
            communication_forfeited=forfeited,
            rate=lambda item, tier: rates.get((item, tier)),
            adjusted={a.tier: a.reference for a in adjustments},
        )
        return person, statement, policy.version


def _row(line: settlement.StatementLine) -> list[object]:
    return [line.item, line.rule, line.amount_fen, line.words]


def _lines(items: Iterable[settlement.StatementLine]) -> list[finance_pb2.SettlementLine]:
    return [
        F.SettlementLine(item=i.item, rule=i.rule, amount_fen=i.amount_fen, words=i.words)
        for i in items
    ]


def _csv(lines: Iterable[settlement.StatementLine]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["item", "rule", "amount_fen", "words"])
    for line in lines:
        writer.writerow([line.item, line.rule, line.amount_fen, line.words])
    return out.getvalue()


def statement_message(
    person_id: str, month: str, statement: settlement.Statement, policy_version: str
) -> finance_pb2.Settlement:
    return F.Settlement(
        person_id=person_id,
        month=month,
        lines=_lines(statement.lines),
        not_paid=_lines(statement.not_paid),
        total_fen=statement.total_fen,
        policy_version=policy_version,
        csv=_csv([*statement.lines, *statement.not_paid]),
    )


def settled_message(row: SettledMonth) -> finance_pb2.Settlement:
    def lines(key: str) -> list[settlement.StatementLine]:
        return [
            settlement.StatementLine(str(i), str(r), int(a), str(w))
            for i, r, a, w in row.statement.get(key, [])
        ]

    message = statement_message(
        row.person_id,
        row.month,
        settlement.Statement(lines("lines"), lines("not_paid")),
        row.policy_version,
    )
    message.settled_at = rfc3339(row.settled_at)
    message.settled_by = row.settled_by
    message.region_code = row.region_code
    message.reference = row.reference
    message.entry_ids.extend(str(e) for e in row.statement.get("entry_ids", []))
    return message
