"""The append-only ledger over real gRPC: recording, listing and the ACC-1 region-month summary."""

from __future__ import annotations

import re
import uuid

from csd.finance.v1 import finance_pb2
from csd.finance.v1.finance_pb2_grpc import FinanceServiceStub

from tests.services.finance.builders import entry

F = finance_pb2
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


async def record(stub: FinanceServiceStub, key: str, **changes: object) -> finance_pb2.LedgerEntry:
    response: finance_pb2.LedgerEntry = await stub.RecordEntry(
        F.RecordEntryRequest(idempotency_key=key, entry=entry(**changes))
    )
    return response


async def test_record_assigns_id_and_time_and_keeps_the_rest(
    finance_stub: FinanceServiceStub,
) -> None:
    recorded = await record(finance_stub, "fine-1")
    assert uuid.UUID(recorded.id)
    assert RFC3339_UTC.match(recorded.recorded_at), recorded.recorded_at
    assert recorded.idempotency_key == "fine-1"
    expected = entry(id=recorded.id, recorded_at=recorded.recorded_at, idempotency_key="fine-1")
    assert recorded == expected
    listed = await finance_stub.ListEntries(F.ListEntriesRequest())
    assert list(listed.entries) == [recorded]


async def test_service_assigned_fields_in_the_request_are_ignored(
    finance_stub: FinanceServiceStub,
) -> None:
    recorded = await record(
        finance_stub, "fine-2", id="chosen-by-caller", recorded_at="2000-01-01T00:00:00Z"
    )
    assert recorded.id != "chosen-by-caller"
    assert not recorded.recorded_at.startswith("2000")


async def test_region_income_needs_no_person(finance_stub: FinanceServiceStub) -> None:
    recorded = await record(
        finance_stub,
        "income-1",
        person_id="",
        kind=F.ENTRY_KIND_INCOME,
        amount_fen=12_345_678,
        rule_id="ACC-1",
        reason="Maintenance fee, Hospital A, 2024",
    )
    assert recorded.person_id == ""
    assert recorded.amount_fen == 12_345_678


async def test_recorded_by_defaults_to_the_caller(finance_stub: FinanceServiceStub) -> None:
    recorded = await finance_stub.RecordEntry(
        F.RecordEntryRequest(idempotency_key="fine-3", entry=entry(recorded_by="")),
        metadata=(("x-csd-user", "chen.jing"),),
    )
    assert recorded.recorded_by == "chen.jing"


async def test_list_filters_combine_and_keep_recording_order(
    finance_stub: FinanceServiceStub,
) -> None:
    a = await record(finance_stub, "a", person_id="zhao.lei", month="2024-05")
    b = await record(finance_stub, "b", person_id="liu.yang", month="2024-05")
    c = await record(
        finance_stub, "c", person_id="zhao.lei", month="2024-06", kind=F.ENTRY_KIND_ALLOWANCE
    )
    d = await record(finance_stub, "d", person_id="sun.hao", region_code="north")

    async def keys(**filters: object) -> list[str]:
        response = await finance_stub.ListEntries(F.ListEntriesRequest(**filters))  # type: ignore[arg-type]
        return [e.idempotency_key for e in response.entries]

    assert await keys() == ["a", "b", "c", "d"]
    assert [a.recorded_at, b.recorded_at, c.recorded_at, d.recorded_at] == sorted(
        [a.recorded_at, b.recorded_at, c.recorded_at, d.recorded_at]
    )
    assert await keys(person_id="zhao.lei") == ["a", "c"]
    assert await keys(region_code="east") == ["a", "b", "c"]
    assert await keys(region_code="east", month="2024-05") == ["a", "b"]
    assert await keys(kind=F.ENTRY_KIND_ALLOWANCE) == ["c"]
    assert await keys(person_id="zhao.lei", kind=F.ENTRY_KIND_FINE, month="2024-05") == ["a"]
    assert await keys(region_code="south") == []


async def test_region_month_summary_balances_per_acc1(finance_stub: FinanceServiceStub) -> None:
    east_may = [
        ("income", F.ENTRY_KIND_INCOME, "", 5_000_000),
        ("income-2", F.ENTRY_KIND_INCOME, "", 250_050),
        ("fine", F.ENTRY_KIND_FINE, "zhao.lei", 20_000),
        ("travel-1", F.ENTRY_KIND_ALLOWANCE, "zhao.lei", 5_500),
        ("travel-2", F.ENTRY_KIND_ALLOWANCE, "liu.yang", 4_500),
        ("hotel", F.ENTRY_KIND_REIMBURSEMENT, "liu.yang", 12_345),
        ("forfeit", F.ENTRY_KIND_FORFEIT, "zhao.lei", 10_000),
    ]
    for key, kind, person, fen in east_may:
        await record(finance_stub, key, kind=kind, person_id=person, amount_fen=fen)
    # Another month and another region stay out of the sum.
    await record(finance_stub, "june", month="2024-06", amount_fen=99_999)
    await record(finance_stub, "north", region_code="north", amount_fen=88_888)

    summary = await finance_stub.SummarizeRegionMonth(
        F.SummarizeRegionMonthRequest(region_code="east", month="2024-05")
    )
    assert summary == F.RegionMonthSummary(
        region_code="east",
        month="2024-05",
        income_fen=5_250_050,
        fines_fen=20_000,
        allowances_fen=10_000,
        reimbursements_fen=12_345,
        forfeits_fen=10_000,
        # income + fines - allowances - reimbursements; the forfeit moves no money.
        balance_fen=5_250_050 + 20_000 - 10_000 - 12_345,
        entry_count=7,
    )
    assert summary.balance_fen == 5_247_705


async def test_an_empty_region_month_sums_to_zero(finance_stub: FinanceServiceStub) -> None:
    summary = await finance_stub.SummarizeRegionMonth(
        F.SummarizeRegionMonthRequest(region_code="southwest", month="2024-05")
    )
    assert summary == F.RegionMonthSummary(region_code="southwest", month="2024-05")


async def test_a_negative_balance_is_reported_as_such(finance_stub: FinanceServiceStub) -> None:
    await record(finance_stub, "big-claim", kind=F.ENTRY_KIND_REIMBURSEMENT, amount_fen=300_000)
    summary = await finance_stub.SummarizeRegionMonth(
        F.SummarizeRegionMonthRequest(region_code="east", month="2024-05")
    )
    assert summary.balance_fen == -300_000


async def test_amounts_beyond_32_bits_survive(finance_stub: FinanceServiceStub) -> None:
    # 30 million yuan is 3e9 fen: past a 32-bit column, within BigInteger.
    fen = 3_000_000_000
    await record(finance_stub, "large", person_id="", kind=F.ENTRY_KIND_INCOME, amount_fen=fen)
    await record(finance_stub, "large-2", person_id="", kind=F.ENTRY_KIND_INCOME, amount_fen=fen)
    summary = await finance_stub.SummarizeRegionMonth(
        F.SummarizeRegionMonthRequest(region_code="east", month="2024-05")
    )
    assert summary.income_fen == 2 * fen
    assert summary.balance_fen == 2 * fen
