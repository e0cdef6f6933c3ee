"""Complaints through the gateway (CS-1): registered by whoever hears one, assigned and closed
by those CS-1 names, read by those it concerns; a bad registration starts nothing."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment


def as_user(user: str) -> tuple[tuple[str, str], ...]:
    return (("x-csd-user", user),)


def register(**changes: str) -> G.RegisterComplaintRequest:
    fields = {"reference": f"CS-{uuid.uuid4().hex[:8]}", "hospital": "上海仁濟醫院",
              "severity": "major", "what_happened": "the outpatient queue froze twice"}  # fmt: skip
    fields.update(changes)
    return G.RegisterComplaintRequest(**fields)


async def test_a_complaint_through_the_gateway(gateway: GatewayServiceStub) -> None:
    asked = register()
    await gateway.RegisterComplaint(asked, metadata=as_user("liu.yang"))
    assign = G.AssignComplaintRequest(reference=asked.reference, assignee_id="liu.yang")
    for _ in range(200):
        try:
            await gateway.AssignComplaint(assign, metadata=as_user("li.na"))
            break
        except grpc.aio.AioRpcError as refused:
            assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION, refused.details()
            await asyncio.sleep(0.05)
    closed = await gateway.CloseComplaint(
        G.CloseComplaintRequest(reference=asked.reference, resolution="a patch on the queue"),
        metadata=as_user("liu.yang"),
    )
    assert closed.stage == "closed" and closed.closed_by == "liu.yang"
    get = G.GetComplaintRequest(reference=asked.reference)
    assert (await gateway.GetComplaint(get, metadata=as_user("huang.aiping"))).stage == "closed"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.GetComplaint(get, metadata=as_user("sun.hao"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"severity": "apocalyptic"}, grpc.StatusCode.INVALID_ARGUMENT),
        ({"what_happened": " "}, grpc.StatusCode.INVALID_ARGUMENT),
        ({"region_code": "atlantis"}, grpc.StatusCode.NOT_FOUND),
    ],
)
async def test_a_bad_registration_starts_nothing(
    time_skipping_env: WorkflowEnvironment,
    gateway: GatewayServiceStub,
    changes: dict[str, str],
    code: grpc.StatusCode,
) -> None:
    asked = register(**changes)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.RegisterComplaint(asked, metadata=as_user("liu.yang"))
    assert err.value.code() == code
    with pytest.raises(RPCError) as missing:
        await time_skipping_env.client.get_workflow_handle(f"cs1-{asked.reference}").describe()
    assert missing.value.status == RPCStatusCode.NOT_FOUND
