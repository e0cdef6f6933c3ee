"""Business opportunities through the gateway (BO-1, BO-2): anyone in the field registers one;
sales, another department, names the assistance notice it sent the region first, or is refused
with BO-2 cited and nothing started; the department manager confirms, who may sell closes."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from tests.services.gateway.test_gateway import start_request


def as_user(user: str) -> tuple[tuple[str, str], ...]:
    return (("x-csd-user", user),)


def register(**changes: object) -> G.RegisterOpportunityRequest:
    fields: dict[str, object] = {
        "reference": f"BO-{uuid.uuid4().hex[:8]}", "kind": "maintenance_contract",
        "hospital": "上海仁濟醫院", "region_code": "east", "estimated_fen": 120_000_00,
        "description": "the maintenance contract ends in March",
    }  # fmt: skip
    fields.update(changes)
    return G.RegisterOpportunityRequest(**fields)  # type: ignore[arg-type]


async def _not_started(env: WorkflowEnvironment, reference: str) -> None:
    with pytest.raises(RPCError) as missing:
        await env.client.get_workflow_handle(f"bo-{reference}").describe()
    assert missing.value.status == RPCStatusCode.NOT_FOUND


async def test_sales_names_the_assistance_notice_it_sent_the_region_first(
    time_skipping_env: WorkflowEnvironment, gateway: GatewayServiceStub
) -> None:
    asked = register()
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.RegisterOpportunity(asked, metadata=as_user("sun.li"))
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "(BO-2)" in (err.value.details() or "")
    await _not_started(time_skipping_env, asked.reference)

    notice = f"XA-{uuid.uuid4().hex[:8]}"
    await gateway.StartAssistance(
        start_request(notice, target_department="customer service", region_code="north"),
        metadata=as_user("sun.li"),
    )
    elsewhere = register(cooperation=notice)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.RegisterOpportunity(elsewhere, metadata=as_user("sun.li"))
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "went to north, not east" in (err.value.details() or "")
    await _not_started(time_skipping_env, elsewhere.reference)

    east = f"XA-{uuid.uuid4().hex[:8]}"
    await gateway.StartAssistance(
        start_request(east, target_department="customer service", region_code="east"),
        metadata=as_user("sun.li"),
    )
    asked = register(cooperation=east)
    ref = await gateway.RegisterOpportunity(asked, metadata=as_user("sun.li"))
    assert ref.workflow_id == f"bo-{asked.reference}"


async def test_an_opportunity_through_the_gateway_to_a_won_sale(
    gateway: GatewayServiceStub,
) -> None:
    asked = register()
    await gateway.RegisterOpportunity(asked, metadata=as_user("liu.yang"))
    confirm = G.ConfirmOpportunityRequest(reference=asked.reference, real=True, region_gets_it=True)
    for _ in range(200):
        try:
            await gateway.ConfirmOpportunity(confirm, metadata=as_user("huang.aiping"))
            break
        except grpc.aio.AioRpcError as refused:
            assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION, refused.details()
            await asyncio.sleep(0.05)
    close = G.CloseOpportunityRequest(reference=asked.reference, won=True, amount_fen=110_000_00)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.CloseOpportunity(close, metadata=as_user("liu.yang"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "(BO-3)" in (err.value.details() or "")
    await gateway.CloseOpportunity(close, metadata=as_user("li.na"))
    get = G.GetOpportunityRequest(reference=asked.reference)
    for _ in range(200):
        won = await gateway.GetOpportunity(get, metadata=as_user("li.na"))
        if won.entry_id:
            break
        await asyncio.sleep(0.05)
    assert won.stage == "won" and won.amount_fen == 110_000_00 and won.entry_id
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.GetOpportunity(get, metadata=as_user("sun.hao"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
