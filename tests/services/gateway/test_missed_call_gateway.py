"""Missed on-call calls through the gateway (OC-1): recorded by the caller, verified by the
person's manager only, read by those it concerns."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub


def as_user(user: str) -> tuple[tuple[str, str], ...]:
    return (("x-csd-user", user),)


def missed(**changes: str) -> G.RecordMissedCallRequest:
    fields = {
        "reference": f"OC-{uuid.uuid4().hex[:8]}",
        "person_id": "zhao.lei",
        "called_at": "2026-06-03T22:10:00+08:00",
        "what": "hospital system down",
    } | changes
    return G.RecordMissedCallRequest(**fields)


async def test_a_missed_call_through_the_gateway(gateway: GatewayServiceStub) -> None:
    request = missed()
    await gateway.RecordMissedCall(request, metadata=as_user("shi.wenjun"))
    verify = G.VerifyMissedCallRequest(reference=request.reference, verified=True)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        for _ in range(200):
            try:
                await gateway.VerifyMissedCall(verify, metadata=as_user("liu.yang"))
            except grpc.aio.AioRpcError as refused:
                if refused.code() == grpc.StatusCode.FAILED_PRECONDITION:
                    await asyncio.sleep(0.05)  # still being recorded
                    continue
                raise
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    verified = await gateway.VerifyMissedCall(verify, metadata=as_user("wang.qiang"))
    assert (verified.stage, verified.verified_by) == ("verified", "wang.qiang")
    get = G.GetMissedCallRequest(reference=request.reference)
    assert (await gateway.GetMissedCall(get, metadata=as_user("zhao.lei"))).month == "2026-06"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.GetMissedCall(get, metadata=as_user("liu.yang"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize(
    ("request_message", "words"),
    [
        (missed(person_id="shi.wenjun"), "to themself"),
        (missed(called_at="yesterday"), "RFC 3339"),
        (missed(what=""), "what is required"),
    ],
)
async def test_a_bad_record_is_refused(
    gateway: GatewayServiceStub, request_message: G.RecordMissedCallRequest, words: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.RecordMissedCall(request_message, metadata=as_user("shi.wenjun"))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert words in (err.value.details() or "")
