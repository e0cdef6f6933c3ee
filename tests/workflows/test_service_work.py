"""SV-1 on the time-skipping server with the real services: the region's customer service
manager plans a hospital's inspection visits, each recorded by the project's engineer or the
region's managers, a missed one alerted once; a handover is signed once by each side."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from tests.stack import Stack
from tests.workflows.case_details import refused
from tests.workflows.recording import record_history
from workflows.handover import SIGNED, HandoverInput, HandoverWorkflow, SignInput
from workflows.handover import workflow_id as handover_id
from workflows.regulation import shown
from workflows.service_plan import (
    DONE,
    ServicePlanInput,
    ServicePlanStatus,
    ServicePlanWorkflow,
    VisitInput,
)


def plan(today: str, *later: str, by: str = "li.na") -> ServicePlanInput:
    return ServicePlanInput(
        "inspection", "sh-first-hospital", "上海第一醫院", "east", "zhao.lei", by,
        int(today[:4]), [today, *later], "quarterly server room check", "2024-v1",
    )  # fmt: skip


async def _ready(handle: WorkflowHandle[Any, Any]) -> ServicePlanStatus:
    for _ in range(200):
        status: ServicePlanStatus = await handle.query(ServicePlanWorkflow.status)
        if status.recorders and len(status.slas) == len(status.visits):
            return status
        await asyncio.sleep(0.05)
    raise AssertionError("never planned")


async def test_an_inspection_plan_is_recorded_visit_by_visit(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = time_skipping_env
    today = shown(await env.get_current_time())[:10]
    async with stack.worker(env.client, task_queue):
        handle = await env.client.start_workflow(
            ServicePlanWorkflow.run, plan(today), id=f"sv1-{task_queue}", task_queue=task_queue
        )
        await _ready(handle)
        record = ServicePlanWorkflow.record_visit
        assert "the project's engineer and the region's managers" in await refused(
            handle, record, VisitInput("sun.hao", today, "all fine")
        )
        assert "not a planned visit" in await refused(
            handle, record, VisitInput("zhao.lei", f"{today[:4]}-01-01", "x")
        ) or today.endswith("-01-01")
        await handle.execute_update(record, VisitInput("zhao.lei", today, "UPS battery at 60%"))
        assert "recorded already" in await refused(
            handle, record, VisitInput("wang.qiang", today, "again")
        )
        result: ServicePlanStatus = await handle.result()
        await record_history(handle, "service_plan_done")
    assert result.stage == DONE and result.visits[0].findings == "UPS battery at 60%"
    assert [s.state for s in result.slas] == ["met"]


async def test_a_missed_visit_alerts_the_regions_managers_once(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = own_time_skipping_env
    today = shown(await env.get_current_time())[:10]
    async with stack.worker(env.client, task_queue):
        handle = await env.client.start_workflow(
            ServicePlanWorkflow.run, plan(today), id=f"sv1-{task_queue}", task_queue=task_queue
        )
        await _ready(handle)
        await env.sleep(timedelta(days=6))  # past the end of the next working day
        alert = await stack.mail.wait_for(lambda m: "SLA breach" in str(m["Subject"]), 10)
        assert "wang.qiang@csd.example" in str(alert["To"])
        await env.sleep(timedelta(days=3))
        assert len([m for m in stack.mail.messages if "SLA breach" in str(m["Subject"])]) == 1
        await handle.terminate("test over")


async def test_only_the_regions_csm_makes_a_plan(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = time_skipping_env
    today = shown(await env.get_current_time())[:10]
    async with stack.worker(env.client, task_queue):
        with pytest.raises(WorkflowFailureError) as err:
            await env.client.execute_workflow(
                ServicePlanWorkflow.run, plan(today, by="zhao.lei"), id=f"sv1-{task_queue}",
                task_queue=task_queue,
            )  # fmt: skip
    cause = err.value.cause
    assert isinstance(cause, ApplicationError) and "(SV-1)" in cause.message


async def test_a_handover_is_signed_once_by_each_side(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = time_skipping_env
    reference = f"HO-{uuid.uuid4().hex[:8]}"
    handover = HandoverInput(
        reference, "sh-renji", "east", "wang.qiang", "liu.yang",
        ["server passwords", "interface list", "open issues"], "li.na", "2024-v1",
    )  # fmt: skip
    async with stack.worker(env.client, task_queue):
        handle = await env.client.start_workflow(
            HandoverWorkflow.run, handover, id=handover_id(reference), task_queue=task_queue
        )
        await stack.mail.wait_for(lambda m: "to sign" in str(m["Subject"]))
        sign = HandoverWorkflow.sign
        assert "(SV-1)" in await refused(handle, sign, SignInput("zhao.lei"))
        await handle.execute_update(sign, SignInput("wang.qiang", "all handed over"))
        assert "each side signs once" in await refused(handle, sign, SignInput("wang.qiang"))
        await handle.execute_update(sign, SignInput("liu.yang"))
        result = await handle.result()
        await record_history(handle, "handover_signed")
    assert result.stage == SIGNED and set(result.signed) == {"handing_over", "taking_over"}
