"""Major problems (MI-1..MI-3) on the time-skipping server, with the real services.

The owner in the demo organisation is the technical service team lead, so the escalation chain
is: the owner, then the department managers.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from tests.phone_gateway import PhoneGateway
from tests.stack import Stack
from tests.workflows.recording import record_history
from workflows.major_problem import (
    ACKNOWLEDGED,
    AWAITING_ACK,
    RESOLVED,
    AcknowledgeInput,
    MajorProblemInput,
    MajorProblemStatus,
    MajorProblemWorkflow,
    ResolveInput,
    StatusUpdateInput,
    workflow_id,
)

Handle = WorkflowHandle[MajorProblemWorkflow, MajorProblemStatus]
MANAGERS = {"huang.aiping@csd.example", "jiang.chengzhao@csd.example"}
CC = {
    "lu.bingqing", "ye.kai", "fan.haidong", "lin.gong", "zhang.bin", "pan.zhongdong",
    "huang.aiping", "jiang.chengzhao", "shi.wenjun", "wang.qiang", "li.na",
}  # fmt: skip


def report(reference: str = "MI-1") -> MajorProblemInput:
    return MajorProblemInput(
        reference=reference,
        reporter_id="zhao.lei",
        region_code="east",
        category="data_loss",
        hospital="上海第一醫院",
        product="EMR nursing module",
        description="Nursing notes of ward 5 saved between 02:00 and 02:40 are gone.",
        rule_version="2024-v1",
        evidence=["screenshot-0231.png", "db-audit-0240.log"],
    )


async def start(client: Client, task_queue: str, reference: str = "MI-1") -> Handle:
    return await client.start_workflow(
        MajorProblemWorkflow.run,
        report(reference),
        id=workflow_id(reference),
        task_queue=task_queue,
    )


def calls(stack: Stack) -> list[str]:
    if not stack.phone_log.exists():
        return []
    return [json.loads(line)["to"] for line in stack.phone_log.read_text().splitlines()]


def addresses(header: object) -> set[str]:
    return {a.strip() for a in str(header or "").split(",") if a.strip()}


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def awaiting_ack(handle: Handle, stack: Stack) -> MajorProblemStatus:
    for _ in range(200):
        status = await handle.query(MajorProblemWorkflow.status)
        if status.stage == AWAITING_ACK and status.calls:
            await until(lambda: len(calls(stack)) >= 1 and len(stack.mail.messages) >= 1)
            return status
        await asyncio.sleep(0.05)
    raise AssertionError("never started calling")


async def test_phone_and_email_at_once_then_acknowledged_and_resolved(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = own_time_skipping_env
    async with stack.worker(env.client, task_queue):
        handle = await start(env.client, task_queue)
        status = await awaiting_ack(handle, stack)
        assert status.owner_id == "zhou.xiaoming"
        # MI-2: a call to the owner AND the report form to the owner, cc everyone the rule names.
        assert calls(stack) == ["+86-139-0000-0006"]
        form = stack.mail.messages[0]
        assert addresses(form["To"]) == {"zhou.xiaoming@csd.example"}
        assert addresses(form["Cc"]) == {f"{p}@csd.example" for p in CC}
        body = form.get_content()
        for field in (
            "data loss",
            "上海第一醫院",
            "EMR nursing module",
            "ward 5",
            "db-audit-0240.log",
            "趙磊",
        ):
            assert field in body

        with pytest.raises(WorkflowUpdateFailedError) as err:
            await handle.execute_update(
                MajorProblemWorkflow.acknowledge, AcknowledgeInput("liu.yang")
            )
        assert (
            isinstance(err.value.cause, ApplicationError)
            and err.value.cause.type == "PERMISSION_DENIED"
        )
        await env.sleep(timedelta(minutes=5))
        acked = await handle.execute_update(
            MajorProblemWorkflow.acknowledge, AcknowledgeInput("zhou.xiaoming", "on it")
        )
        assert acked.stage == ACKNOWLEDGED
        await handle.execute_update(
            MajorProblemWorkflow.post_update,
            StatusUpdateInput("zhou.xiaoming", "restoring from the 02:00 backup"),
        )
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await handle.execute_update(
                MajorProblemWorkflow.resolve, ResolveInput("zhou.xiaoming", "", "restored")
            )
        assert (
            isinstance(err.value.cause, ApplicationError)
            and err.value.cause.type == "INVALID_ARGUMENT"
        )
        # Well past the acknowledgement budget: no more calls once acknowledged.
        await env.sleep(timedelta(hours=1))
        assert len(calls(stack)) == 1
        await handle.execute_update(
            MajorProblemWorkflow.resolve,
            ResolveInput(
                "zhou.xiaoming",
                "a failed index rebuild dropped rows",
                "restored; rebuild fixed in 5.2.3",
            ),
        )
        result = await handle.result()
        await record_history(handle, "major_problem_acknowledged_resolved")
    assert result.stage == RESOLVED
    assert [v.state for v in result.slas] == ["met", "met"]
    reporter_mails = [
        m for m in stack.mail.messages if addresses(m["To"]) == {"zhao.lei@csd.example"}
    ]
    assert [str(m["Subject"]).rsplit("— ", 1)[1] for m in reporter_mails] == [
        "acknowledged",
        "update",
        "resolved",
    ]
    # Exactly one email per recipient for the report form.
    forms = [m for m in stack.mail.messages if str(m["Subject"]).endswith("— report")]
    assert len(forms) == 1


async def test_no_acknowledgement_escalates_in_order_with_repeats(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = own_time_skipping_env
    async with stack.worker(env.client, task_queue):
        handle = await start(env.client, task_queue, "MI-2")
        await awaiting_ack(handle, stack)
        owner, huang, jiang = "+86-139-0000-0006", "+86-139-0000-0001", "+86-139-0000-0002"

        await env.sleep(timedelta(minutes=14))
        assert calls(stack) == [owner]
        await env.sleep(timedelta(minutes=2))  # 16 min: the owner is called again; SLA breached
        await until(lambda: len(calls(stack)) == 2)
        alert = await stack.mail.wait_for(lambda m: "SLA breach" in str(m["Subject"]), 10)
        assert addresses(alert["To"]) == MANAGERS | {"zhou.xiaoming@csd.example"}
        status = await handle.query(MajorProblemWorkflow.status)
        assert status.slas[0].state == "breached"
        # A department manager not yet called may not acknowledge.
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update(
                MajorProblemWorkflow.acknowledge, AcknowledgeInput("huang.aiping")
            )

        await env.sleep(timedelta(minutes=15))  # 31 min: the next level, the department managers
        await until(lambda: len(calls(stack)) == 4)
        assert sorted(calls(stack)[2:]) == sorted([huang, jiang])
        escalation = await stack.mail.wait_for(lambda m: "escalated" in str(m["Subject"]), 10)
        assert addresses(escalation["To"]) == MANAGERS
        await env.sleep(timedelta(minutes=15))  # 46 min: their second call
        await until(lambda: len(calls(stack)) == 6)
        await env.sleep(timedelta(hours=2))  # the chain is spent: no more calls
        assert len(calls(stack)) == 6
        status = await handle.query(MajorProblemWorkflow.status)
        assert status.calls == [
            "zhou.xiaoming#1", "zhou.xiaoming#2",
            "huang.aiping#1", "jiang.chengzhao#1", "huang.aiping#2", "jiang.chengzhao#2",
        ]  # fmt: skip
        # Now an escalation target may acknowledge.
        acked = await handle.execute_update(
            MajorProblemWorkflow.acknowledge, AcknowledgeInput("jiang.chengzhao")
        )
        assert acked.acknowledged_by == "jiang.chengzhao"
        breach_alerts = [
            m for m in stack.mail.messages if "acknowledgement SLA breach" in str(m["Subject"])
        ]
        assert len(breach_alerts) == 1
        await handle.terminate("test over")


async def test_acknowledged_but_unresolved_is_escalated_after_its_working_hours(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = own_time_skipping_env
    async with stack.worker(env.client, task_queue):
        handle = await start(env.client, task_queue, "MI-3")
        await awaiting_ack(handle, stack)
        await handle.execute_update(
            MajorProblemWorkflow.acknowledge, AcknowledgeInput("zhou.xiaoming")
        )
        status = await handle.query(MajorProblemWorkflow.status)
        resolution = status.slas[1]
        breach_at = datetime.fromisoformat(resolution.breach_at)
        warn_at = datetime.fromisoformat(resolution.warn_at)
        assert warn_at < breach_at
        now = await env.get_current_time()
        await env.sleep(breach_at - now - timedelta(minutes=1))
        assert not [m for m in stack.mail.messages if "resolution SLA breach" in str(m["Subject"])]
        await env.sleep(timedelta(minutes=2))
        alert = await stack.mail.wait_for(
            lambda m: "resolution SLA breach" in str(m["Subject"]), 10
        )
        assert addresses(alert["To"]) == MANAGERS | {"zhou.xiaoming@csd.example"}
        status = await handle.query(MajorProblemWorkflow.status)
        assert (status.stage, status.slas[1].state) == (ACKNOWLEDGED, "breached")
        await handle.terminate("test over")


@pytest.fixture
def phone_down_stack(
    phone_gateway_stack: tuple[Stack, PhoneGateway],
) -> tuple[Stack, PhoneGateway]:
    phone_gateway_stack[1].failures = 6  # the voice gateway refuses the first six attempts
    return phone_gateway_stack


@pytest.mark.faults
async def test_a_channel_down_is_retried_alone_and_nothing_is_sent_twice(
    own_time_skipping_env: WorkflowEnvironment,
    phone_down_stack: tuple[Stack, PhoneGateway],
    task_queue: str,
) -> None:
    env = own_time_skipping_env
    stack, gateway = phone_down_stack
    async with stack.worker(env.client, task_queue):
        handle = await start(env.client, task_queue, "MI-4")
        await until(lambda: len(stack.mail.messages) >= 1)
        # Skip through the retries' back-off: the phone stays down for a while.
        for _ in range(40):
            if len(gateway.requests) >= 7:
                break
            await env.sleep(timedelta(seconds=30))
            await asyncio.sleep(0.2)
        await until(lambda: len(gateway.requests) >= 7)
        await handle.execute_update(
            MajorProblemWorkflow.acknowledge, AcknowledgeInput("zhou.xiaoming")
        )
        await handle.terminate("test over")
    first_call = [
        r for r in gateway.requests if r.body["idempotency_key"] == "MI-4:call:zhou.xiaoming:1"
    ]
    assert len(first_call) == 7  # six refusals, then delivered once, under one key
    forms = [m for m in stack.mail.messages if str(m["Subject"]).endswith("— report")]
    assert len(forms) == 1  # the email went once while the phone kept failing


@pytest.mark.faults
async def test_a_worker_lost_between_the_call_and_the_email_sends_each_once(
    dev_server_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    client = dev_server_env.client
    port = stack.mail.port
    await stack.mail.stop()  # the mail server is down: the call goes out, the email cannot
    async with stack.worker(client, task_queue):
        handle = await start(client, task_queue, "MI-crash")
        await until(lambda: len(calls(stack)) == 1)
    # That worker is gone with the email still undelivered; a new one takes over.
    await stack.mail.start(port=port)
    async with stack.worker(client, task_queue):
        await until(
            lambda: any(str(m["Subject"]).endswith("— report") for m in stack.mail.messages),
            seconds=30,
        )
        await handle.execute_update(
            MajorProblemWorkflow.acknowledge, AcknowledgeInput("zhou.xiaoming")
        )
        await handle.terminate("test over")
    assert calls(stack) == ["+86-139-0000-0006"]
    forms = [m for m in stack.mail.messages if str(m["Subject"]).endswith("— report")]
    assert len(forms) == 1
