"""The gateway over real gRPC: identity, input checks and XA-1 through Temporal."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import grpc
import pytest
from csd.finance.v1 import finance_pb2
from csd.finance.v1.finance_pb2_grpc import FinanceServiceStub
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


async def _fines(stack: Stack, person_id: str) -> list[finance_pb2.LedgerEntry]:
    response = await FinanceServiceStub(stack.finance).ListEntries(
        finance_pb2.ListEntriesRequest(person_id=person_id, kind=finance_pb2.ENTRY_KIND_FINE)
    )
    return list(response.entries)


async def _until_fined(stack: Stack, person_id: str, count: int) -> list[finance_pb2.LedgerEntry]:
    for _ in range(200):
        fines = await _fines(stack, person_id)
        if len(fines) >= count:
            return fines
        await asyncio.sleep(0.05)
    raise AssertionError(f"{person_id} has {len(fines)} fines, expected {count}")


async def test_bypassing_xa1_is_fined_once_per_case(
    gateway: GatewayServiceStub, stack: Stack
) -> None:
    report = G.ReportAssistanceBypassRequest(
        reference="RND-ticket-88",
        person_id="sun.hao",
        occurred_on="2026-11-03",
        description="Asked testing directly for a hotfix build",
    )
    penalty = await gateway.ReportAssistanceBypass(report, metadata=as_user("chen.jing"))
    assert (penalty.rule_id, penalty.amount_fen, penalty.region_code, penalty.month) == (
        "XA-1",
        5000,
        "north",
        "2026-11",
    )
    assert penalty.rule_version == "2024-v1"
    fines = await _until_fined(stack, "sun.hao", 1)
    # Reported again, by a department manager this time: the same case, the same single fine.
    again = await gateway.ReportAssistanceBypass(report, metadata=as_user("huang.aiping"))
    assert again.workflow_id == penalty.workflow_id
    await asyncio.sleep(0.5)
    assert await _fines(stack, "sun.hao") == fines
    assert fines[0].reason == "Asked testing directly for a hotfix build"


async def test_department_wide_staff_are_fined_in_the_head_office_ledger(
    gateway: GatewayServiceStub, stack: Stack
) -> None:
    penalty = await gateway.ReportAssistanceBypass(
        G.ReportAssistanceBypassRequest(
            reference="RND-90", person_id="gao.lei", description="Went to R&D directly"
        ),
        metadata=as_user("chen.jing"),
    )
    assert penalty.region_code == "head-office"
    await _until_fined(stack, "gao.lei", 1)


BAD_BYPASS_REPORTS = [
    (
        "liu.yang",
        G.ReportAssistanceBypassRequest(reference="R1", person_id="zhao.lei", description="x"),
        grpc.StatusCode.PERMISSION_DENIED,
    ),
    (
        "shi.wenjun",
        G.ReportAssistanceBypassRequest(reference="R1", person_id="zhao.lei", description="x"),
        grpc.StatusCode.PERMISSION_DENIED,
    ),
    (
        "chen.jing",
        G.ReportAssistanceBypassRequest(reference="R 1", person_id="zhao.lei", description="x"),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "chen.jing",
        G.ReportAssistanceBypassRequest(reference="R1", person_id="", description="x"),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "chen.jing",
        G.ReportAssistanceBypassRequest(reference="R1", person_id="ghost", description="x"),
        grpc.StatusCode.NOT_FOUND,
    ),
    (
        "chen.jing",
        G.ReportAssistanceBypassRequest(reference="R1", person_id="zhao.lei", description=" "),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "chen.jing",
        G.ReportAssistanceBypassRequest(
            reference="R1", person_id="zhao.lei", description="x", occurred_on="2099-01-01"
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "chen.jing",
        G.ReportAssistanceBypassRequest(
            reference="R1", person_id="zhao.lei", description="x", occurred_on="01/02/2026"
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    # EF-1: before the regulation took effect there was no rule to break.
    (
        "chen.jing",
        G.ReportAssistanceBypassRequest(
            reference="R1", person_id="zhao.lei", description="x", occurred_on="2024-03-31"
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    ),
]


@pytest.mark.parametrize(("user", "message", "code"), BAD_BYPASS_REPORTS)
async def test_bad_bypass_reports_are_refused_and_fine_nobody(
    gateway: GatewayServiceStub,
    stack: Stack,
    user: str,
    message: G.ReportAssistanceBypassRequest,
    code: grpc.StatusCode,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.ReportAssistanceBypass(message, metadata=as_user(user))
    assert err.value.code() == code
    assert err.value.details()
    await asyncio.sleep(0.2)
    assert await _fines(stack, "zhao.lei") == []
