"""Disputed rates through the gateway (PAY-3): asked by a department manager only, decided by
the vice-president in charge (zheng.hua in the demo), read by those it concerns; a settled month
or a bad request is refused before anything starts."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from csd.finance.v1 import finance_pb2 as F
from csd.finance.v1.finance_pb2_grpc import FinanceServiceStub
from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from tests.stack import Stack


def as_user(user: str) -> tuple[tuple[str, str], ...]:
    return (("x-csd-user", user),)


def asked(**changes: object) -> G.RequestRateAdjustmentRequest:
    fields: dict[str, object] = {
        "reference": f"RATE-{uuid.uuid4().hex[:8]}", "person_id": "zhao.lei", "month": "2026-06",
        "tier": "2", "daily_fen": 50_00, "why": "the county hospital is billed as a city one",
    }  # fmt: skip
    fields.update(changes)
    return G.RequestRateAdjustmentRequest(**fields)  # type: ignore[arg-type]


async def test_a_disputed_rate_through_the_gateway(gateway: GatewayServiceStub) -> None:
    request = asked()
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.RequestRateAdjustment(request, metadata=as_user("wang.qiang"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "a department manager does (PAY-3)" in (err.value.details() or "")
    await gateway.RequestRateAdjustment(request, metadata=as_user("huang.aiping"))
    decide = G.DecideRateAdjustmentRequest(reference=request.reference, approve=True)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.DecideRateAdjustment(decide, metadata=as_user("zhou.guoqiang"))
    assert err.value.code() in (
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.FAILED_PRECONDITION,  # still being sent
    )
    for _ in range(200):
        try:
            decided = await gateway.DecideRateAdjustment(decide, metadata=as_user("zheng.hua"))
            break
        except grpc.aio.AioRpcError as refused:
            assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION, refused.details()
            await asyncio.sleep(0.05)
    assert decided.decided_by == "zheng.hua"
    get = G.GetRateAdjustmentRequest(reference=request.reference)
    for _ in range(200):
        adjustment = await gateway.GetRateAdjustment(get, metadata=as_user("zhao.lei"))
        if adjustment.stage == "applied":
            break
        await asyncio.sleep(0.05)
    assert adjustment.stage == "applied" and adjustment.daily_fen == 50_00
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.GetRateAdjustment(get, metadata=as_user("liu.yang"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize(
    ("changes", "code", "words"),
    [
        ({"tier": "3"}, grpc.StatusCode.INVALID_ARGUMENT, "tier '3'"),
        ({"daily_fen": 0}, grpc.StatusCode.INVALID_ARGUMENT, "daily_fen"),
        ({"month": "2026-13"}, grpc.StatusCode.INVALID_ARGUMENT, "is not a month"),
        ({"why": " "}, grpc.StatusCode.INVALID_ARGUMENT, "why"),
        ({"person_id": "huang.aiping"}, grpc.StatusCode.PERMISSION_DENIED, "their own"),
        ({"month": "2026-02"}, grpc.StatusCode.FAILED_PRECONDITION, "was settled on"),
    ],
)
async def test_a_bad_request_is_refused_and_starts_nothing(
    time_skipping_env: WorkflowEnvironment,
    gateway: GatewayServiceStub,
    stack: Stack,
    changes: dict[str, object],
    code: grpc.StatusCode,
    words: str,
) -> None:
    await FinanceServiceStub(stack.finance).SettleMonth(
        F.SettleMonthRequest(idempotency_key="feb", person_id="zhao.lei", month="2026-02",
                             region_code="east", settled_by="chen.jing")
    )  # fmt: skip
    request = asked(**changes)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.RequestRateAdjustment(request, metadata=as_user("huang.aiping"))
    assert err.value.code() == code
    assert words in (err.value.details() or "")
    with pytest.raises(RPCError) as missing:
        await time_skipping_env.client.get_workflow_handle(
            f"rate-adjustment-{request.reference}"
        ).describe()
    assert missing.value.status == RPCStatusCode.NOT_FOUND
