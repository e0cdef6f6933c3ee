"""`FinanceService.AuditClaim` over the real services: the claimant's role from the staff
directory, their attendance for the month, the policy in force on each line's date; every line
decided with its rule and words, and nothing written."""

from __future__ import annotations

import grpc
import pytest
from csd.finance.v1 import finance_pb2 as F
from csd.finance.v1.finance_pb2_grpc import FinanceServiceStub
from csd.staff.v1 import staff_pb2
from csd.staff.v1.staff_pb2_grpc import StaffServiceStub

from tests.stack import Stack


async def _on_site(stack: Stack, person: str, day: str) -> None:
    await StaffServiceStub(stack.staff).ReportAttendance(
        staff_pb2.ReportAttendanceRequest(
            idempotency_key=f"{person}:{day}",
            day=staff_pb2.AttendanceDay(
                person_id=person,
                date=day,
                status=staff_pb2.ATTENDANCE_STATUS_ON_SITE,
                hospital="上海第一醫院",
                city="Shanghai",
                place_region_code="east",
            ),
        )
    )


async def test_a_claim_is_audited_against_attendance_and_the_policy(stack: Stack) -> None:
    await _on_site(stack, "zhao.lei", "2026-06-01")
    finance = FinanceServiceStub(stack.finance)
    before = await finance.ListEntries(F.ListEntriesRequest())
    audit = await finance.AuditClaim(
        F.AuditClaimRequest(
            person_id="zhao.lei",
            month="2026-06",
            lines=[
                F.ClaimLine(number=1, category="travel_allowance", date="2026-06-01",
                            city="Shanghai", amount_fen=55_00),
                F.ClaimLine(number=2, category="lodging", date="2026-06-01", city="Shanghai",
                            amount_fen=120_00),
                F.ClaimLine(number=3, category="lodging", date="2026-06-02", city="Shanghai",
                            amount_fen=90_00),
                F.ClaimLine(number=4, category="taxi", date="2026-06-01", city="Shanghai",
                            amount_fen=40_00, overtime_or_emergency=True),
            ],
        )
    )  # fmt: skip
    outcome = {line.number: line for line in audit.lines}
    assert outcome[1].sanctioned_fen == 55_00 and not outcome[1].exceptions
    assert outcome[2].sanctioned_fen == 100_00  # PAY-4: the engineer's cap
    assert [(e.rule, e.fen) for e in outcome[2].exceptions] == [("PAY-4", 20_00)]
    assert outcome[3].sanctioned_fen == 0 and outcome[3].exceptions[0].rule == "RB-3"
    assert outcome[4].sanctioned_fen == 0 and outcome[4].exceptions[0].code == "taxi_without_reason"
    assert (audit.claimed_fen, audit.sanctioned_fen) == (305_00, 155_00)
    assert {line.policy_version for line in audit.lines} == {"2024-v1"}
    assert await finance.ListEntries(F.ListEntriesRequest()) == before  # an audit writes nothing


@pytest.mark.parametrize(
    ("request_message", "code", "words"),
    [
        (
            F.AuditClaimRequest(person_id="chen.jing", month="2026-06", lines=[
                F.ClaimLine(number=1, category="lodging", date="2026-06-01", city="Wuxi",
                            amount_fen=100)]),
            grpc.StatusCode.FAILED_PRECONDITION,
            "no column in the travel policy",
        ),
        (
            F.AuditClaimRequest(person_id="zhao.lei", month="2026-06", lines=[
                F.ClaimLine(number=1, category="lodging", date="2026-07-01", city="Wuxi",
                            amount_fen=100)]),
            grpc.StatusCode.INVALID_ARGUMENT,
            "not in the claim's month",
        ),
        (
            F.AuditClaimRequest(person_id="zhao.lei", month="2026-06"),
            grpc.StatusCode.INVALID_ARGUMENT,
            "1 to 500 lines",
        ),
        (
            F.AuditClaimRequest(person_id="nobody.here", month="2026-06", lines=[
                F.ClaimLine(number=1, category="lodging", date="2026-06-01", city="Wuxi",
                            amount_fen=100)]),
            grpc.StatusCode.FAILED_PRECONDITION,
            "not in the staff directory",
        ),
    ],
)  # fmt: skip
async def test_a_malformed_claim_is_refused(
    stack: Stack, request_message: F.AuditClaimRequest, code: grpc.StatusCode, words: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await FinanceServiceStub(stack.finance).AuditClaim(request_message)
    assert err.value.code() == code
    assert words in (err.value.details() or "")
