"""Salary changes through the gateway (PAY-1): proposed by a department manager only, decided
by the executive team (zhou.guoqiang in the demo), read by those it concerns."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub


def as_user(user: str) -> tuple[tuple[str, str], ...]:
    return (("x-csd-user", user),)


def proposal() -> G.ProposeSalaryChangeRequest:
    return G.ProposeSalaryChangeRequest(
        reference=f"SAL-{uuid.uuid4().hex[:8]}", person_id="zhao.lei", base_fen=9_000_00,
        effective_from="2026-07-01", why="a year of good work",
    )  # fmt: skip


async def test_a_salary_change_through_the_gateway(gateway: GatewayServiceStub) -> None:
    request = proposal()
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.ProposeSalaryChange(request, metadata=as_user("wang.qiang"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    await gateway.ProposeSalaryChange(request, metadata=as_user("huang.aiping"))
    decide = G.DecideSalaryChangeRequest(reference=request.reference, approve=True)
    for _ in range(200):
        try:
            decided = await gateway.DecideSalaryChange(decide, metadata=as_user("zhou.guoqiang"))
            break
        except grpc.aio.AioRpcError as refused:
            assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION, refused.details()
            await asyncio.sleep(0.05)
    assert decided.decided_by == "zhou.guoqiang"
    get = G.GetSalaryChangeRequest(reference=request.reference)
    for _ in range(200):
        change = await gateway.GetSalaryChange(get, metadata=as_user("zhao.lei"))
        if change.stage == "executed":
            break
        await asyncio.sleep(0.05)
    assert change.stage == "executed"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.GetSalaryChange(get, metadata=as_user("liu.yang"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
