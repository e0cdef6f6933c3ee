"""The regulation's own allowance policy (PAY-3..PAY-7), from the regulation package's tables
(workflows/regulation/allowances.py), and how its items are named.

The tables are the source's as it stands; an amount the source does not set is simply
absent, so a lookup of it says so instead of inventing a figure. They are published through the
finance API (`publish_regulation_policy`) under a fixed idempotency key, so they pass the same
validation as any later version and publishing them twice changes nothing.
"""

from __future__ import annotations

from csd.finance.v1 import finance_pb2, finance_pb2_grpc

from workflows import regulation
from workflows.regulation import allowances

F = finance_pb2

# The first rule set: its version and effective date are the policy's (EF-1).
FIRST = regulation.RULE_SETS[0]
POLICY_VERSION = FIRST.version
EFFECTIVE_FROM = FIRST.effective_from.isoformat()
NOTE = "The regulation's travel and reimbursement policy, PAY-3..PAY-7, as first issued."
PUBLISH_KEY = f"regulation:policy:{POLICY_VERSION}"

FEN_PER_YUAN = 100

ENGINEER = F.PAY_GROUP_ENGINEER
LEAD_OR_MANAGER = F.PAY_GROUP_LEAD_OR_TECHNICAL_MANAGER
CUSTOMER_SERVICE_MANAGER = F.PAY_GROUP_CUSTOMER_SERVICE_MANAGER

_GROUPS = {
    allowances.ENGINEER: ENGINEER,
    allowances.LEAD_OR_MANAGER: LEAD_OR_MANAGER,
    allowances.CUSTOMER_SERVICE_MANAGER: CUSTOMER_SERVICE_MANAGER,
}
_TIERS = {
    "tier_1": F.TIER_1,
    "tier_2": F.TIER_2,
    "other": F.TIER_OTHER,
    "head_office": F.TIER_HEAD_OFFICE,
}
_TABLES = FIRST.allowances

# The regulation package's tables in the finance API's terms.
TRAVEL_DAILY_YUAN = {
    _GROUPS[group]: {_TIERS[tier]: yuan for tier, yuan in by_tier.items()}
    for group, by_tier in _TABLES.travel_daily.items()
}
LODGING_NIGHTLY_CAP_YUAN = {_GROUPS[g]: y for g, y in _TABLES.lodging_nightly_cap.items()}
COMMUNICATION_MONTHLY_YUAN = {_GROUPS[g]: y for g, y in _TABLES.communication_monthly.items()}
TRANSPORT_MONTHLY_YUAN = {_GROUPS[g]: y for g, y in _TABLES.transport_monthly.items()}
REIMBURSEMENT_MONTHLY_CAP_YUAN = {
    _GROUPS[g]: y for g, y in _TABLES.reimbursement_monthly_cap.items()
}

_FLAT_TABLES = {
    F.POLICY_ITEM_LODGING_NIGHTLY_CAP: LODGING_NIGHTLY_CAP_YUAN,
    F.POLICY_ITEM_COMMUNICATION_MONTHLY: COMMUNICATION_MONTHLY_YUAN,
    F.POLICY_ITEM_TRANSPORT_MONTHLY: TRANSPORT_MONTHLY_YUAN,
    F.POLICY_ITEM_REIMBURSEMENT_MONTHLY_CAP: REIMBURSEMENT_MONTHLY_CAP_YUAN,
}

# The rule behind each item and the words for it, so a refusal can cite the regulation.
RULE_OF_ITEM = {
    F.POLICY_ITEM_TRAVEL_DAILY: "PAY-3",
    F.POLICY_ITEM_LODGING_NIGHTLY_CAP: "PAY-4",
    F.POLICY_ITEM_COMMUNICATION_MONTHLY: "PAY-5",
    F.POLICY_ITEM_TRANSPORT_MONTHLY: "PAY-6",
    F.POLICY_ITEM_REIMBURSEMENT_MONTHLY_CAP: "PAY-7",
}
ITEM_WORDS = {
    F.POLICY_ITEM_TRAVEL_DAILY: "travel allowance",
    F.POLICY_ITEM_LODGING_NIGHTLY_CAP: "lodging cap",
    F.POLICY_ITEM_COMMUNICATION_MONTHLY: "communication allowance",
    F.POLICY_ITEM_TRANSPORT_MONTHLY: "transport allowance",
    F.POLICY_ITEM_REIMBURSEMENT_MONTHLY_CAP: "monthly reimbursement cap",
}
PAY_GROUP_WORDS = {
    F.PAY_GROUP_ENGINEER: "technical service engineer",
    F.PAY_GROUP_LEAD_OR_TECHNICAL_MANAGER: "team lead or technical service manager",
    F.PAY_GROUP_CUSTOMER_SERVICE_MANAGER: "customer service manager",
    F.PAY_GROUP_DEPARTMENT_MANAGER: "department manager",
}
TIER_WORDS = {
    F.TIER_1: "a tier-1 destination",
    F.TIER_2: "a tier-2 destination",
    F.TIER_OTHER: "any other destination",
    F.TIER_HEAD_OFFICE: "the Wuxi head office",
}


def absent_rate_message(
    item: F.PolicyItem.ValueType,
    pay_group: F.PayGroup.ValueType,
    tier: F.Tier.ValueType,
    version: str,
) -> str:
    """E.g. "PAY-3 sets no travel allowance for the customer service manager (...)"."""
    where = f" at {TIER_WORDS[tier]}" if tier in TIER_WORDS else ""
    return (
        f"{RULE_OF_ITEM[item]} sets no {ITEM_WORDS[item]} for the {PAY_GROUP_WORDS[pay_group]}"
        f"{where} in policy version {version!r}; the regulation does not set this rate"
    )


def _rate(
    item: F.PolicyItem.ValueType, group: F.PayGroup.ValueType, tier: F.Tier.ValueType, yuan: int
) -> finance_pb2.PolicyRate:
    return F.PolicyRate(item=item, pay_group=group, tier=tier, amount_fen=yuan * FEN_PER_YUAN)


def regulation_rates() -> list[finance_pb2.PolicyRate]:
    """Every amount the source sets, in fen."""
    rates = [
        _rate(F.POLICY_ITEM_TRAVEL_DAILY, group, tier, yuan)
        for group, by_tier in TRAVEL_DAILY_YUAN.items()
        for tier, yuan in by_tier.items()
    ]
    rates += [
        _rate(item, group, F.TIER_ANY, yuan)
        for item, table in _FLAT_TABLES.items()
        for group, yuan in table.items()
    ]
    return rates


def regulation_policy() -> finance_pb2.PolicyVersion:
    """The regulation's policy as a version to publish."""
    return F.PolicyVersion(
        version=POLICY_VERSION, effective_from=EFFECTIVE_FROM, rates=regulation_rates(), note=NOTE
    )


async def publish_regulation_policy(
    stub: finance_pb2_grpc.FinanceServiceStub,
) -> finance_pb2.PolicyVersion:
    """Publish the regulation's policy; a second call returns the first result unchanged."""
    response: finance_pb2.PolicyVersion = await stub.PublishPolicy(
        F.PublishPolicyRequest(idempotency_key=PUBLISH_KEY, policy=regulation_policy())
    )
    return response
