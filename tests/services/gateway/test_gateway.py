"""The gateway over real gRPC: identity, input checks and XA-1 through Temporal."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import grpc
import pytest
from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub
from temporalio.testing import WorkflowEnvironment

from services.gateway import server as gateway_server
from services.worker.main import build_worker
from tests.stack import Stack


@pytest.fixture
async def gateway(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> AsyncIterator[GatewayServiceStub]:
    client = time_skipping_env.client
    running = await gateway_server.start(
        address="127.0.0.1:0",
        client=client,
        staff_address=stack.staff_address,
        task_queue=task_queue,
    )
    worker = build_worker(
        client, staff=stack.staff, finance=stack.finance, notify=stack.notify, task_queue=task_queue
    )
    async with worker, grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
        yield GatewayServiceStub(channel)
    await running.stop(grace=0)


def as_user(user: str) -> tuple[tuple[str, str], ...]:
    return (("x-csd-user", user),)


def start_request(reference: str, **changes: str) -> G.StartAssistanceRequest:
    fields = {
        "reference": reference,
        "target_department": "testing",
        "subject": "Need a regression run on 5.2.1",
        "description": "The hospital upgrades on Friday; we need testing to confirm the patch.",
    }
    fields.update(changes)
    return G.StartAssistanceRequest(**fields)


def new_reference() -> str:
    return f"XA-{uuid.uuid4().hex[:10]}"


async def test_xa1_through_the_gateway(gateway: GatewayServiceStub, stack: Stack) -> None:
    reference = new_reference()
    ref = await gateway.StartAssistance(start_request(reference), metadata=as_user("liu.yang"))
    assert ref.workflow_id == f"assistance-{reference}"
    # The same reference again is the same request, not a second one.
    again = await gateway.StartAssistance(start_request(reference), metadata=as_user("liu.yang"))
    assert again.run_id == ref.run_id

    for _ in range(100):
        status = await gateway.GetAssistance(
            G.GetAssistanceRequest(reference=reference), metadata=as_user("liu.yang")
        )
        if status.stage == "awaiting_coordinator":
            break
    assert status.stage == "awaiting_coordinator"
    assert status.region_code == "east"  # defaulted to the requester's region
    assert status.requester_id == "liu.yang"

    accepted = await gateway.AcceptAssistance(
        G.AcceptAssistanceRequest(reference=reference, note="calling testing now"),
        metadata=as_user("shi.wenjun"),
    )
    assert accepted.stage == "coordinating"
    handed = await gateway.HandOffAssistance(
        G.HandOffAssistanceRequest(reference=reference, handed_to="testing: 林工"),
        metadata=as_user("shi.wenjun"),
    )
    assert handed.handed_to == "testing: 林工"
    closed = await gateway.CloseAssistance(
        G.CloseAssistanceRequest(reference=reference, resolution="Regression passed"),
        metadata=as_user("shi.wenjun"),
    )
    assert closed.stage == "closed"
    assert [e.stage for e in closed.history] == [
        "submitted",
        "coordinating",
        "handed_off",
        "closed",
    ]


async def test_identity_is_checked(gateway: GatewayServiceStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.StartAssistance(start_request(new_reference()))
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "x-csd-user" in (err.value.details() or "")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.StartAssistance(start_request(new_reference()), metadata=as_user("mallory"))
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.StartAssistance(
            start_request(new_reference(), requester_id="zhao.lei"), metadata=as_user("liu.yang")
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_only_the_coordinator_may_accept(gateway: GatewayServiceStub) -> None:
    reference = new_reference()
    await gateway.StartAssistance(start_request(reference), metadata=as_user("liu.yang"))
    for user in ("liu.yang", "wang.qiang", "huang.aiping"):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await gateway.AcceptAssistance(
                G.AcceptAssistanceRequest(reference=reference), metadata=as_user(user)
            )
        assert err.value.code() in (
            grpc.StatusCode.PERMISSION_DENIED,
            grpc.StatusCode.FAILED_PRECONDITION,
        )
    status = await gateway.GetAssistance(
        G.GetAssistanceRequest(reference=reference), metadata=as_user("liu.yang")
    )
    assert status.stage in ("submitted", "awaiting_coordinator")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.AcceptAssistance(
            G.AcceptAssistanceRequest(reference=reference), metadata=as_user("wang.qiang")
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "shi.wenjun" in (err.value.details() or "")


BAD_REQUESTS = [
    ("StartAssistance", start_request("bad reference!"), grpc.StatusCode.INVALID_ARGUMENT),
    (
        "StartAssistance",
        start_request(
            "",
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    ("StartAssistance", start_request("XA-ok-1", subject=" "), grpc.StatusCode.INVALID_ARGUMENT),
    ("StartAssistance", start_request("XA-ok-2", description=""), grpc.StatusCode.INVALID_ARGUMENT),
    (
        "StartAssistance",
        start_request("XA-ok-3", target_department=""),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    ("StartAssistance", start_request("XA-ok-4", region_code="mars"), grpc.StatusCode.NOT_FOUND),
    (
        "StartAssistance",
        start_request("XA-ok-5", description="x" * 10_001),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "AcceptAssistance",
        G.AcceptAssistanceRequest(reference="XA-missing"),
        grpc.StatusCode.NOT_FOUND,
    ),
    ("AcceptAssistance", G.AcceptAssistanceRequest(reference=""), grpc.StatusCode.INVALID_ARGUMENT),
    (
        "HandOffAssistance",
        G.HandOffAssistanceRequest(reference="XA-missing", handed_to=""),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "CloseAssistance",
        G.CloseAssistanceRequest(reference="XA-missing", resolution=""),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "CloseAssistance",
        G.CloseAssistanceRequest(reference="XA-missing", resolution="done"),
        grpc.StatusCode.NOT_FOUND,
    ),
    ("GetAssistance", G.GetAssistanceRequest(reference="XA-missing"), grpc.StatusCode.NOT_FOUND),
]


@pytest.mark.parametrize(("rpc", "message", "code"), BAD_REQUESTS)
async def test_bad_input_gets_a_clear_status(
    gateway: GatewayServiceStub, rpc: str, message: object, code: grpc.StatusCode
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await getattr(gateway, rpc)(message, metadata=as_user("liu.yang"))
    assert err.value.code() == code
    assert err.value.details() and "Traceback" not in err.value.details()
