"""A ledger entry names people and regions the staff directory knows (issue 12): the ledger is
append-only, so a row for nobody could never be settled or corrected; it is refused before it
is written. The directory being down is an outage (UNAVAILABLE), never a refusal."""

from __future__ import annotations

import grpc
import pytest
from csd.finance.v1 import finance_pb2 as F
from csd.finance.v1.finance_pb2_grpc import FinanceServiceStub

from tests.services.finance.builders import entry
from tests.stack import Stack


async def _entries(finance: FinanceServiceStub) -> list[F.LedgerEntry]:
    return list((await finance.ListEntries(F.ListEntriesRequest())).entries)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"person_id": "nobody.here"}, "person_id 'nobody.here' is not in the staff directory"),
        ({"recorded_by": "ghost"}, "recorded_by 'ghost' is not in the staff directory"),
        ({"region_code": "atlantis"}, "region_code 'atlantis' is not a region"),
    ],
)
async def test_an_entry_for_someone_unknown_is_refused_and_writes_nothing(
    stack: Stack, changes: dict[str, str], words: str
) -> None:
    finance = FinanceServiceStub(stack.finance)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await finance.RecordEntry(
            F.RecordEntryRequest(idempotency_key="unknown", entry=entry(**changes))
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert words in (err.value.details() or "")
    assert await _entries(finance) == []
    # The same entry for people the directory knows is written.
    await finance.RecordEntry(F.RecordEntryRequest(idempotency_key="known", entry=entry()))
    assert len(await _entries(finance)) == 1


async def test_the_directory_down_is_an_outage_not_a_refusal(stack: Stack) -> None:
    finance = FinanceServiceStub(stack.finance)
    await stack.servers[0].stop(grace=0)  # staff
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await finance.RecordEntry(F.RecordEntryRequest(idempotency_key="down", entry=entry()))
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "retry shortly" in (err.value.details() or "")
    assert await _entries(finance) == []
