"""Checks of finance requests before anything touches the database.

Each check raises InvalidArgument with a message that names the field and what would be right,
so a refusal can be acted on without reading this code.
"""

from __future__ import annotations

import re
from datetime import date

from csd.finance.v1 import finance_pb2

from services.finance.models import (
    NOTE_LENGTH,
    REASON_LENGTH,
    RECORDED_BY_LENGTH,
    REFERENCE_LENGTH,
)
from services.runtime.dates import parse_date, parse_month
from services.runtime.errors import InvalidArgument
from services.runtime.validation import limit_text, require_id, require_known
from workflows.regulation.money import MAX_AMOUNT_FEN

F = finance_pb2

# Rule ids as the regulation numbers them: "PAY-3", "XA-1", "ORG-2".
_RULE_ID = re.compile(r"^[A-Z]{1,10}-[0-9]{1,3}[a-z]?$")

# Entries about a person; income may belong to the region alone (ACC-1).
PERSONAL_KINDS = {
    F.ENTRY_KIND_FINE,
    F.ENTRY_KIND_ALLOWANCE,
    F.ENTRY_KIND_REIMBURSEMENT,
    F.ENTRY_KIND_FORFEIT,
}


def check_rate_key(
    item: F.PolicyItem.ValueType, pay_group: F.PayGroup.ValueType, tier: F.Tier.ValueType
) -> None:
    """Item and pay group are required; only PAY-3 (travel) depends on the destination tier."""
    require_known(item, F.PolicyItem.values(), "item")
    require_known(pay_group, F.PayGroup.values(), "pay_group")
    require_known(tier, F.Tier.values(), "tier")
    if item == F.POLICY_ITEM_UNSPECIFIED:
        raise InvalidArgument("item is required: which PAY-3..PAY-7 amount")
    if pay_group == F.PAY_GROUP_UNSPECIFIED:
        raise InvalidArgument("pay_group is required: whose amount")
    if item == F.POLICY_ITEM_TRAVEL_DAILY and tier == F.TIER_ANY:
        raise InvalidArgument(
            "the travel allowance (PAY-3) depends on the destination: tier must be TIER_1, "
            "TIER_2, TIER_OTHER or TIER_HEAD_OFFICE"
        )
    if item != F.POLICY_ITEM_TRAVEL_DAILY and tier != F.TIER_ANY:
        raise InvalidArgument(
            f"{F.PolicyItem.Name(item)} does not depend on the destination: tier must be TIER_ANY"
        )


# One ledger row or rate is at most 100 million yuan (MAX_AMOUNT_FEN, the regulation package's):
# far beyond any fine or allowance, and a month's summary of even millions of such rows stays
# inside a 64-bit integer.
def check_amount(amount_fen: int, what: str) -> None:
    if not 0 < amount_fen <= MAX_AMOUNT_FEN:
        raise InvalidArgument(
            f"{what} must be 1 to {MAX_AMOUNT_FEN:,} fen (100 million yuan), not {amount_fen:,}"
        )


def check_policy(policy: finance_pb2.PolicyVersion) -> date:
    """A complete, consistent version to publish; returns its effective date."""
    require_id(policy.version, "version")
    effective_from = parse_date(policy.effective_from, "effective_from")
    limit_text(policy.note, "note", limit=NOTE_LENGTH)
    if not policy.rates:
        raise InvalidArgument("a policy version needs at least one rate")
    seen = set()
    for rate in policy.rates:
        check_rate_key(rate.item, rate.pay_group, rate.tier)
        key = (rate.item, rate.pay_group, rate.tier)
        if key in seen:
            raise InvalidArgument(
                f"rate {F.PolicyItem.Name(rate.item)} / {F.PayGroup.Name(rate.pay_group)} / "
                f"{F.Tier.Name(rate.tier)} is given twice"
            )
        seen.add(key)
        if rate.amount_fen <= 0:
            raise InvalidArgument(
                f"amount_fen of {F.PolicyItem.Name(rate.item)} / "
                f"{F.PayGroup.Name(rate.pay_group)} must be positive (fen); leave out a rate "
                "the policy does not set"
            )
        check_amount(rate.amount_fen, f"amount_fen of {F.PolicyItem.Name(rate.item)}")
    return effective_from


def check_entry(entry: finance_pb2.LedgerEntry, key: str) -> None:
    """A ledger entry that can be traced to a person or region, a month and a rule."""
    require_known(entry.kind, F.EntryKind.values(), "kind")
    if entry.kind == F.ENTRY_KIND_UNSPECIFIED:
        raise InvalidArgument("kind is required: fine, allowance, reimbursement, income or forfeit")
    if entry.amount_fen <= 0:
        raise InvalidArgument(
            f"amount_fen must be positive (fen), not {entry.amount_fen}: the kind says which way "
            "the money goes"
        )
    check_amount(entry.amount_fen, "amount_fen")
    parse_month(entry.month)
    if not entry.region_code:
        raise InvalidArgument("region_code is required: the region whose books hold it (ACC-1)")
    require_id(entry.region_code, "region_code")
    if entry.kind in PERSONAL_KINDS and not entry.person_id:
        raise InvalidArgument(
            f"person_id is required for {F.EntryKind.Name(entry.kind)}: whose money it is"
        )
    if entry.person_id:
        require_id(entry.person_id, "person_id")
    if not _RULE_ID.match(entry.rule_id):
        raise InvalidArgument(
            f"rule_id {entry.rule_id!r} must name the regulation rule behind the entry, "
            "e.g. XA-1 or PAY-3"
        )
    if not entry.reason.strip():
        raise InvalidArgument("reason is required: say in words why the money moves")
    limit_text(entry.reason, "reason", limit=REASON_LENGTH)
    limit_text(entry.reference, "reference", limit=REFERENCE_LENGTH)
    limit_text(entry.recorded_by, "recorded_by", limit=RECORDED_BY_LENGTH)
    if entry.idempotency_key and entry.idempotency_key != key:
        raise InvalidArgument(
            "entry.idempotency_key, when set, must equal the request's idempotency_key"
        )


def check_entry_filter(request: finance_pb2.ListEntriesRequest) -> None:
    """Filters are optional, but a filter given must be well formed."""
    require_known(request.kind, F.EntryKind.values(), "kind")
    if request.month:
        parse_month(request.month)
    if request.region_code:
        require_id(request.region_code, "region_code")
    if request.person_id:
        require_id(request.person_id, "person_id")
