"""CL-3 through the gateway: only sales sends its logs this way, to a project that exists; the
assistant passes it on and the project's engineer completes it."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub


def as_user(user: str) -> tuple[tuple[str, str], ...]:
    return (("x-csd-user", user),)


def send(**changes: str) -> G.SendSalesLogRequest:
    fields = {
        "reference": f"SL-{uuid.uuid4().hex[:8]}",
        "project_code": "bj-union",
        "contact_with": "the deputy president",
        "summary": "interested in the lab module",
    }
    fields.update(changes)
    return G.SendSalesLogRequest(**fields)


async def test_a_sales_log_through_the_gateway(gateway: GatewayServiceStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.SendSalesLog(send(), metadata=as_user("sun.hao"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.SendSalesLog(send(project_code="atlantis"), metadata=as_user("sun.li"))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    asked = send()
    await gateway.SendSalesLog(asked, metadata=as_user("sun.li"))
    pass_on = G.PassOnSalesLogRequest(reference=asked.reference)
    for _ in range(200):
        try:
            passed = await gateway.PassOnSalesLog(pass_on, metadata=as_user("shi.wenjun"))
            break
        except grpc.aio.AioRpcError as refused:
            assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION, refused.details()
            await asyncio.sleep(0.05)
    assert passed.engineer_id == "sun.hao"  # bj-union's engineer
    await gateway.CompleteSalesLog(
        G.CompleteSalesLogRequest(reference=asked.reference, addition="a demo next week"),
        metadata=as_user("sun.hao"),
    )
    get = G.GetSalesLogRequest(reference=asked.reference)
    for _ in range(200):
        logged = await gateway.GetSalesLog(get, metadata=as_user("sun.li"))
        if logged.stage == "logged":
            break
        await asyncio.sleep(0.05)
    assert logged.stage == "logged" and logged.log_version >= 1
