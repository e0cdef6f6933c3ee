"""Every RPC refuses bad input with the right status and a message, and writes nothing.

ListPolicyVersions takes no input, so it has nothing to refuse and no row here.
"""

from __future__ import annotations

import grpc
import pytest
from csd.finance.v1 import finance_pb2
from csd.finance.v1.finance_pb2_grpc import FinanceServiceStub
from google.protobuf.message import Message

from services.finance.regulation import regulation_policy
from tests.services.finance.builders import entry, later_policy, policy_with_rates

F = finance_pb2
IA = grpc.StatusCode.INVALID_ARGUMENT
NF = grpc.StatusCode.NOT_FOUND
TRAVEL = F.POLICY_ITEM_TRAVEL_DAILY
LODGING = F.POLICY_ITEM_LODGING_NIGHTLY_CAP
ENGINEER = F.PAY_GROUP_ENGINEER
CSM = F.PAY_GROUP_CUSTOMER_SERVICE_MANAGER
UNKNOWN = 99  # proto3 enums are open: a number no version of the proto defines


def publish(policy: finance_pb2.PolicyVersion, key: str = "bad-publish") -> Message:
    return F.PublishPolicyRequest(idempotency_key=key, policy=policy)


def record(key: str = "bad-record", **changes: object) -> Message:
    return F.RecordEntryRequest(idempotency_key=key, entry=entry(**changes))


def lookup(
    item: int = LODGING, group: int = ENGINEER, tier: int = F.TIER_ANY, as_of: str = ""
) -> Message:
    return F.LookupRateRequest(item=item, pay_group=group, tier=tier, as_of=as_of)  # type: ignore[arg-type]


BAD_REQUESTS = [
    # Bounds (issue 12): money within a documented range, months within a window.
    ("RecordEntry", record(amount_fen=2**63 - 1), IA),
    ("RecordEntry", record(amount_fen=100_000_000_01), IA),
    ("RecordEntry", record(month="0001-01"), IA),
    ("RecordEntry", record(month="9999-12"), IA),
    (
        "PublishPolicy",
        publish(policy_with_rates((TRAVEL, ENGINEER, F.TIER_1, 2**62))),
        IA,
    ),
    # PublishPolicy
    ("PublishPolicy", publish(later_policy(), key=""), IA),
    ("PublishPolicy", publish(later_policy(), key="   "), IA),
    ("PublishPolicy", publish(later_policy(), key="k" * 201), IA),
    ("PublishPolicy", publish(later_policy(version="")), IA),
    ("PublishPolicy", publish(later_policy(version="2025 v2")), IA),
    ("PublishPolicy", publish(later_policy(version="V2")), IA),
    ("PublishPolicy", publish(later_policy(effective_from="")), IA),
    ("PublishPolicy", publish(later_policy(effective_from="2025-13-01")), IA),
    ("PublishPolicy", publish(later_policy(effective_from="2025-02-29")), IA),
    ("PublishPolicy", publish(later_policy(effective_from="20250101")), IA),
    ("PublishPolicy", publish(later_policy(effective_from="2025-W01-1")), IA),
    ("PublishPolicy", publish(later_policy(note="n" * 501)), IA),
    ("PublishPolicy", publish(policy_with_rates()), IA),
    (
        "PublishPolicy",
        publish(policy_with_rates((F.POLICY_ITEM_UNSPECIFIED, ENGINEER, F.TIER_ANY, 100))),
        IA,
    ),
    (
        "PublishPolicy",
        publish(policy_with_rates((LODGING, F.PAY_GROUP_UNSPECIFIED, F.TIER_ANY, 100))),
        IA,
    ),
    ("PublishPolicy", publish(policy_with_rates((UNKNOWN, ENGINEER, F.TIER_ANY, 100))), IA),
    ("PublishPolicy", publish(policy_with_rates((LODGING, UNKNOWN, F.TIER_ANY, 100))), IA),
    ("PublishPolicy", publish(policy_with_rates((TRAVEL, ENGINEER, UNKNOWN, 100))), IA),
    ("PublishPolicy", publish(policy_with_rates((LODGING, ENGINEER, F.TIER_ANY, 0))), IA),
    ("PublishPolicy", publish(policy_with_rates((LODGING, ENGINEER, F.TIER_ANY, -100))), IA),
    ("PublishPolicy", publish(policy_with_rates((TRAVEL, ENGINEER, F.TIER_ANY, 5500))), IA),
    ("PublishPolicy", publish(policy_with_rates((LODGING, ENGINEER, F.TIER_1, 10000))), IA),
    (
        "PublishPolicy",
        publish(
            policy_with_rates(
                (LODGING, ENGINEER, F.TIER_ANY, 100), (LODGING, ENGINEER, F.TIER_ANY, 200)
            )
        ),
        IA,
    ),
    (
        "PublishPolicy",
        publish(regulation_policy(), key="second-publication"),
        grpc.StatusCode.ALREADY_EXISTS,
    ),
    # GetPolicy
    ("GetPolicy", F.GetPolicyRequest(as_of="2024-4-1"), IA),
    ("GetPolicy", F.GetPolicyRequest(as_of="yesterday"), IA),
    ("GetPolicy", F.GetPolicyRequest(as_of="2024-02-30"), IA),
    ("GetPolicy", F.GetPolicyRequest(as_of="2024-03-31"), NF),
    ("GetPolicy", F.GetPolicyRequest(version="No Such Version!"), IA),
    ("GetPolicy", F.GetPolicyRequest(version="2030-v9"), NF),
    # LookupRate
    ("LookupRate", lookup(item=F.POLICY_ITEM_UNSPECIFIED), IA),
    ("LookupRate", lookup(group=F.PAY_GROUP_UNSPECIFIED), IA),
    ("LookupRate", lookup(item=UNKNOWN), IA),
    ("LookupRate", lookup(tier=UNKNOWN), IA),
    ("LookupRate", lookup(item=TRAVEL, tier=F.TIER_ANY), IA),
    ("LookupRate", lookup(item=LODGING, tier=F.TIER_2), IA),
    ("LookupRate", lookup(as_of="01/04/2024"), IA),
    ("LookupRate", lookup(as_of="2024-03-31"), NF),
    ("LookupRate", lookup(item=TRAVEL, group=CSM, tier=F.TIER_1), NF),
    # RecordEntry
    ("RecordEntry", record(key=""), IA),
    ("RecordEntry", record(key="k" * 201), IA),
    ("RecordEntry", record(kind=F.ENTRY_KIND_UNSPECIFIED), IA),
    ("RecordEntry", record(kind=UNKNOWN), IA),
    ("RecordEntry", record(amount_fen=0), IA),
    ("RecordEntry", record(amount_fen=-5000), IA),
    ("RecordEntry", record(month=""), IA),
    ("RecordEntry", record(month="2024-13"), IA),
    ("RecordEntry", record(month="2024-00"), IA),
    ("RecordEntry", record(month="2024-5"), IA),
    ("RecordEntry", record(month="May 2024"), IA),
    ("RecordEntry", record(month="2024-05-01"), IA),
    ("RecordEntry", record(region_code=""), IA),
    ("RecordEntry", record(region_code="East China"), IA),
    ("RecordEntry", record(person_id="", kind=F.ENTRY_KIND_FINE), IA),
    ("RecordEntry", record(person_id="", kind=F.ENTRY_KIND_ALLOWANCE), IA),
    ("RecordEntry", record(person_id="", kind=F.ENTRY_KIND_REIMBURSEMENT), IA),
    ("RecordEntry", record(person_id="", kind=F.ENTRY_KIND_FORFEIT), IA),
    ("RecordEntry", record(person_id="Zhao Lei"), IA),
    ("RecordEntry", record(rule_id=""), IA),
    ("RecordEntry", record(rule_id="because"), IA),
    ("RecordEntry", record(reason=""), IA),
    ("RecordEntry", record(reason="   "), IA),
    ("RecordEntry", record(reason="r" * 501), IA),
    ("RecordEntry", record(reference="r" * 201), IA),
    ("RecordEntry", record(recorded_by="r" * 101), IA),
    ("RecordEntry", record(key="mine", idempotency_key="someone-else"), IA),
    (
        "RecordEntry",
        record(key="existing-fine", amount_fen=9999),
        grpc.StatusCode.FAILED_PRECONDITION,
    ),
    # ListEntries
    ("ListEntries", F.ListEntriesRequest(month="2024-13"), IA),
    ("ListEntries", F.ListEntriesRequest(kind=UNKNOWN), IA),  # type: ignore[arg-type]
    ("ListEntries", F.ListEntriesRequest(region_code="East China"), IA),
    ("ListEntries", F.ListEntriesRequest(person_id="Zhao Lei"), IA),
    # SummarizeRegionMonth
    ("SummarizeRegionMonth", F.SummarizeRegionMonthRequest(region_code="", month="2024-05"), IA),
    ("SummarizeRegionMonth", F.SummarizeRegionMonthRequest(region_code="east", month=""), IA),
    (
        "SummarizeRegionMonth",
        F.SummarizeRegionMonthRequest(region_code="east", month="2024-00"),
        IA,
    ),
    (
        "SummarizeRegionMonth",
        F.SummarizeRegionMonthRequest(region_code="East!", month="2024-05"),
        IA,
    ),
]


@pytest.fixture
async def populated_stub(regulation_stub: FinanceServiceStub) -> FinanceServiceStub:
    """The regulation's policy and one fine, recorded under the key "existing-fine"."""
    await regulation_stub.RecordEntry(
        F.RecordEntryRequest(idempotency_key="existing-fine", entry=entry())
    )
    return regulation_stub


async def snapshot(stub: FinanceServiceStub) -> tuple[Message, Message]:
    return (
        await stub.ListEntries(F.ListEntriesRequest()),
        await stub.ListPolicyVersions(F.ListPolicyVersionsRequest()),
    )


@pytest.mark.parametrize(("rpc", "request_message", "code"), BAD_REQUESTS)
async def test_bad_input_gets_a_clear_status_and_writes_nothing(
    populated_stub: FinanceServiceStub, rpc: str, request_message: Message, code: grpc.StatusCode
) -> None:
    before = await snapshot(populated_stub)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await getattr(populated_stub, rpc)(request_message)
    assert err.value.code() == code, err.value.details()
    assert err.value.details()
    assert "Traceback" not in (err.value.details() or "")
    assert await snapshot(populated_stub) == before
