"""PAY-3's disputed rate on the time-skipping server with the real services: a department
manager asks, only the vice-president in charge decides, and an approved rate is what the month's
statement pays for the days at that tier; a refusal says why; a month settled meanwhile is not
changed, and the case says so."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from csd.finance.v1 import finance_pb2 as F
from temporalio.client import WorkflowFailureError, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from tests.services.finance.test_settlement_rpc import JUNE, PERSON, _month
from tests.stack import Stack
from tests.workflows.recording import record_history
from workflows.decision import DecisionInput
from workflows.rate_adjustment import (
    APPLIED,
    AWAITING_APPROVAL,
    NOT_APPLIED,
    REFUSED,
    RateAdjustmentRequest,
    RateAdjustmentStatus,
    RateAdjustmentWorkflow,
    workflow_id,
)

VICE_PRESIDENT = "zheng.hua"


def asked(requested_by: str = "huang.aiping") -> RateAdjustmentRequest:
    return RateAdjustmentRequest(
        f"RATE-{uuid.uuid4().hex[:8]}", PERSON, "2026-06", "1", 65_00, requested_by,
        "the hospital is in the city centre", "2024-v1",
    )  # fmt: skip


async def _waiting(
    env: WorkflowEnvironment, task_queue: str, input: RateAdjustmentRequest
) -> WorkflowHandle[Any, Any]:
    handle = await env.client.start_workflow(
        RateAdjustmentWorkflow.run, input, id=workflow_id(input.reference), task_queue=task_queue
    )
    for _ in range(200):
        status: RateAdjustmentStatus = await handle.query(RateAdjustmentWorkflow.status)
        if status.stage == AWAITING_APPROVAL and status.deciders:
            return handle
        await asyncio.sleep(0.05)
    raise AssertionError("never waiting")


def _refusal(err: pytest.ExceptionInfo[WorkflowUpdateFailedError]) -> str:
    cause = err.value.cause
    assert isinstance(cause, ApplicationError)
    return cause.message


async def test_an_approved_rate_is_what_the_month_pays(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    finance = await _month(stack)
    async with stack.worker(time_skipping_env.client, task_queue):
        handle = await _waiting(time_skipping_env, task_queue, asked())
        mail = await stack.mail.wait_for(
            lambda m: "A disputed rate to approve" in str(m["Subject"])
        )
        assert f"{VICE_PRESIDENT}@csd.example" in str(mail["To"])
        # The executive team approves salaries, not rates; a refusal needs its reason.
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await handle.execute_update(
                RateAdjustmentWorkflow.decide, DecisionInput("zhou.guoqiang", True)
            )
        assert "the vice-president in charge does" in _refusal(err)
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await handle.execute_update(
                RateAdjustmentWorkflow.decide, DecisionInput(VICE_PRESIDENT, False)
            )
        assert "say why it is refused" in _refusal(err)
        await handle.execute_update(
            RateAdjustmentWorkflow.decide, DecisionInput(VICE_PRESIDENT, True)
        )
        result: RateAdjustmentStatus = await handle.result()
        await record_history(handle, "rate_adjustment_applied")
    assert result.stage == APPLIED and result.decided_by == VICE_PRESIDENT
    statement = await finance.GetSettlement(
        F.GetSettlementRequest(person_id=PERSON, month="2026-06")
    )
    [travel] = [line for line in statement.lines if line.item == "travel_allowance"]
    assert travel.amount_fen == len(JUNE) * 65_00  # instead of the table's 55 a day
    assert "rate adjusted" in travel.words


async def test_a_refusal_says_why_and_changes_nothing(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    finance = await _month(stack)
    async with stack.worker(time_skipping_env.client, task_queue):
        handle = await _waiting(time_skipping_env, task_queue, asked())
        await handle.execute_update(
            RateAdjustmentWorkflow.decide,
            DecisionInput(VICE_PRESIDENT, False, "the table's tier is right"),
        )
        result: RateAdjustmentStatus = await handle.result()
        mail = await stack.mail.wait_for(lambda m: "Disputed rate refused" in str(m["Subject"]))
    assert result.stage == REFUSED and "the table's tier is right" in mail.get_content()
    statement = await finance.GetSettlement(
        F.GetSettlementRequest(person_id=PERSON, month="2026-06")
    )
    [travel] = [line for line in statement.lines if line.item == "travel_allowance"]
    assert travel.amount_fen == len(JUNE) * 55_00


async def test_a_month_settled_before_the_approval_is_not_changed(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    finance = await _month(stack)
    async with stack.worker(time_skipping_env.client, task_queue):
        handle = await _waiting(time_skipping_env, task_queue, asked())
        settled = await finance.SettleMonth(
            F.SettleMonthRequest(idempotency_key="june", person_id=PERSON, month="2026-06",
                                 region_code="east", settled_by="chen.jing")
        )  # fmt: skip
        await handle.execute_update(
            RateAdjustmentWorkflow.decide, DecisionInput(VICE_PRESIDENT, True)
        )
        result: RateAdjustmentStatus = await handle.result()
    assert result.stage == NOT_APPLIED and "is settled" in result.outcome
    after = await finance.GetSettlement(F.GetSettlementRequest(person_id=PERSON, month="2026-06"))
    assert after == settled


async def test_only_a_department_manager_asks(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    await _month(stack)
    async with stack.worker(time_skipping_env.client, task_queue):
        with pytest.raises(WorkflowFailureError) as err:
            await time_skipping_env.client.execute_workflow(
                RateAdjustmentWorkflow.run,
                asked(requested_by="wang.qiang"),
                id=f"rate-adjustment-{task_queue}",
                task_queue=task_queue,
            )
    cause = err.value.cause
    assert isinstance(cause, ApplicationError) and "a department manager does" in cause.message
