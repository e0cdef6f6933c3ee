"""Conversions between the finance database rows and the finance protos."""

from __future__ import annotations

from csd.finance.v1 import finance_pb2

from services.finance.models import LedgerEntry, PolicyRate, PolicyVersion
from services.finance.repository import KindTotal
from services.runtime.dates import rfc3339

F = finance_pb2


def item_name(value: int) -> str:
    """POLICY_ITEM_TRAVEL_DAILY -> "travel_daily"."""
    return F.PolicyItem.Name(value).removeprefix("POLICY_ITEM_").lower()  # type: ignore[arg-type]


def item_value(name: str) -> F.PolicyItem.ValueType:
    return F.PolicyItem.Value("POLICY_ITEM_" + name.upper())


def pay_group_name(value: int) -> str:
    """PAY_GROUP_LEAD_OR_TECHNICAL_MANAGER -> "lead_or_technical_manager"."""
    return F.PayGroup.Name(value).removeprefix("PAY_GROUP_").lower()  # type: ignore[arg-type]


def pay_group_value(name: str) -> F.PayGroup.ValueType:
    return F.PayGroup.Value("PAY_GROUP_" + name.upper())


def tier_name(value: int) -> str:
    """TIER_1 -> "1", TIER_HEAD_OFFICE -> "head_office", TIER_ANY -> "any"."""
    return F.Tier.Name(value).removeprefix("TIER_").lower()  # type: ignore[arg-type]


def tier_value(name: str) -> F.Tier.ValueType:
    return F.Tier.Value("TIER_" + name.upper())


def kind_name(value: int) -> str:
    """ENTRY_KIND_REIMBURSEMENT -> "reimbursement"."""
    return F.EntryKind.Name(value).removeprefix("ENTRY_KIND_").lower()  # type: ignore[arg-type]


def kind_value(name: str) -> F.EntryKind.ValueType:
    return F.EntryKind.Value("ENTRY_KIND_" + name.upper())


def rate_message(rate: PolicyRate) -> finance_pb2.PolicyRate:
    return F.PolicyRate(
        item=item_value(rate.item),
        pay_group=pay_group_value(rate.pay_group),
        tier=tier_value(rate.tier),
        amount_fen=rate.amount_fen,
    )


def _rate_order(rate: finance_pb2.PolicyRate) -> tuple[int, int, int]:
    return (rate.item, rate.pay_group, rate.tier)


def policy_message(policy: PolicyVersion) -> finance_pb2.PolicyVersion:
    """The version with its rates in the proto's enum order, however they were sent."""
    return F.PolicyVersion(
        version=policy.version,
        effective_from=policy.effective_from.isoformat(),
        rates=sorted((rate_message(r) for r in policy.rates), key=_rate_order),
        note=policy.note,
    )


def entry_message(entry: LedgerEntry) -> finance_pb2.LedgerEntry:
    return F.LedgerEntry(
        id=entry.id,
        idempotency_key=entry.idempotency_key,
        person_id=entry.person_id or "",
        region_code=entry.region_code,
        month=entry.month,
        kind=kind_value(entry.kind),
        amount_fen=entry.amount_fen,
        rule_id=entry.rule_id,
        reason=entry.reason,
        reference=entry.reference,
        recorded_at=rfc3339(entry.recorded_at),
        recorded_by=entry.recorded_by,
    )


def summary_message(
    region_code: str, month: str, totals: dict[str, KindTotal]
) -> finance_pb2.RegionMonthSummary:
    """ACC-1: fines are income to the department; forfeits are money never paid, so they are
    reported but move no balance."""

    def fen(kind: int) -> int:
        total = totals.get(kind_name(kind))
        return total.amount_fen if total else 0

    fines = fen(F.ENTRY_KIND_FINE)
    allowances = fen(F.ENTRY_KIND_ALLOWANCE)
    reimbursements = fen(F.ENTRY_KIND_REIMBURSEMENT)
    income = fen(F.ENTRY_KIND_INCOME)
    return F.RegionMonthSummary(
        region_code=region_code,
        month=month,
        fines_fen=fines,
        allowances_fen=allowances,
        reimbursements_fen=reimbursements,
        income_fen=income,
        forfeits_fen=fen(F.ENTRY_KIND_FORFEIT),
        balance_fen=income + fines - allowances - reimbursements,
        entry_count=sum(t.count for t in totals.values()),
    )
