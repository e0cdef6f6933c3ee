"""The allowance policy over real gRPC: the regulation's tables, versions by date, immutability."""

from __future__ import annotations

from datetime import date

import grpc
import pytest
from csd.finance.v1 import finance_pb2
from csd.finance.v1.finance_pb2_grpc import FinanceServiceStub

from services.finance.regulation import (
    EFFECTIVE_FROM,
    POLICY_VERSION,
    publish_regulation_policy,
    regulation_policy,
)
from tests.services.finance.builders import later_policy
from tests.services.finance.conftest import Clock

F = finance_pb2
TRAVEL = F.POLICY_ITEM_TRAVEL_DAILY
LODGING = F.POLICY_ITEM_LODGING_NIGHTLY_CAP
COMMUNICATION = F.POLICY_ITEM_COMMUNICATION_MONTHLY
TRANSPORT = F.POLICY_ITEM_TRANSPORT_MONTHLY
CAP = F.POLICY_ITEM_REIMBURSEMENT_MONTHLY_CAP
ENGINEER = F.PAY_GROUP_ENGINEER
LEAD = F.PAY_GROUP_LEAD_OR_TECHNICAL_MANAGER
CSM = F.PAY_GROUP_CUSTOMER_SERVICE_MANAGER
DM = F.PAY_GROUP_DEPARTMENT_MANAGER


def rate_set(policy: finance_pb2.PolicyVersion) -> set[tuple[int, int, int, int]]:
    return {(r.item, r.pay_group, r.tier, r.amount_fen) for r in policy.rates}


async def publish(stub: FinanceServiceStub, policy: finance_pb2.PolicyVersion) -> object:
    return await stub.PublishPolicy(
        F.PublishPolicyRequest(idempotency_key=f"publish:{policy.version}", policy=policy)
    )


async def lookup(
    stub: FinanceServiceStub, item: int, group: int, tier: int = F.TIER_ANY, as_of: str = ""
) -> finance_pb2.LookupRateResponse:
    response: finance_pb2.LookupRateResponse = await stub.LookupRate(
        F.LookupRateRequest(item=item, pay_group=group, tier=tier, as_of=as_of)  # type: ignore[arg-type]
    )
    return response


async def test_regulation_policy_round_trips(regulation_stub: FinanceServiceStub) -> None:
    stored = await regulation_stub.GetPolicy(F.GetPolicyRequest(version=POLICY_VERSION))
    assert stored.effective_from == EFFECTIVE_FROM == "2024-04-01"  # EF-1: 1 April
    assert stored.note
    assert rate_set(stored) == rate_set(regulation_policy())
    # PAY-3: 2 groups x 4 tiers; PAY-4, -5, -6: 3 groups each; PAY-7: 2 groups.
    assert len(stored.rates) == 8 + 3 + 3 + 3 + 2
    # Spot checks against the regulation's text, in fen.
    assert (TRAVEL, ENGINEER, F.TIER_2, 4500) in rate_set(stored)
    assert (TRAVEL, LEAD, F.TIER_HEAD_OFFICE, 3000) in rate_set(stored)
    assert (LODGING, CSM, F.TIER_ANY, 16000) in rate_set(stored)
    assert (CAP, CSM, F.TIER_ANY, 400000) in rate_set(stored)


async def test_publishing_the_regulation_twice_changes_nothing(
    regulation_stub: FinanceServiceStub,
) -> None:
    before = await regulation_stub.ListPolicyVersions(F.ListPolicyVersionsRequest())
    again = await publish_regulation_policy(regulation_stub)
    after = await regulation_stub.ListPolicyVersions(F.ListPolicyVersionsRequest())
    assert after == before
    assert [v.version for v in after.versions] == [POLICY_VERSION]
    assert again == after.versions[0]


@pytest.mark.parametrize(
    ("item", "group", "tier", "fen"),
    [
        # PAY-3, travel per day by destination tier.
        (TRAVEL, ENGINEER, F.TIER_1, 5500),
        (TRAVEL, ENGINEER, F.TIER_2, 4500),
        (TRAVEL, ENGINEER, F.TIER_OTHER, 3500),
        (TRAVEL, ENGINEER, F.TIER_HEAD_OFFICE, 2000),
        (TRAVEL, LEAD, F.TIER_1, 7000),
        (TRAVEL, LEAD, F.TIER_2, 6000),
        (TRAVEL, LEAD, F.TIER_OTHER, 5000),
        (TRAVEL, LEAD, F.TIER_HEAD_OFFICE, 3000),
        # PAY-4, lodging cap per night.
        (LODGING, ENGINEER, F.TIER_ANY, 10000),
        (LODGING, LEAD, F.TIER_ANY, 13000),
        (LODGING, CSM, F.TIER_ANY, 16000),
        # PAY-5, communication per month.
        (COMMUNICATION, ENGINEER, F.TIER_ANY, 10000),
        (COMMUNICATION, LEAD, F.TIER_ANY, 15000),
        (COMMUNICATION, CSM, F.TIER_ANY, 20000),
        # PAY-6, transport per month.
        (TRANSPORT, ENGINEER, F.TIER_ANY, 15000),
        (TRANSPORT, LEAD, F.TIER_ANY, 20000),
        (TRANSPORT, CSM, F.TIER_ANY, 20000),
        # PAY-7, monthly reimbursement cap.
        (CAP, LEAD, F.TIER_ANY, 200000),
        (CAP, CSM, F.TIER_ANY, 400000),
    ],
)
async def test_lookup_rate_reads_each_pay_table(
    regulation_stub: FinanceServiceStub, item: int, group: int, tier: int, fen: int
) -> None:
    rate = await lookup(regulation_stub, item, group, tier, as_of="2024-06-15")
    assert rate.amount_fen == fen
    assert rate.version == POLICY_VERSION


@pytest.mark.parametrize(
    ("item", "group", "tier", "message"),
    [
        (TRAVEL, CSM, F.TIER_1, "PAY-3 sets no travel allowance for the customer service manager"),
        (TRAVEL, DM, F.TIER_OTHER, "PAY-3 sets no travel allowance for the department manager"),
        (LODGING, DM, F.TIER_ANY, "PAY-4 sets no lodging cap for the department manager"),
        (COMMUNICATION, DM, F.TIER_ANY, "PAY-5 sets no communication allowance"),
        (TRANSPORT, DM, F.TIER_ANY, "PAY-6 sets no transport allowance"),
        (CAP, ENGINEER, F.TIER_ANY, "PAY-7 sets no monthly reimbursement cap for the technical"),
    ],
)
async def test_a_rate_the_regulation_does_not_set_is_not_found(
    regulation_stub: FinanceServiceStub, item: int, group: int, tier: int, message: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await lookup(regulation_stub, item, group, tier)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert message in (err.value.details() or "")
    assert POLICY_VERSION in (err.value.details() or "")


async def test_the_version_in_force_changes_on_its_effective_date(
    regulation_stub: FinanceServiceStub,
) -> None:
    await publish(regulation_stub, later_policy())

    # Before the regulation took effect nothing is in force, and the refusal names the date.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await regulation_stub.GetPolicy(F.GetPolicyRequest(as_of="2024-03-31"))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert "2024-03-31" in (err.value.details() or "")

    async def in_force(day: str) -> str:
        policy = await regulation_stub.GetPolicy(F.GetPolicyRequest(as_of=day))
        return str(policy.version)

    assert await in_force("2024-04-01") == "2024-v1"
    assert await in_force("2024-12-31") == "2024-v1"
    assert await in_force("2025-01-01") == "2025-v2"
    assert await in_force("2030-06-30") == "2025-v2"

    on_eve = await lookup(regulation_stub, TRAVEL, ENGINEER, F.TIER_1, as_of="2024-12-31")
    on_day = await lookup(regulation_stub, TRAVEL, ENGINEER, F.TIER_1, as_of="2025-01-01")
    assert (on_eve.amount_fen, on_eve.version) == (5500, "2024-v1")
    assert (on_day.amount_fen, on_day.version) == (6000, "2025-v2")


async def test_as_of_defaults_to_today_and_ignores_future_versions(
    regulation_stub: FinanceServiceStub, clock: Clock
) -> None:
    await publish(regulation_stub, later_policy())
    await publish(regulation_stub, later_policy(version="2099-v9", effective_from="2099-01-01"))
    clock.today = date(2025, 6, 1)
    today = await regulation_stub.GetPolicy(F.GetPolicyRequest())
    assert today.version == "2025-v2"
    rate = await lookup(regulation_stub, TRAVEL, ENGINEER, F.TIER_1)
    assert rate.version == "2025-v2"


async def test_version_by_name_takes_precedence_over_the_date(
    regulation_stub: FinanceServiceStub,
) -> None:
    await publish(regulation_stub, later_policy())
    policy = await regulation_stub.GetPolicy(
        F.GetPolicyRequest(version="2024-v1", as_of="2025-06-01")
    )
    assert policy.version == "2024-v1"


async def test_versions_are_listed_by_effective_date(
    finance_stub: FinanceServiceStub, clock: Clock
) -> None:
    # Published out of order: the list follows the effective dates, not the publishing order.
    clock.today = date(2022, 6, 1)
    await publish(finance_stub, later_policy())
    await publish_regulation_policy(finance_stub)
    await publish(finance_stub, later_policy(version="2024-v0", effective_from="2023-01-01"))
    listed = await finance_stub.ListPolicyVersions(F.ListPolicyVersionsRequest())
    assert [(v.version, v.effective_from) for v in listed.versions] == [
        ("2024-v0", "2023-01-01"),
        ("2024-v1", "2024-04-01"),
        ("2025-v2", "2025-01-01"),
    ]
    assert all(len(v.rates) == 19 for v in listed.versions)


async def test_a_policy_cannot_take_effect_in_the_past(
    regulation_stub: FinanceServiceStub, clock: Clock
) -> None:
    """Once the tables are set up, a new version takes effect today or later: the books of the
    days already gone stay under the policy they were kept by (issue 12)."""
    clock.today = date(2025, 3, 10)
    before = await regulation_stub.ListPolicyVersions(F.ListPolicyVersionsRequest())
    for day in ("2025-03-09", "2024-04-01", "2000-01-01"):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await publish(regulation_stub, later_policy(version="2025-back", effective_from=day))
        assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert f"effective_from {day} is in the past (today is 2025-03-10" in (
            err.value.details() or ""
        )
    assert await regulation_stub.ListPolicyVersions(F.ListPolicyVersionsRequest()) == before
    # Today itself is not the past: a correction the same day is allowed.
    published = await publish(
        regulation_stub, later_policy(version="2025-today", effective_from="2025-03-10")
    )
    assert published.effective_from == "2025-03-10"


async def test_a_published_version_is_immutable(regulation_stub: FinanceServiceStub) -> None:
    original = await regulation_stub.GetPolicy(F.GetPolicyRequest(version=POLICY_VERSION))
    changed = later_policy(version=POLICY_VERSION, effective_from=EFFECTIVE_FROM)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await regulation_stub.PublishPolicy(
            F.PublishPolicyRequest(idempotency_key="edit-2024-v1", policy=changed)
        )
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert "immutable" in (err.value.details() or "")
    assert "publish a new version" in (err.value.details() or "")
    assert await regulation_stub.GetPolicy(F.GetPolicyRequest(version=POLICY_VERSION)) == original
    # Even an identical copy under another key is a second publication, and refused.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await regulation_stub.PublishPolicy(
            F.PublishPolicyRequest(idempotency_key="copy-2024-v1", policy=regulation_policy())
        )
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS


async def test_a_later_version_on_the_same_day_supersedes(
    regulation_stub: FinanceServiceStub,
) -> None:
    correction = later_policy(version="2024-v1a", effective_from=EFFECTIVE_FROM)
    await publish(regulation_stub, correction)
    in_force = await regulation_stub.GetPolicy(F.GetPolicyRequest(as_of=EFFECTIVE_FROM))
    assert in_force.version == "2024-v1a"
    # The superseded version is still there by name: running processes keep theirs (EF-1).
    kept = await regulation_stub.GetPolicy(F.GetPolicyRequest(version=POLICY_VERSION))
    assert rate_set(kept) == rate_set(regulation_policy())


async def test_publish_returns_the_stored_version(finance_stub: FinanceServiceStub) -> None:
    sent = regulation_policy()
    sent.rates.reverse()
    published = await finance_stub.PublishPolicy(
        F.PublishPolicyRequest(idempotency_key="publish-reversed", policy=sent)
    )
    stored = await finance_stub.GetPolicy(F.GetPolicyRequest(version=sent.version))
    assert published == stored
    assert rate_set(published) == rate_set(sent)
