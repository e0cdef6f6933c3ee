"""Expense claims through the gateway (RB-1, RB-2): each person submits their own month once;
the claim's reviewers review it in RB-2's order; the claimant reads every line's outcome and a
colleague cannot."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from csd.finance.v1 import finance_pb2 as F
from csd.finance.v1.finance_pb2_grpc import FinanceServiceStub
from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub
from csd.staff.v1 import staff_pb2
from csd.staff.v1.staff_pb2_grpc import StaffServiceStub
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from tests.stack import Stack


def as_user(user: str) -> tuple[tuple[str, str], ...]:
    return (("x-csd-user", user),)


LODGING = G.ClaimLine(number=1, category="lodging", date="2026-06-01", city="Shanghai",
                      amount_fen=120_00)  # fmt: skip


async def claim_in(gateway: GatewayServiceStub, person: str, stage: str) -> G.Claim:
    get = G.GetClaimRequest(person_id=person, month="2026-06")
    for _ in range(200):
        try:
            found = await gateway.GetClaim(get, metadata=as_user(person))
            if found.stage == stage:
                return found
        except grpc.aio.AioRpcError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError(f"no claim in {stage}")


async def test_a_claim_through_the_gateway(gateway: GatewayServiceStub, stack: Stack) -> None:
    await StaffServiceStub(stack.staff).ReportAttendance(
        staff_pb2.ReportAttendanceRequest(
            idempotency_key="a",
            day=staff_pb2.AttendanceDay(
                person_id="liu.yang", date="2026-06-01", status=staff_pb2.ATTENDANCE_STATUS_ON_SITE,
                hospital="上海第一醫院", city="Shanghai", place_region_code="east",
            ),
        )
    )  # fmt: skip
    submit = G.SubmitClaimRequest(month="2026-06", lines=[LODGING])
    ref = await gateway.SubmitClaim(submit, metadata=as_user("liu.yang"))
    assert ref.workflow_id == "claim-liu.yang-2026-06"
    assert (
        await gateway.SubmitClaim(submit, metadata=as_user("liu.yang"))
    ).workflow_id == ref.workflow_id
    cheaper = G.ClaimLine()
    cheaper.CopyFrom(LODGING)
    cheaper.amount_fen = 90_00
    other = G.SubmitClaimRequest(month="2026-06", lines=[cheaper])
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.SubmitClaim(other, metadata=as_user("liu.yang"))
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION

    audited = await claim_in(gateway, "liu.yang", "awaiting_clerk")
    [line] = audited.lines
    assert (line.claimed_fen, line.sanctioned_fen) == (120_00, 100_00)
    assert [(e.rule, e.level, e.fen) for e in line.exceptions] == [("PAY-4", "refuse", 20_00)]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.GetClaim(G.GetClaimRequest(person_id="liu.yang", month="2026-06"),
                               metadata=as_user("zhao.lei"))  # fmt: skip
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED

    review = G.ReviewClaimRequest(person_id="liu.yang", month="2026-06", approve=True)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.ReviewClaim(review, metadata=as_user("zhao.lei"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    await gateway.ReviewClaim(review, metadata=as_user("chen.jing"))
    decided = await gateway.ReviewClaim(review, metadata=as_user("huang.aiping"))
    assert decided.reviewed_by == ["chen.jing", "huang.aiping"]
    approved = await claim_in(gateway, "liu.yang", "approved")
    assert approved.approved_fen == 100_00 and approved.entry_id


@pytest.mark.parametrize(
    ("request_message", "code"),
    [
        (G.SubmitClaimRequest(month="2026-13", lines=[LODGING]), grpc.StatusCode.INVALID_ARGUMENT),
        (G.SubmitClaimRequest(month="2026-06"), grpc.StatusCode.INVALID_ARGUMENT),
        (
            G.SubmitClaimRequest(month="2026-07", lines=[LODGING]),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
    ],
)
async def test_a_bad_claim_is_refused_and_starts_nothing(
    gateway: GatewayServiceStub, request_message: G.SubmitClaimRequest, code: grpc.StatusCode
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.SubmitClaim(request_message, metadata=as_user("zhao.lei"))
    assert err.value.code() == code


async def test_a_claim_for_a_settled_month_is_refused_and_starts_nothing(
    time_skipping_env: WorkflowEnvironment, gateway: GatewayServiceStub, stack: Stack
) -> None:
    await FinanceServiceStub(stack.finance).SettleMonth(
        F.SettleMonthRequest(idempotency_key="march", person_id="zhao.lei", month="2026-03",
                             region_code="east", settled_by="chen.jing")
    )  # fmt: skip
    line = G.ClaimLine(number=1, category="lodging", date="2026-03-02", city="Shanghai",
                       amount_fen=90_00)  # fmt: skip
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.SubmitClaim(
            G.SubmitClaimRequest(month="2026-03", lines=[line]), metadata=as_user("zhao.lei")
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "claimed before it is settled (PAY-2, RB-1)" in (err.value.details() or "")
    with pytest.raises(RPCError) as missing:
        await time_skipping_env.client.get_workflow_handle("claim-zhao.lei-2026-03").describe()
    assert missing.value.status == RPCStatusCode.NOT_FOUND
