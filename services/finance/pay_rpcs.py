"""Salaries, performance pay and the monthly statement (PAY-1, PAY-2, PAY-3, PAY-5, PAY-6)."""

from __future__ import annotations

import csv
import io
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
from services.finance.models import IdempotencyRecord, LedgerEntry, PerformancePay, Salary
from services.finance.validation import check_amount
from services.runtime.dates import parse_date, parse_month
from services.runtime.errors import FailedPrecondition, InvalidArgument, Unavailable
from services.runtime.idempotency import run_once
from services.runtime.validation import limit_text, require_id

F, S = finance_pb2, staff_pb2


def _directory(directory: Directory | None) -> Directory:
    if directory is None:
        raise Unavailable("this finance service has no staff directory to settle against")
    return directory


class PayRpcs:
    """Mixed into FinanceServicer."""

    _sessions: async_sessionmaker[AsyncSession]
    _directory: Directory | None

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
        directory = _directory(self._directory)
        person = await directory.person(request.person_id)
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
        if policy is None:
            raise FailedPrecondition(f"no policy version is in force on {first.isoformat()}")
        rates = {
            (rate.item, rate.tier): rate.amount_fen
            for rate in policy.rates
            if rate.pay_group == group
        }
        statement = settlement.settle(
            base_fen=salary.base_fen if salary else None,
            performance_fen=performance.amount_fen if performance else None,
            days=days,
            full_month=sheet.complete,
            communication_forfeited=forfeited,
            rate=lambda item, tier: rates.get((item, tier)),
        )
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["item", "rule", "amount_fen", "words"])
        for line in [*statement.lines, *statement.not_paid]:
            writer.writerow([line.item, line.rule, line.amount_fen, line.words])

        def lines(items: list[settlement.StatementLine]) -> list[finance_pb2.SettlementLine]:
            return [
                F.SettlementLine(item=i.item, rule=i.rule, amount_fen=i.amount_fen, words=i.words)
                for i in items
            ]

        return F.Settlement(
            person_id=person.id,
            month=month,
            lines=lines(statement.lines),
            not_paid=lines(statement.not_paid),
            total_fen=statement.total_fen,
            policy_version=policy.version,
            csv=out.getvalue(),
        )
