"""SV-1 through the gateway: only a region's own customer service manager plans its hospitals'
visits; visits are recorded by the project's people; a handover is opened by the managers and
signed once by each side."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub

from services.runtime.dates import today


def as_user(user: str) -> tuple[tuple[str, str], ...]:
    return (("x-csd-user", user),)


async def test_a_plan_and_its_visit_through_the_gateway(gateway: GatewayServiceStub) -> None:
    day = today().isoformat()
    plan = G.PlanServiceVisitsRequest(kind="maintenance", project_code="sh-renji",
                                      year=int(day[:4]), visits=[day])  # fmt: skip
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.PlanServiceVisits(plan, metadata=as_user("wang.qiang"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    north = G.PlanServiceVisitsRequest()
    north.CopyFrom(plan)
    north.project_code = "bj-union"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.PlanServiceVisits(north, metadata=as_user("li.na"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    await gateway.PlanServiceVisits(plan, metadata=as_user("li.na"))
    visit = G.RecordServiceVisitRequest(
        kind="maintenance", project_code="sh-renji", year=int(day[:4]), day=day,
        findings="backups verified",
    )  # fmt: skip
    for _ in range(200):
        try:
            recorded = await gateway.RecordServiceVisit(visit, metadata=as_user("liu.yang"))
            break
        except grpc.aio.AioRpcError as refused:
            assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION, refused.details()
            await asyncio.sleep(0.05)
    assert [v.state for v in recorded.visits] == ["done"]


async def test_a_handover_through_the_gateway(gateway: GatewayServiceStub) -> None:
    reference = f"HO-{uuid.uuid4().hex[:8]}"
    opened = G.OpenHandoverRequest(
        reference=reference, project_code="sh-renji", from_id="wang.qiang", to_id="liu.yang",
        items=["passwords"],
    )  # fmt: skip
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.OpenHandover(opened, metadata=as_user("zhao.lei"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    await gateway.OpenHandover(opened, metadata=as_user("li.na"))
    sign = G.SignHandoverRequest(reference=reference)
    for _ in range(200):
        try:
            await gateway.SignHandover(sign, metadata=as_user("wang.qiang"))
            break
        except grpc.aio.AioRpcError as refused:
            assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION, refused.details()
            await asyncio.sleep(0.05)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.SignHandover(sign, metadata=as_user("wang.qiang"))
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "each side signs once" in (err.value.details() or "")
    signed = await gateway.SignHandover(sign, metadata=as_user("liu.yang"))
    assert signed.signed_sides == ["handing_over", "taking_over"]
