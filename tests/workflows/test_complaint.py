"""CS-1 on the time-skipping server with the real services: a complaint is registered, assigned
by the region's customer service manager, closed by its assignee, a serious one only once
analysed; left open past its severity's working-hours budget, the breach is alerted once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

from temporalio.testing import WorkflowEnvironment

from tests.stack import Stack
from tests.workflows.case_details import refused
from tests.workflows.recording import record_history
from workflows.complaint import (
    CLOSED,
    REGISTERED,
    AssignInput,
    CloseInput,
    ComplaintInput,
    ComplaintStatus,
    ComplaintWorkflow,
    workflow_id,
)


def complaint(severity: str = "serious") -> ComplaintInput:
    return ComplaintInput(
        f"CS-{uuid.uuid4().hex[:8]}", "上海第一醫院", "east", severity,
        "the nursing notes of ward 5 were unavailable for an hour", "zhao.lei", "2024-v1",
    )  # fmt: skip


async def _registered(env: WorkflowEnvironment, task_queue: str, input: ComplaintInput) -> Any:
    handle = await env.client.start_workflow(
        ComplaintWorkflow.run, input, id=workflow_id(input.reference), task_queue=task_queue
    )
    for _ in range(200):
        status: ComplaintStatus = await handle.query(ComplaintWorkflow.status)
        if status.stage == REGISTERED and status.owners and status.slas:
            return handle
        await asyncio.sleep(0.05)
    raise AssertionError("never registered")


async def test_a_serious_complaint_is_assigned_analysed_and_closed(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = time_skipping_env
    async with stack.worker(env.client, task_queue):
        handle = await _registered(env, task_queue, complaint())
        mail = await stack.mail.wait_for(lambda m: "complaint to assign" in str(m["Subject"]))
        assert {"li.na@csd.example", "huang.aiping@csd.example"} <= set(
            str(mail["To"]).replace(" ", "").split(",")
        )
        close = CloseInput("liu.yang", "the ward's server restarted")
        assert "assign it first (CS-1)" in await refused(handle, ComplaintWorkflow.close, close)
        words = await refused(handle, ComplaintWorkflow.assign, AssignInput("zhao.lei", "liu.yang"))
        assert "the region's customer service manager or a department manager" in words
        await handle.execute_update(ComplaintWorkflow.assign, AssignInput("li.na", "liu.yang"))
        await stack.mail.wait_for(lambda m: "A complaint assigned to you" in str(m["Subject"]))
        words = await refused(handle, ComplaintWorkflow.close, close)
        assert "analysed before it closes (CS-1)" in words
        words = await refused(
            handle, ComplaintWorkflow.close, CloseInput("sun.hao", "not mine", "x", "y")
        )
        assert "its assignee" in words
        await handle.execute_update(
            ComplaintWorkflow.close,
            CloseInput(
                "liu.yang", "the ward's server restarted", "a full disk", "disk alerts at 80%"
            ),
        )
        result: ComplaintStatus = await handle.result()
        await record_history(handle, "complaint_serious_closed")
    assert result.stage == CLOSED and result.root_cause == "a full disk"
    assert [s.state for s in result.slas] == ["met"]


async def test_a_complaint_left_open_past_its_budget_is_alerted_once(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = own_time_skipping_env
    async with stack.worker(env.client, task_queue):
        handle = await _registered(env, task_queue, complaint("minor"))
        await env.sleep(timedelta(days=14))  # 40 working hours are at most about 8 days
        alert = await stack.mail.wait_for(lambda m: "SLA breach" in str(m["Subject"]), 10)
        assert "li.na@csd.example" in str(alert["To"])
        await env.sleep(timedelta(days=7))
        breaches = [m for m in stack.mail.messages if "SLA breach" in str(m["Subject"])]
        assert len(breaches) == 1
        status: ComplaintStatus = await handle.query(ComplaintWorkflow.status)
        assert status.sla_state == "breached"
        await handle.terminate("test over")
