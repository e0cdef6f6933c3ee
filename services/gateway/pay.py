"""Pay through the gateway (PAY-2): a department manager enters a person's performance pay; the
month's statement is read by the person, the department managers and the clerk."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable
from typing import TypeVar

from csd.finance.v1 import finance_pb2, finance_pb2_grpc
from csd.gateway.v1 import gateway_pb2

from services.gateway.identity import Caller
from services.gateway.relay import relayed
from services.runtime import errors
from services.runtime.dates import parse_month
from services.runtime.validation import require_id

T = TypeVar("T")
G, F = gateway_pb2, finance_pb2
ENTERS_PERFORMANCE_PAY = "department_manager"
READS_EVERY_STATEMENT = frozenset({"department_manager", "department_clerk"})
TIMEOUT_SECONDS = 5.0


async def _finance(call: Awaitable[T], purpose: str) -> T:
    return await relayed(call, service="finance", purpose=purpose)


class PayGateway:
    def __init__(self, finance: finance_pb2_grpc.FinanceServiceStub) -> None:
        self._finance = finance

    async def record_performance_pay(
        self, request: G.RecordPerformancePayRequest, caller: Caller
    ) -> G.PerformancePay:
        if caller.role != ENTERS_PERFORMANCE_PAY:
            raise errors.PermissionDenied(
                f"{caller.id} may not enter performance pay: a department manager does (PAY-2)"
            )
        require_id(request.person_id, "person_id")
        month = parse_month(request.month)
        key = hashlib.sha256(
            f"{request.person_id}|{month}|{request.amount_fen}".encode()
        ).hexdigest()
        answer = await _finance(
            self._finance.RecordPerformancePay(
                F.RecordPerformancePayRequest(
                    idempotency_key=f"performance:{key[:32]}",
                    person_id=request.person_id,
                    month=month,
                    amount_fen=request.amount_fen,
                    recorded_by=caller.id,
                ),
                timeout=TIMEOUT_SECONDS,
            ),
            "record the performance pay",
        )
        return G.PerformancePay(
            person_id=answer.person_id,
            month=answer.month,
            amount_fen=answer.amount_fen,
            recorded_by=answer.recorded_by,
        )

    async def statement(self, request: G.GetPayStatementRequest, caller: Caller) -> G.PayStatement:
        person = request.person_id or caller.id
        require_id(person, "person_id")
        if person != caller.id and caller.role not in READS_EVERY_STATEMENT:
            raise errors.PermissionDenied(
                f"{caller.id} may not read {person}'s pay: the person, the department managers "
                "and the clerk do"
            )
        s = await _finance(
            self._finance.GetSettlement(
                F.GetSettlementRequest(person_id=person, month=parse_month(request.month)),
                timeout=TIMEOUT_SECONDS,
            ),
            "compute the statement",
        )

        def lines(items: list[F.SettlementLine]) -> list[G.PayStatementLine]:
            return [
                G.PayStatementLine(item=i.item, rule=i.rule, amount_fen=i.amount_fen, words=i.words)
                for i in items
            ]

        return G.PayStatement(
            person_id=s.person_id,
            month=s.month,
            lines=lines(list(s.lines)),
            not_paid=lines(list(s.not_paid)),
            total_fen=s.total_fen,
            csv=s.csv,
        )
