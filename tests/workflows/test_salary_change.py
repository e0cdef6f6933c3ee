"""PAY-1 on the time-skipping server with the real services: proposed by a department manager,
approved by the executive team only, executed by finance from its effective date (which the
month's statement then pays); a refusal says why and changes nothing."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from csd.finance.v1 import finance_pb2 as F
from csd.finance.v1.finance_pb2_grpc import FinanceServiceStub
from csd.staff.v1 import staff_pb2
from csd.staff.v1.staff_pb2_grpc import StaffServiceStub
from temporalio.client import WorkflowFailureError, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from tests.stack import Stack
from tests.workflows.recording import record_history
from workflows.decision import DecisionInput
from workflows.salary_change import (
    AWAITING_APPROVAL,
    EXECUTED,
    SalaryChangeInput,
    SalaryChangeStatus,
    SalaryChangeWorkflow,
    workflow_id,
)


async def _hire_executive(stack: Stack) -> str:
    await StaffServiceStub(stack.staff).UpsertPerson(
        staff_pb2.UpsertPersonRequest(
            idempotency_key="gm",
            person=staff_pb2.Person(
                id="gm.zhou", name="周總", email="gm.zhou@csd.example", phone="+86-139-0000-0001",
                role=staff_pb2.ROLE_EXECUTIVE, active=True,
            ),
        )
    )  # fmt: skip
    return "gm.zhou"


def proposal(proposed_by: str = "huang.aiping") -> SalaryChangeInput:
    return SalaryChangeInput(f"SAL-{uuid.uuid4().hex[:8]}", "zhao.lei", proposed_by, 9_000_00,
                             "2026-07-01", "a year of good work", "2024-v1")  # fmt: skip


async def _waiting(
    env: WorkflowEnvironment, task_queue: str, input: SalaryChangeInput
) -> WorkflowHandle[Any, Any]:
    handle = await env.client.start_workflow(
        SalaryChangeWorkflow.run, input, id=workflow_id(input.reference), task_queue=task_queue
    )
    for _ in range(200):
        status: SalaryChangeStatus = await handle.query(SalaryChangeWorkflow.status)
        if status.stage == AWAITING_APPROVAL and status.deciders:
            return handle
        await asyncio.sleep(0.05)
    raise AssertionError("never waiting")


async def test_a_salary_change_is_approved_by_the_executive_and_executed_by_finance(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    executive = await _hire_executive(stack)
    async with stack.worker(time_skipping_env.client, task_queue):
        handle = await _waiting(time_skipping_env, task_queue, proposal())
        mail = await stack.mail.wait_for(
            lambda m: "A salary change to approve" in str(m["Subject"])
        )
        assert "gm.zhou@csd.example" in str(mail["To"])
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await handle.execute_update(
                SalaryChangeWorkflow.decide, DecisionInput("jiang.chengzhao", True)
            )
        cause = err.value.cause
        assert (
            isinstance(cause, ApplicationError)
            and "the executive team does, and nobody their own case (PAY-1)" in cause.message
        )
        await handle.execute_update(SalaryChangeWorkflow.decide, DecisionInput(executive, True))
        result: SalaryChangeStatus = await handle.result()
        await record_history(handle, "salary_change_executed")
    assert result.stage == EXECUTED
    statement = await FinanceServiceStub(stack.finance).GetSettlement(
        F.GetSettlementRequest(person_id="zhao.lei", month="2026-07")
    )
    assert {line.item: line.amount_fen for line in statement.lines}["base_salary"] == 9_000_00
    await stack.mail.wait_for(lambda m: "Salary change executed" in str(m["Subject"]))


async def test_only_a_department_manager_proposes(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    await _hire_executive(stack)
    async with stack.worker(time_skipping_env.client, task_queue):
        input = proposal(proposed_by="wang.qiang")
        with pytest.raises(WorkflowFailureError) as err:
            await time_skipping_env.client.execute_workflow(
                SalaryChangeWorkflow.run,
                input,
                id=workflow_id(input.reference),
                task_queue=task_queue,
            )
    cause = err.value.cause
    assert (
        isinstance(cause, ApplicationError) and "a department manager does (PAY-1)" in cause.message
    )
