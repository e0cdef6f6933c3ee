"""Retries of the mutating RPCs: one change per key, whatever the timing."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from csd.finance.v1 import finance_pb2
from csd.finance.v1.finance_pb2_grpc import FinanceServiceStub

from services.finance.regulation import PUBLISH_KEY, regulation_policy
from tests.services.finance.builders import entry

F = finance_pb2
PARALLEL = 8


async def entries(stub: FinanceServiceStub) -> list[finance_pb2.LedgerEntry]:
    return list((await stub.ListEntries(F.ListEntriesRequest())).entries)


async def test_record_retry_returns_the_first_result(finance_stub: FinanceServiceStub) -> None:
    request = F.RecordEntryRequest(idempotency_key="fine-zhao-2024-05", entry=entry())
    first = await finance_stub.RecordEntry(request)
    second = await finance_stub.RecordEntry(request)
    assert second == first
    assert await entries(finance_stub) == [first]


@pytest.mark.faults
async def test_parallel_identical_records_write_one_row(finance_stub: FinanceServiceStub) -> None:
    request = F.RecordEntryRequest(idempotency_key="fine-race", entry=entry())
    answers = await asyncio.gather(*(finance_stub.RecordEntry(request) for _ in range(PARALLEL)))
    assert all(a == answers[0] for a in answers)
    assert await entries(finance_stub) == [answers[0]]


@pytest.mark.faults
async def test_parallel_identical_publishes_write_one_version(
    finance_stub: FinanceServiceStub,
) -> None:
    request = F.PublishPolicyRequest(idempotency_key=PUBLISH_KEY, policy=regulation_policy())
    answers = await asyncio.gather(*(finance_stub.PublishPolicy(request) for _ in range(PARALLEL)))
    assert all(a == answers[0] for a in answers)
    listed = await finance_stub.ListPolicyVersions(F.ListPolicyVersionsRequest())
    assert list(listed.versions) == [answers[0]]


@pytest.mark.faults
async def test_racing_publishers_of_one_name_get_one_version(
    finance_stub: FinanceServiceStub,
) -> None:
    # Different keys, same version name: one wins, the others are told it already exists,
    # never an internal error, however the race falls.
    results = await asyncio.gather(
        *(
            finance_stub.PublishPolicy(
                F.PublishPolicyRequest(idempotency_key=f"publisher-{n}", policy=regulation_policy())
            )
            for n in range(PARALLEL)
        ),
        return_exceptions=True,
    )
    wins = [r for r in results if isinstance(r, F.PolicyVersion)]
    refusals = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(wins) == 1, results
    assert len(refusals) == PARALLEL - 1, results
    assert {r.code() for r in refusals} == {grpc.StatusCode.ALREADY_EXISTS}
    listed = await finance_stub.ListPolicyVersions(F.ListPolicyVersionsRequest())
    assert list(listed.versions) == wins


async def test_a_key_reused_for_another_entry_is_refused(finance_stub: FinanceServiceStub) -> None:
    first = await finance_stub.RecordEntry(
        F.RecordEntryRequest(idempotency_key="fine-once", entry=entry(amount_fen=5000))
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await finance_stub.RecordEntry(
            F.RecordEntryRequest(idempotency_key="fine-once", entry=entry(amount_fen=9000))
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "fine-once" in (err.value.details() or "")
    assert await entries(finance_stub) == [first]


async def test_a_key_reused_for_another_policy_is_refused(finance_stub: FinanceServiceStub) -> None:
    first = await finance_stub.PublishPolicy(
        F.PublishPolicyRequest(idempotency_key="policy-key", policy=regulation_policy())
    )
    other = regulation_policy()
    other.version = "2025-v2"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await finance_stub.PublishPolicy(
            F.PublishPolicyRequest(idempotency_key="policy-key", policy=other)
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    listed = await finance_stub.ListPolicyVersions(F.ListPolicyVersionsRequest())
    assert list(listed.versions) == [first]


async def test_a_key_is_bound_to_its_operation(finance_stub: FinanceServiceStub) -> None:
    await finance_stub.PublishPolicy(
        F.PublishPolicyRequest(idempotency_key="shared-key", policy=regulation_policy())
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await finance_stub.RecordEntry(
            F.RecordEntryRequest(idempotency_key="shared-key", entry=entry())
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert await entries(finance_stub) == []


async def test_the_same_event_under_two_keys_is_two_entries(
    finance_stub: FinanceServiceStub,
) -> None:
    # The key, not the content, identifies a change: two equal fines are two fines.
    await finance_stub.RecordEntry(F.RecordEntryRequest(idempotency_key="fine-a", entry=entry()))
    await finance_stub.RecordEntry(F.RecordEntryRequest(idempotency_key="fine-b", entry=entry()))
    assert [e.idempotency_key for e in await entries(finance_stub)] == ["fine-a", "fine-b"]


async def test_a_refused_request_does_not_use_up_its_key(finance_stub: FinanceServiceStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError):
        await finance_stub.RecordEntry(
            F.RecordEntryRequest(idempotency_key="fine-retry", entry=entry(rule_id=""))
        )
    fixed = await finance_stub.RecordEntry(
        F.RecordEntryRequest(idempotency_key="fine-retry", entry=entry())
    )
    assert await entries(finance_stub) == [fixed]
