"""Valid finance messages for tests, changed one field at a time."""

from __future__ import annotations

from csd.finance.v1 import finance_pb2

from services.finance.regulation import regulation_policy

F = finance_pb2


def entry(**changes: object) -> finance_pb2.LedgerEntry:
    """A valid fine unless changed: 50 yuan for zhao.lei in east, May 2024, under XA-1."""
    fields: dict[str, object] = {
        "person_id": "zhao.lei",
        "region_code": "east",
        "month": "2024-05",
        "kind": F.ENTRY_KIND_FINE,
        "amount_fen": 5000,
        "rule_id": "XA-1",
        "reason": "Late to the assistance request",
        "reference": "assistance-east-42",
        "recorded_by": "shi.wenjun",
    }
    fields.update(changes)
    return F.LedgerEntry(**fields)  # type: ignore[arg-type]


def later_policy(**changes: object) -> finance_pb2.PolicyVersion:
    """The regulation's tables as "2025-v2" from 2025-01-01, engineer tier-1 travel at 60 yuan."""
    policy = regulation_policy()
    policy.version = "2025-v2"
    policy.effective_from = "2025-01-01"
    policy.note = "Engineer tier-1 travel raised to 60."
    for rate in policy.rates:
        if (rate.item, rate.pay_group, rate.tier) == (
            F.POLICY_ITEM_TRAVEL_DAILY,
            F.PAY_GROUP_ENGINEER,
            F.TIER_1,
        ):
            rate.amount_fen = 6000
    for name, value in changes.items():
        setattr(policy, name, value)
    return policy


def policy_with_rates(*rates: tuple[int, int, int, int]) -> finance_pb2.PolicyVersion:
    """A version "2026-v1" holding exactly `rates` as (item, pay_group, tier, amount_fen)."""
    return F.PolicyVersion(
        version="2026-v1",
        effective_from="2026-01-01",
        rates=[
            F.PolicyRate(item=i, pay_group=g, tier=t, amount_fen=fen)  # type: ignore[arg-type]
            for i, g, t, fen in rates
        ],
    )
