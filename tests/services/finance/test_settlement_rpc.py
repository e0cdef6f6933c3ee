"""`FinanceService.GetSettlement` over the real services: the salary in force, the performance
pay entered, attendance from staff (a full month or not) and the ledger's OC-1 forfeit make the
month's statement, also as CSV; nothing is written."""

from __future__ import annotations

from datetime import date, timedelta

import grpc
import pytest
from csd.finance.v1 import finance_pb2 as F
from csd.finance.v1.finance_pb2_grpc import FinanceServiceStub
from csd.staff.v1 import staff_pb2
from csd.staff.v1.staff_pb2_grpc import StaffServiceStub

from services.staff.calendar import CompanyCalendar
from tests.services.staff.test_staff_service import _person
from tests.stack import Stack

PERSON = "settled.engineer"
JUNE = [
    d
    for d in (date(2026, 6, 1) + timedelta(n) for n in range(30))
    if CompanyCalendar().is_working_day(d)
]


async def _month(stack: Stack, *, skip: int = 0) -> FinanceServiceStub:
    staff = StaffServiceStub(stack.staff)
    await staff.UpsertPerson(
        staff_pb2.UpsertPersonRequest(
            idempotency_key="hire", person=_person(PERSON, attendance_from="2026-06-01")
        )
    )
    rows = "".join(
        f"{PERSON},{d.isoformat()},on_site,上海第一醫院,Shanghai,east,\n" for d in JUNE[skip:]
    )
    await staff.ImportAttendance(
        staff_pb2.ImportAttendanceRequest(
            idempotency_key="june",
            csv="person_id,date,status,hospital,city,place_region_code,note\n" + rows,
            imported_by="chen.jing",
        )
    )
    finance = FinanceServiceStub(stack.finance)
    await finance.RecordSalary(
        F.RecordSalaryRequest(idempotency_key="s", person_id=PERSON, effective_from="2026-01-01",
                              base_fen=8_000_00, reference="hired", recorded_by="huang.aiping")
    )  # fmt: skip
    await finance.RecordPerformancePay(
        F.RecordPerformancePayRequest(idempotency_key="p", person_id=PERSON, month="2026-06",
                                      amount_fen=1_000_00, recorded_by="huang.aiping")
    )  # fmt: skip
    return finance


def _paid(statement: F.Settlement) -> dict[str, int]:
    return {line.item: line.amount_fen for line in statement.lines}


async def test_a_full_month_is_settled_with_every_allowance(stack: Stack) -> None:
    finance = await _month(stack)
    statement = await finance.GetSettlement(
        F.GetSettlementRequest(person_id=PERSON, month="2026-06")
    )
    assert _paid(statement) == {
        "base_salary": 8_000_00,
        "performance_pay": 1_000_00,
        "travel_allowance": len(JUNE) * 55_00,  # east is tier 1
        "communication_allowance": 100_00,
        "transport_allowance": 150_00,
    }
    assert statement.total_fen == sum(_paid(statement).values())
    assert statement.csv.splitlines()[0] == "item,rule,amount_fen,words"
    assert (
        await finance.ListEntries(F.ListEntriesRequest(person_id=PERSON)) == F.ListEntriesResponse()
    )


async def test_one_missing_day_withholds_the_travel_allowance(stack: Stack) -> None:
    finance = await _month(stack, skip=1)
    statement = await finance.GetSettlement(
        F.GetSettlementRequest(person_id=PERSON, month="2026-06")
    )
    assert "travel_allowance" not in _paid(statement)
    assert [line.rule for line in statement.not_paid] == ["PAY-3"]


async def test_performance_pay_is_entered_once(stack: Stack) -> None:
    finance = await _month(stack)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await finance.RecordPerformancePay(
            F.RecordPerformancePayRequest(idempotency_key="p2", person_id=PERSON, month="2026-06",
                                          amount_fen=2_000_00, recorded_by="huang.aiping")
        )  # fmt: skip
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def _settle(key: str = "pay2:june", month: str = "2026-06") -> F.SettleMonthRequest:
    return F.SettleMonthRequest(
        idempotency_key=key,
        person_id=PERSON,
        month=month,
        region_code="east",
        settled_by="chen.jing",
        reference="pay2-settlement-2026-06",
    )


async def test_a_month_is_settled_once_and_its_allowances_are_the_regions_costs(
    stack: Stack,
) -> None:
    finance = await _month(stack)
    computed = await finance.GetSettlement(
        F.GetSettlementRequest(person_id=PERSON, month="2026-06")
    )
    settled = await finance.SettleMonth(_settle())
    assert settled.settled_at and settled.settled_by == "chen.jing"
    assert list(settled.lines) == list(computed.lines)
    assert settled.total_fen == computed.total_fen
    # A retry of the same settlement is answered as it was; another settlement is refused.
    assert await finance.SettleMonth(_settle()) == settled
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await finance.SettleMonth(_settle("pay2:june:again"))
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "settled once (PAY-2)" in (err.value.details() or "")

    entries = (await finance.ListEntries(F.ListEntriesRequest(person_id=PERSON))).entries
    allowances = {e.rule_id: e.amount_fen for e in entries}
    assert allowances == {"PAY-3": len(JUNE) * 55_00, "PAY-5": 100_00, "PAY-6": 150_00}
    assert all(e.kind == F.ENTRY_KIND_ALLOWANCE and e.region_code == "east" for e in entries)
    assert sorted(settled.entry_ids) == sorted(e.id for e in entries)
    # The region's month shows them as its expenses (ACC-1).
    summary = await finance.SummarizeRegionMonth(
        F.SummarizeRegionMonthRequest(region_code="east", month="2026-06")
    )
    assert summary.allowances_fen == sum(allowances.values())
    # From now on the statement is the one settled.
    again = await finance.GetSettlement(F.GetSettlementRequest(person_id=PERSON, month="2026-06"))
    assert again == settled
    listed = await finance.ListSettlements(
        F.ListSettlementsRequest(region_code="east", month="2026-06")
    )
    assert list(listed.settlements) == [settled]


async def test_a_claim_for_a_settled_month_is_refused(stack: Stack) -> None:
    finance = await _month(stack)
    await finance.SettleMonth(_settle())
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await finance.AuditClaim(
            F.AuditClaimRequest(
                person_id=PERSON,
                month="2026-06",
                lines=[F.ClaimLine(number=1, category="lodging", date="2026-06-02",
                                   city="Shanghai", amount_fen=90_00)],
            )
        )  # fmt: skip
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "is settled" in (err.value.details() or "")


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        ({"month": "2099-12"}, grpc.StatusCode.FAILED_PRECONDITION, "is not over"),
        ({"region_code": "atlantis"}, grpc.StatusCode.FAILED_PRECONDITION, "atlantis"),
        ({"month": "2026-13"}, grpc.StatusCode.INVALID_ARGUMENT, "is not a month"),
        ({"settled_by": ""}, grpc.StatusCode.INVALID_ARGUMENT, "settled_by"),
        ({"idempotency_key": ""}, grpc.StatusCode.INVALID_ARGUMENT, "idempotency"),
    ],
)
async def test_a_settlement_that_cannot_be_is_refused_and_writes_nothing(
    stack: Stack, change: dict[str, str], code: grpc.StatusCode, words: str
) -> None:
    finance = await _month(stack)
    request = _settle()
    for field, value in change.items():
        setattr(request, field, value)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await finance.SettleMonth(request)
    assert err.value.code() == code
    assert words in (err.value.details() or "")
    assert not (await finance.ListEntries(F.ListEntriesRequest(person_id=PERSON))).entries
    listed = await finance.ListSettlements(F.ListSettlementsRequest(person_id=PERSON))
    assert not listed.settlements


async def test_listing_settlements_names_whose(stack: Stack) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await FinanceServiceStub(stack.finance).ListSettlements(
            F.ListSettlementsRequest(month="2026-06")
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
