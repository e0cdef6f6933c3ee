"""The gateway over real gRPC: identity, input checks and XA-1 through Temporal."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import grpc
import pytest
from csd.finance.v1 import finance_pb2
from csd.finance.v1.finance_pb2_grpc import FinanceServiceStub
from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub
from csd.staff.v1.staff_pb2_grpc import StaffServiceStub
from temporalio.client import Client
from temporalio.service import RetryConfig
from temporalio.testing import WorkflowEnvironment

from services.gateway import server as gateway_server
from services.gateway.penalties import PenaltyGateway
from services.runtime.errors import Unavailable
from services.runtime.server import RunningServer
from tests.ports import free_port
from tests.stack import Stack
from workflows.regulation import texts
from workflows.regulation.texts import TEXT as MAX_NOTE

NO_WORKER_TIMEOUT = timedelta(seconds=1)


@pytest.fixture
async def gateway_without_worker(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> AsyncIterator[GatewayServiceStub]:
    """A gateway whose task queue no worker polls, waiting a second for one."""
    running = await gateway_server.start(
        authentication=gateway_server.dev_authentication,
        address="127.0.0.1:0",
        client=time_skipping_env.client,
        staff_address=stack.staff_address,
        finance_address=stack.finance_address,
        task_queue=task_queue,
        temporal_timeout=NO_WORKER_TIMEOUT,
    )
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            yield GatewayServiceStub(channel)
    finally:
        await running.stop(grace=0)


def unused_address() -> str:
    return f"127.0.0.1:{free_port()}"


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
    # The case's own clock and its delivery record travel with every reply.
    assert status.sla_state == "ok" and list(status.notices) == []
    [acceptance] = status.slas
    assert acceptance.name == "acceptance" and "within 24 hours" in acceptance.promise
    assert acceptance.warn_at.endswith("+08:00")

    accepted = await gateway.AcceptAssistance(
        G.AcceptAssistanceRequest(reference=reference, note="calling testing now"),
        metadata=as_user("shi.wenjun"),
    )
    assert accepted.stage == "coordinating" and accepted.sla_state == "met"
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


async def test_a_reference_names_one_request_for_good(
    gateway: GatewayServiceStub, time_skipping_env: WorkflowEnvironment
) -> None:
    reference = new_reference()
    first = await gateway.StartAssistance(start_request(reference), metadata=as_user("liu.yang"))
    conflicts = [
        ("liu.yang", start_request(reference, description="Something else entirely")),
        ("liu.yang", start_request(reference, target_department="sales")),
        ("zhao.lei", start_request(reference)),  # another requester
    ]
    for user, request in conflicts:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await gateway.StartAssistance(request, metadata=as_user(user))
        assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert f"reference {reference} is already used for a different request" in (
            err.value.details() or ""
        )

    # Closed, the reference still names that request: a retry gets the same answer.
    await gateway.AcceptAssistance(
        G.AcceptAssistanceRequest(reference=reference), metadata=as_user("shi.wenjun")
    )
    await gateway.CloseAssistance(
        G.CloseAssistanceRequest(reference=reference, resolution="done"),
        metadata=as_user("shi.wenjun"),
    )
    await time_skipping_env.client.get_workflow_handle(first.workflow_id).result()
    again = await gateway.StartAssistance(start_request(reference), metadata=as_user("liu.yang"))
    assert (again.workflow_id, again.run_id) == (first.workflow_id, first.run_id)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await gateway.StartAssistance(conflicts[0][1], metadata=as_user("liu.yang"))
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_without_a_worker_calls_answer_unavailable_instead_of_hanging(
    gateway_without_worker: GatewayServiceStub, time_skipping_env: WorkflowEnvironment
) -> None:
    gateway = gateway_without_worker
    reference = new_reference()
    # Starting needs no worker: Temporal keeps the request until one polls.
    ref = await gateway.StartAssistance(start_request(reference), metadata=as_user("liu.yang"))
    calls = [
        gateway.GetAssistance(
            G.GetAssistanceRequest(reference=reference), metadata=as_user("liu.yang")
        ),
        gateway.AcceptAssistance(
            G.AcceptAssistanceRequest(reference=reference), metadata=as_user("shi.wenjun")
        ),
    ]
    began = time.monotonic()
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    assert time.monotonic() - began < 10
    for outcome in outcomes:
        assert isinstance(outcome, grpc.aio.AioRpcError), outcome
        assert outcome.code() == grpc.StatusCode.UNAVAILABLE
        assert "no worker answered" in (outcome.details() or "")
        assert "retry later" in (outcome.details() or "")
    await time_skipping_env.client.get_workflow_handle(ref.workflow_id).terminate("test over")


async def test_temporal_down_is_unavailable(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    target = own_time_skipping_env.client.service_client.config.target_host
    # Few retries, so the outage shows in a second rather than the default ten.
    client = await Client.connect(
        target, retry_config=RetryConfig(max_retries=2, max_elapsed_time_millis=1000)
    )
    running = await gateway_server.start(
        authentication=gateway_server.dev_authentication,
        address="127.0.0.1:0",
        client=client,
        staff_address=stack.staff_address,
        finance_address=stack.finance_address,
        task_queue=task_queue,
    )
    try:
        await own_time_skipping_env.shutdown()
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            gateway = GatewayServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await gateway.StartAssistance(
                    start_request(new_reference()), metadata=as_user("liu.yang")
                )
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE
            assert "Temporal is unavailable" in (err.value.details() or "")
            report = G.ReportAssistanceBypassRequest(
                reference="RND-down", person_id="sun.hao", description="Went to R&D directly"
            )
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await gateway.ReportAssistanceBypass(report, metadata=as_user("chen.jing"))
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        await running.stop(grace=0)


async def test_staff_down_is_unavailable(
    time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    staff_address = unused_address()
    running: RunningServer = await gateway_server.start(
        authentication=gateway_server.dev_authentication,
        address="127.0.0.1:0",
        client=time_skipping_env.client,
        staff_address=staff_address,
        finance_address=unused_address(),
        task_queue=task_queue,
    )
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await GatewayServiceStub(channel).StartAssistance(
                    start_request(new_reference()), metadata=as_user("liu.yang")
                )
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "the staff service cannot confirm who you are" in (err.value.details() or "")
    finally:
        await running.stop(grace=0)

    # Booking a department-wide person's fine asks the directory for the head office.
    async with grpc.aio.insecure_channel(staff_address) as channel:
        penalties = PenaltyGateway(time_skipping_env.client, StaffServiceStub(channel))
        with pytest.raises(Unavailable, match="cannot find the head office"):
            await penalties._head_office()


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
        start_request("XA-ok-6", subject="Two\nlines"),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "AcceptAssistance",
        G.AcceptAssistanceRequest(reference="XA-missing", note="x" * (MAX_NOTE + 1)),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "HandOffAssistance",
        G.HandOffAssistanceRequest(
            reference="XA-missing", handed_to="R&D", note="x" * (MAX_NOTE + 1)
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "HandOffAssistance",
        G.HandOffAssistanceRequest(reference="XA-missing", handed_to="x" * 201),
        grpc.StatusCode.INVALID_ARGUMENT,
    ),
    (
        "StartAssistance",
        start_request("XA-ok-5", description="x" * (texts.DOCUMENT + 1)),
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


async def test_a_bypass_reference_names_one_case(gateway: GatewayServiceStub, stack: Stack) -> None:
    reference = f"RND-{uuid.uuid4().hex[:8]}"
    report = G.ReportAssistanceBypassRequest(
        reference=reference,
        person_id="zhao.lei",
        occurred_on="2026-11-04",
        description="Asked R&D directly for a database fix",
    )
    first = await gateway.ReportAssistanceBypass(report, metadata=as_user("chen.jing"))
    fines = await _until_fined(stack, "zhao.lei", 1)
    for change in ({"person_id": "sun.hao"}, {"occurred_on": "2026-10-04"}):
        other = G.ReportAssistanceBypassRequest()
        other.CopyFrom(report)
        for field, value in change.items():
            setattr(other, field, value)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await gateway.ReportAssistanceBypass(other, metadata=as_user("chen.jing"))
        assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert f"reference {reference} is already used for a different request" in (
            err.value.details() or ""
        )
    # Reported again in other words, it is the same case: the first answer, the single fine.
    report.description = "Went straight to R&D"
    again = await gateway.ReportAssistanceBypass(report, metadata=as_user("chen.jing"))
    assert again == first
    await asyncio.sleep(0.5)
    assert await _fines(stack, "zhao.lei") == fines
    assert await _fines(stack, "sun.hao") == []


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
