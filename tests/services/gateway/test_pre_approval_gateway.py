"""Pre-approvals through the gateway (RB-5, PAY-4, PAY-7): asked by the spender for themself,
decided by a department manager, read by those it concerns."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub


def as_user(user: str) -> tuple[tuple[str, str], ...]:
    return (("x-csd-user", user),)


def hospitality(**changes: object) -> G.RequestPreApprovalRequest:
    fields: dict[str, object] = {
        "reference": f"PA-{uuid.uuid4().hex[:8]}",
        "category": "hospitality",
        "amount_fen": 300_00,
        "why": "go-live dinner",
        "customer": "上海第一醫院",
        "who": "the IT director",
    } | changes
    return G.RequestPreApprovalRequest(**fields)  # type: ignore[arg-type]


async def test_a_pre_approval_through_the_gateway(gateway: GatewayServiceStub) -> None:
    request = hospitality()
    ref = await gateway.RequestPreApproval(request, metadata=as_user("zhao.lei"))
    assert ref.workflow_id == f"pre-approval-{request.reference}"
    get = G.GetPreApprovalRequest(reference=request.reference)
    decide = G.DecidePreApprovalRequest(reference=request.reference, approve=True)
    for _ in range(200):
        try:
            decided = await gateway.DecidePreApproval(decide, metadata=as_user("huang.aiping"))
            break
        except grpc.aio.AioRpcError as err:
            assert err.code() == grpc.StatusCode.FAILED_PRECONDITION, err.details()
            await asyncio.sleep(0.05)
    assert (decided.stage, decided.approved_fen) == ("approved", 300_00)
    assert (await gateway.GetPreApproval(get, metadata=as_user("zhao.lei"))).stage == "approved"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.GetPreApproval(get, metadata=as_user("liu.yang"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize(
    ("request_message", "words"),
    [
        (hospitality(customer=""), "RB-5 records which customer"),
        (hospitality(category="spa"), "use hospitality, business, lodging_uplift"),
        (hospitality(amount_fen=0), "more than 0"),
        (hospitality(why=" "), "why is required"),
    ],
)
async def test_a_bad_request_is_refused_and_starts_nothing(
    gateway: GatewayServiceStub, request_message: G.RequestPreApprovalRequest, words: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.RequestPreApproval(request_message, metadata=as_user("zhao.lei"))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert words in (err.value.details() or "")
