"""XA-1 on the time-skipping test server, against the real staff and notify services."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from temporalio.client import (
    Client,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.stack import Stack
from tests.workflows.case_details import current_details
from tests.workflows.recording import record_history
from workflows import search_attributes
from workflows.assistance import (
    AWAITING_COORDINATOR,
    CLOSED,
    COORDINATING,
    HANDED_OFF,
    MAX_HAND_OFFS,
    AcceptInput,
    AssistanceInput,
    AssistanceStatus,
    AssistanceWorkflow,
    CloseInput,
    HandOffInput,
    workflow_id,
)
from workflows.regulation import texts


def request(reference: str) -> AssistanceInput:
    return AssistanceInput(
        reference=reference,
        requester_id="zhao.lei",
        region_code="east",
        target_department="rnd",
        subject="Ward report export times out",
        description="Exporting the ward report at 上海第一醫院 times out after 30 s.",
        rule_version="2024-v1",
    )


def worker_for(client: Client, stack: Stack, task_queue: str) -> Worker:
    return stack.worker(client, task_queue)


async def start(
    client: Client, task_queue: str, reference: str | None = None, **changes: str
) -> WorkflowHandle[AssistanceWorkflow, AssistanceStatus]:
    reference = reference or f"XA-{uuid.uuid4().hex[:8]}"
    return await client.start_workflow(
        AssistanceWorkflow.run,
        replace(request(reference), **changes),
        id=workflow_id(reference),
        task_queue=task_queue,
    )


async def sla_state(handle: WorkflowHandle[AssistanceWorkflow, AssistanceStatus]) -> str | None:
    description = await handle.describe()
    return description.typed_search_attributes.get(search_attributes.SLA_STATE)


async def stage_becomes(
    handle: WorkflowHandle[AssistanceWorkflow, AssistanceStatus], stage: str
) -> AssistanceStatus:
    for _ in range(200):
        status = await handle.query(AssistanceWorkflow.status)
        if status.stage == stage:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"stage stayed {status.stage}, expected {stage}")


async def awaiting_coordinator(
    handle: WorkflowHandle[AssistanceWorkflow, AssistanceStatus], stack: Stack
) -> AssistanceStatus:
    """Routed, and the announcement delivered: no activity is left in flight.

    An activity still in flight when a test ends would hold the shared time-skipping server's
    clock for the tests after it.
    """
    status = await stage_becomes(handle, AWAITING_COORDINATOR)
    await stack.mail.wait_for(lambda m: f"[XA-1 {status.reference}]" in str(m["Subject"]), 10)
    return status


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


def mails_about(stack: Stack, reference: str) -> list[str]:
    return [m["Subject"] for m in stack.mail.messages if reference in str(m["Subject"])]


async def test_request_is_routed_to_the_assistant_and_closed_by_them(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    client = time_skipping_env.client
    async with worker_for(client, stack, task_queue):
        handle = await start(client, task_queue, "XA-HAPPY")
        status = await stage_becomes(handle, AWAITING_COORDINATOR)
        assert status.coordinator_id == "shi.wenjun"
        assert sorted(status.cc_ids) == ["li.na", "wang.qiang"]

        status = await handle.execute_update(
            AssistanceWorkflow.accept, AcceptInput(actor_id="shi.wenjun", note="on it")
        )
        assert status.stage == COORDINATING
        status = await handle.execute_update(
            AssistanceWorkflow.hand_off, HandOffInput(actor_id="shi.wenjun", handed_to="R&D: 葉凱")
        )
        assert status.stage == HANDED_OFF
        await handle.execute_update(
            AssistanceWorkflow.close, CloseInput(actor_id="shi.wenjun", resolution="Index added")
        )
        result = await handle.result()

    assert result.stage == CLOSED
    assert [e.kind for e in result.history] == ["submitted", COORDINATING, HANDED_OFF, CLOSED]
    assert all(e.at.endswith("+08:00") for e in result.history)
    [acceptance] = result.slas
    assert acceptance.state == "met" and acceptance.warn_at.endswith("+08:00")
    await until(lambda: len(mails_about(stack, "XA-HAPPY")) >= 4)
    first = next(m for m in stack.mail.messages if "XA-HAPPY" in str(m["Subject"]))
    assert first["To"] == "shi.wenjun@csd.example"
    assert set(str(first["Cc"]).replace(" ", "").split(",")) == {
        "wang.qiang@csd.example",
        "li.na@csd.example",
        "zhao.lei@csd.example",
    }
    assert len(mails_about(stack, "XA-HAPPY")) == 4

    await record_history(handle, "assistance_happy_path")


@pytest.mark.parametrize(
    ("actor", "update", "error_type"),
    [
        (
            "wang.qiang",
            "accept",
            "PERMISSION_DENIED",
        ),  # a regional manager is copied, not the coordinator
        ("zhao.lei", "accept", "PERMISSION_DENIED"),  # nor is the requester
        ("shi.wenjun", "close", "FAILED_PRECONDITION"),  # cannot close before accepting
        ("shi.wenjun", "hand_off", "FAILED_PRECONDITION"),
    ],
)
async def test_only_the_coordinator_moves_the_request_in_order(
    time_skipping_env: WorkflowEnvironment,
    stack: Stack,
    task_queue: str,
    actor: str,
    update: str,
    error_type: str,
) -> None:
    client = time_skipping_env.client
    async with worker_for(client, stack, task_queue):
        handle = await start(client, task_queue)
        await awaiting_coordinator(handle, stack)
        inputs = {
            "accept": (AssistanceWorkflow.accept, AcceptInput(actor_id=actor)),
            "hand_off": (AssistanceWorkflow.hand_off, HandOffInput(actor_id=actor, handed_to="x")),
            "close": (AssistanceWorkflow.close, CloseInput(actor_id=actor, resolution="done")),
        }
        method, argument = inputs[update]
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await handle.execute_update(method, argument)  # type: ignore[arg-type]
        assert isinstance(err.value.cause, ApplicationError)
        assert err.value.cause.type == error_type
        status = await handle.query(AssistanceWorkflow.status)
        assert status.stage == AWAITING_COORDINATOR
        assert len(status.history) == 1
        await handle.terminate("test over")


async def test_close_needs_a_resolution(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    client = time_skipping_env.client
    async with worker_for(client, stack, task_queue):
        handle = await start(client, task_queue)
        await awaiting_coordinator(handle, stack)
        status = await handle.execute_update(
            AssistanceWorkflow.accept, AcceptInput(actor_id="shi.wenjun")
        )
        await stack.mail.wait_for(
            lambda m: (
                f"{status.reference}] " in str(m["Subject"]) and "coordinating" in str(m["Subject"])
            ),
            10,
        )
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await handle.execute_update(
                AssistanceWorkflow.close, CloseInput(actor_id="shi.wenjun", resolution="  ")
            )
        assert isinstance(err.value.cause, ApplicationError)
        assert err.value.cause.type == "INVALID_ARGUMENT"
        await handle.terminate("test over")


async def test_unaccepted_request_reminds_the_coordinator_daily(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    time_skipping_env = own_time_skipping_env
    client = time_skipping_env.client
    reference = f"XA-REMIND-{uuid.uuid4().hex[:6]}"
    async with worker_for(client, stack, task_queue):
        handle = await start(client, task_queue, reference)
        await awaiting_coordinator(handle, stack)
        assert await sla_state(handle) == "ok"
        await time_skipping_env.sleep(timedelta(hours=23))
        assert not [s for s in mails_about(stack, reference) if "reminder" in s]
        await time_skipping_env.sleep(timedelta(hours=2))
        reminder = await stack.mail.wait_for(
            lambda m: reference in str(m["Subject"]) and "reminder" in str(m["Subject"]), 10
        )
        assert reminder["To"] == "shi.wenjun@csd.example"
        assert await sla_state(handle) == "warning"

        # Accepted late, but accepted: met, and met it stays to the end.
        await handle.execute_update(AssistanceWorkflow.accept, AcceptInput(actor_id="shi.wenjun"))
        assert await sla_state(handle) == "met"
        await handle.execute_update(
            AssistanceWorkflow.close, CloseInput(actor_id="shi.wenjun", resolution="Answered")
        )
        result = await handle.result()
        assert result.stage == CLOSED
        assert await sla_state(handle) == "met"
        await record_history(handle, "assistance_reminded")


@pytest.mark.faults
async def test_a_new_worker_finishes_what_a_stopped_one_left_waiting(
    dev_server_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    client = dev_server_env.client
    async with worker_for(client, stack, task_queue):
        handle = await start(client, task_queue)
        await awaiting_coordinator(handle, stack)
    # The first worker is gone; the request waits durably in Temporal.
    async with worker_for(client, stack, task_queue):
        await handle.execute_update(AssistanceWorkflow.accept, AcceptInput(actor_id="shi.wenjun"))
        await handle.execute_update(
            AssistanceWorkflow.close,
            CloseInput(actor_id="shi.wenjun", resolution="solved by phone"),
        )
        result = await handle.result()
    assert result.stage == CLOSED


async def test_an_unknown_rule_version_fails_the_request_instead_of_hanging(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    client = time_skipping_env.client
    async with worker_for(client, stack, task_queue):
        handle = await start(client, task_queue, rule_version="1999-v0")
        with pytest.raises(WorkflowFailureError) as err:
            await asyncio.wait_for(handle.result(), 20)
    assert isinstance(err.value.cause, ApplicationError)
    assert err.value.cause.type == "INVALID_ARGUMENT"
    assert err.value.cause.non_retryable
    assert "1999-v0" in err.value.cause.message


async def test_a_refused_email_is_noted_alerted_and_the_request_carries_on(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    client = time_skipping_env.client
    reference = f"XA-REFUSED-{uuid.uuid4().hex[:6]}"
    # The coordinator's mailbox does not exist: the SMTP server answers 550, so notify refuses
    # every mail to (or copying) her for good.
    stack.mail.refuse("shi.wenjun@csd.example")
    try:
        async with worker_for(client, stack, task_queue):
            handle = await start(client, task_queue, reference)
            status = await stage_becomes(handle, AWAITING_COORDINATOR)
            await until_noted(handle, 1)
            details = await current_details(handle)
            await handle.execute_update(
                AssistanceWorkflow.accept, AcceptInput(actor_id="shi.wenjun")
            )
            await handle.execute_update(
                AssistanceWorkflow.close, CloseInput(actor_id="shi.wenjun", resolution="By phone")
            )
            result = await asyncio.wait_for(handle.result(), 20)
            await record_history(handle, "assistance_email_refused")
    finally:
        stack.mail.refusals.clear()
    assert status.coordinator_id == "shi.wenjun"
    assert result.stage == CLOSED
    # The announcement to her and the closing mail copying her; the requester's mail went.
    assert len(result.notices) == 2
    assert result.notices[0].startswith('the email "submitted" to 施文君 was not sent')
    assert "no such mailbox" in result.notices[0]
    assert [e.kind for e in result.history].count("notice") == 2
    assert "Waiting for 施文君 to accept." in details
    assert 'Not delivered (1): the email "submitted" to 施文君 was not sent' in details
    subjects = mails_about(stack, reference)
    assert any("coordinating" in s for s in subjects)
    alerts = [
        m for m in stack.mail.messages
        if "a notification was refused" in str(m["Subject"]) and reference in str(m["Subject"])
    ]  # fmt: skip
    assert len(alerts) == 2
    assert alerts[0]["To"] == "zhou.xiaoming@csd.example"  # the technical service team lead
    assert 'the email "submitted" to 施文君 was not sent' in alerts[0].get_content()


async def until_noted(
    handle: WorkflowHandle[AssistanceWorkflow, AssistanceStatus], count: int
) -> None:
    for _ in range(200):
        if len((await handle.query(AssistanceWorkflow.status)).notices) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"fewer than {count} notices")


async def test_notes_and_hand_offs_are_bounded(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    client = time_skipping_env.client
    reference = f"XA-BOUND-{uuid.uuid4().hex[:6]}"
    async with worker_for(client, stack, task_queue):
        handle = await start(client, task_queue, reference)
        await awaiting_coordinator(handle, stack)
        refusals = [
            (AssistanceWorkflow.accept, AcceptInput("shi.wenjun", note="x" * (texts.TEXT + 1))),
        ]
        for method, argument in refusals:
            with pytest.raises(WorkflowUpdateFailedError) as err:
                await handle.execute_update(method, argument)
            assert isinstance(err.value.cause, ApplicationError)
            assert err.value.cause.type == "INVALID_ARGUMENT"
        await handle.execute_update(
            AssistanceWorkflow.accept, AcceptInput("shi.wenjun", note="x" * texts.TEXT)
        )
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await handle.execute_update(
                AssistanceWorkflow.hand_off,
                HandOffInput("shi.wenjun", handed_to="R&D", note="x" * (texts.TEXT + 1)),
            )
        assert isinstance(err.value.cause, ApplicationError)
        assert err.value.cause.type == "INVALID_ARGUMENT"

        for n in range(MAX_HAND_OFFS):
            await handle.execute_update(
                AssistanceWorkflow.hand_off, HandOffInput("shi.wenjun", handed_to=f"R&D {n}")
            )
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await handle.execute_update(
                AssistanceWorkflow.hand_off, HandOffInput("shi.wenjun", handed_to="R&D again")
            )
        assert isinstance(err.value.cause, ApplicationError)
        assert err.value.cause.type == "FAILED_PRECONDITION"
        # Closing is still possible, and every step announced: no activity left in flight.
        await handle.execute_update(
            AssistanceWorkflow.close, CloseInput("shi.wenjun", resolution="Done")
        )
        result = await asyncio.wait_for(handle.result(), 20)
    assert len(result.history) == 1 + 1 + MAX_HAND_OFFS + 1
