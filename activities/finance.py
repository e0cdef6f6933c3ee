"""Activities writing to the finance ledger, idempotent by the business reference."""

from __future__ import annotations

from dataclasses import dataclass, field

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


@dataclass
class PreApprovalInput:
    idempotency_key: str
    reference: str
    person_id: str
    category: str
    approved_fen: int
    approved_by: str


@dataclass
class RateInput:
    item: str  # e.g. "communication_monthly"
    pay_group: str  # e.g. "engineer"
    as_of: str  # YYYY-MM-DD


@dataclass
class SalaryInput:
    idempotency_key: str
    person_id: str
    effective_from: str
    base_fen: int
    reference: str
    recorded_by: str


@dataclass
class SettleMonthInput:
    idempotency_key: str
    person_id: str
    month: str
    region_code: str
    settled_by: str
    reference: str


@dataclass
class SettleMonthResult:
    total_fen: int
    allowances: int  # ledger entries written for the region (ACC-1)
    not_paid: list[str] = field(default_factory=list)  # the statement's reasons, in words


@dataclass
class RateAdjustmentInput:
    idempotency_key: str
    person_id: str
    month: str
    tier: str
    daily_fen: int
    reference: str
    approved_by: str


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

    @activity.defn(name="finance.settle_month")
    async def settle_month(self, input: SettleMonthInput) -> SettleMonthResult:
        settled = await call(
            self._stub.SettleMonth(
                finance_pb2.SettleMonthRequest(
                    idempotency_key=input.idempotency_key,
                    person_id=input.person_id,
                    month=input.month,
                    region_code=input.region_code,
                    settled_by=input.settled_by,
                    reference=input.reference,
                ),
                timeout=CALL_DEADLINE_SECONDS,
            )
        )
        return SettleMonthResult(
            total_fen=settled.total_fen,
            allowances=len(settled.entry_ids),
            not_paid=[f"{line.item}: {line.words}" for line in settled.not_paid],
        )

    @activity.defn(name="finance.record_rate_adjustment")
    async def record_rate_adjustment(self, input: RateAdjustmentInput) -> str:
        recorded = await call(
            self._stub.RecordRateAdjustment(
                finance_pb2.RecordRateAdjustmentRequest(
                    idempotency_key=input.idempotency_key,
                    person_id=input.person_id,
                    month=input.month,
                    tier=input.tier,
                    daily_fen=input.daily_fen,
                    reference=input.reference,
                    approved_by=input.approved_by,
                ),
                timeout=CALL_DEADLINE_SECONDS,
            )
        )
        return str(recorded.reference)

    @activity.defn(name="finance.record_salary")
    async def record_salary(self, input: SalaryInput) -> str:
        recorded = await call(
            self._stub.RecordSalary(
                finance_pb2.RecordSalaryRequest(
                    idempotency_key=input.idempotency_key,
                    person_id=input.person_id,
                    effective_from=input.effective_from,
                    base_fen=input.base_fen,
                    reference=input.reference,
                    recorded_by=input.recorded_by,
                ),
                timeout=CALL_DEADLINE_SECONDS,
            )
        )
        return str(recorded.effective_from)

    @activity.defn(name="finance.lookup_rate")
    async def lookup_rate(self, input: RateInput) -> int:
        """The rate in fen; NOT_FOUND (a refusal) where the policy sets none."""
        answer = await call(
            self._stub.LookupRate(
                finance_pb2.LookupRateRequest(
                    item=finance_pb2.PolicyItem.Value("POLICY_ITEM_" + input.item.upper()),
                    pay_group=finance_pb2.PayGroup.Value("PAY_GROUP_" + input.pay_group.upper()),
                    as_of=input.as_of,
                ),
                timeout=CALL_DEADLINE_SECONDS,
            )
        )
        return int(answer.amount_fen)

    @activity.defn(name="finance.record_pre_approval")
    async def record_pre_approval(self, input: PreApprovalInput) -> str:
        recorded = await call(
            self._stub.RecordPreApproval(
                finance_pb2.RecordPreApprovalRequest(
                    idempotency_key=input.idempotency_key,
                    pre_approval=finance_pb2.PreApproval(
                        reference=input.reference,
                        person_id=input.person_id,
                        category=input.category,
                        approved_fen=input.approved_fen,
                        approved_by=input.approved_by,
                    ),
                ),
                timeout=CALL_DEADLINE_SECONDS,
            )
        )
        return str(recorded.approved_at)


@dataclass
class ClaimLineInput:
    number: int
    category: str
    date: str
    city: str
    amount_fen: int
    shared_with: list[str] = field(default_factory=list)
    reason: str = ""
    overtime_or_emergency: bool = False
    pre_approval: str = ""


@dataclass
class AuditClaimInput:
    person_id: str
    month: str
    lines: list[ClaimLineInput]
    claim: str = ""  # the claim's own reference (its workflow id)


@dataclass
class ClaimUsageInput:
    idempotency_key: str
    claim: str
    person_id: str
    lodging: list[ClaimLineInput]
    pre_approvals: list[str]


def _line(line: ClaimLineInput) -> finance_pb2.ClaimLine:
    return finance_pb2.ClaimLine(
        number=line.number,
        category=line.category,
        date=line.date,
        city=line.city,
        amount_fen=line.amount_fen,
        shared_with=line.shared_with,
        reason=line.reason,
        overtime_or_emergency=line.overtime_or_emergency,
        pre_approval=line.pre_approval,
    )


@dataclass
class LineExceptionView:
    code: str
    rule: str
    level: str
    words: str
    fen: int = 0


@dataclass
class AuditedLineView:
    number: int
    category: str
    claimed_fen: int
    sanctioned_fen: int
    policy_version: str
    exceptions: list[LineExceptionView] = field(default_factory=list)


@dataclass
class ClaimAuditResult:
    claimed_fen: int
    sanctioned_fen: int
    lines: list[AuditedLineView] = field(default_factory=list)


class ClaimActivities:
    """The claim audit in the finance service (reads only)."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = finance_pb2_grpc.FinanceServiceStub(channel)

    @activity.defn(name="finance.audit_claim")
    async def audit_claim(self, input: AuditClaimInput) -> ClaimAuditResult:
        audit = await call(
            self._stub.AuditClaim(
                finance_pb2.AuditClaimRequest(
                    person_id=input.person_id,
                    month=input.month,
                    lines=[_line(line) for line in input.lines],
                    claim=input.claim,
                ),
                timeout=CALL_DEADLINE_SECONDS,
            )
        )
        return ClaimAuditResult(
            claimed_fen=audit.claimed_fen,
            sanctioned_fen=audit.sanctioned_fen,
            lines=[
                AuditedLineView(
                    number=line.number,
                    category=line.category,
                    claimed_fen=line.claimed_fen,
                    sanctioned_fen=line.sanctioned_fen,
                    policy_version=line.policy_version,
                    exceptions=[
                        LineExceptionView(e.code, e.rule, e.level, e.words, e.fen)
                        for e in line.exceptions
                    ],
                )
                for line in audit.lines
            ],
        )

    @activity.defn(name="finance.record_claim_usage")
    async def record_claim_usage(self, input: ClaimUsageInput) -> int:
        usage = await call(
            self._stub.RecordClaimUsage(
                finance_pb2.RecordClaimUsageRequest(
                    idempotency_key=input.idempotency_key,
                    claim=input.claim,
                    person_id=input.person_id,
                    lodging=[_line(line) for line in input.lodging],
                    pre_approvals=input.pre_approvals,
                ),
                timeout=CALL_DEADLINE_SECONDS,
            )
        )
        return int(usage.room_nights)
