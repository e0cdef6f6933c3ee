"""Activities writing to the finance ledger, idempotent by the business reference."""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from csd.finance.v1 import finance_pb2, finance_pb2_grpc
from temporalio import activity

from activities.grpc_status import CALL_DEADLINE_SECONDS, call


@dataclass
class LedgerEntryInput:
    idempotency_key: str
    kind: str  # "fine", "allowance", "reimbursement", "income", "forfeit"
    region_code: str
    month: str  # YYYY-MM
    amount_fen: int
    rule_id: str
    reason: str
    person_id: str = ""
    reference: str = ""
    recorded_by: str = ""


@dataclass
class LedgerEntryResult:
    entry_id: str
    recorded_at: str


class FinanceActivities:
    """Ledger writes."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = finance_pb2_grpc.FinanceServiceStub(channel)

    @activity.defn(name="finance.record_entry")
    async def record_entry(self, input: LedgerEntryInput) -> LedgerEntryResult:
        entry = await call(
            self._stub.RecordEntry(
                finance_pb2.RecordEntryRequest(
                    idempotency_key=input.idempotency_key,
                    entry=finance_pb2.LedgerEntry(
                        person_id=input.person_id,
                        region_code=input.region_code,
                        month=input.month,
                        kind=finance_pb2.EntryKind.Value("ENTRY_KIND_" + input.kind.upper()),
                        amount_fen=input.amount_fen,
                        rule_id=input.rule_id,
                        reason=input.reason,
                        reference=input.reference,
                        recorded_by=input.recorded_by,
                    ),
                ),
                timeout=CALL_DEADLINE_SECONDS,
            )
        )
        return LedgerEntryResult(entry_id=entry.id, recorded_at=entry.recorded_at)
