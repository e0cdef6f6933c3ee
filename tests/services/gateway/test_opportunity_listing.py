"""G-5 on the real dev server (its visibility store answers list queries): a region's open
opportunities, by kind, such as its outstanding final payments, listed for the department and
the region's own managers only."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub
from temporalio.testing import WorkflowEnvironment

from tests.services.gateway.test_opportunity_gateway import as_user, register


async def test_a_regions_outstanding_final_payments_are_listed_for_those_it_concerns(
    dev_server_env: WorkflowEnvironment, dev_gateway: GatewayServiceStub
) -> None:
    tag = uuid.uuid4().hex[:6]
    asked = {
        "payment": register(reference=f"BO-FP-{tag}", kind="final_payment"),
        "contract": register(reference=f"BO-MC-{tag}", kind="maintenance_contract"),
        "north": register(reference=f"BO-N-{tag}", kind="final_payment", region_code="north",
                          hospital="北京協和醫院"),
    }  # fmt: skip
    for request in asked.values():
        await dev_gateway.RegisterOpportunity(request, metadata=as_user("huang.aiping"))
    try:
        payments = G.ListOpportunitiesRequest(region_code="east", kind="final_payment")
        for _ in range(100):
            listed = await dev_gateway.ListOpportunities(payments, metadata=as_user("li.na"))
            mine = [o.reference for o in listed.opportunities if o.reference.endswith(tag)]
            if mine:
                break
            await asyncio.sleep(0.1)
        assert mine == [f"BO-FP-{tag}"]
        everything = await dev_gateway.ListOpportunities(
            G.ListOpportunitiesRequest(region_code="east"), metadata=as_user("shi.wenjun")
        )
        assert {o.reference for o in everything.opportunities if o.reference.endswith(tag)} == {
            f"BO-FP-{tag}",
            f"BO-MC-{tag}",
        }
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await dev_gateway.ListOpportunities(
                G.ListOpportunitiesRequest(region_code="north"), metadata=as_user("li.na")
            )
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await dev_gateway.ListOpportunities(
                G.ListOpportunitiesRequest(kind="barter"), metadata=as_user("li.na")
            )
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    finally:
        for request in asked.values():
            await dev_server_env.client.get_workflow_handle(f"bo-{request.reference}").terminate(
                "test over"
            )
