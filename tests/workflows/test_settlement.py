"""PAY-2's monthly settlement on the time-skipping server with the real services: every active
person's month settled once, its allowances booked to the person's region (ACC-1), the clerk
told; a second run settles nobody twice and says why; the planner plans it on the calendar."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from csd.finance.v1 import finance_pb2 as F
from csd.finance.v1.finance_pb2_grpc import FinanceServiceStub
from csd.staff.v1 import staff_pb2
from csd.staff.v1.staff_pb2_grpc import StaffServiceStub
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from tests.stack import Stack
from tests.workflows.recording import record_history
from workflows.cadence_planner import HORIZON, CadencePlannerWorkflow, PlanInput
from workflows.regulation import cadences
from workflows.settlement import (
    SETTLED,
    MonthlySettlementWorkflow,
    SettlementInput,
    SettlementStatus,
    month_before,
    workflow_id,
)

MONTH = "2026-05"


async def _active_people(stack: Stack) -> list[staff_pb2.Person]:
    listed = await StaffServiceStub(stack.staff).ListPeople(staff_pb2.ListPeopleRequest())
    return list(listed.people)


async def test_every_active_person_is_settled_once_and_the_clerk_is_told(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = time_skipping_env
    people = await _active_people(stack)
    now = await env.get_current_time()
    async with stack.worker(env.client, task_queue):
        handle = await env.client.start_workflow(
            MonthlySettlementWorkflow.run,
            SettlementInput(MONTH, now.isoformat(), "2024-v1"),
            id=f"{workflow_id(MONTH)}-{task_queue}",
            task_queue=task_queue,
        )
        result: SettlementStatus = await handle.result()
        await record_history(handle, "settlement_month_settled")
        mail = await stack.mail.wait_for(lambda m: "[PAY-2 settlement" in str(m["Subject"]))
        # A second run (an operator's, under another id) settles nobody again.
        again: SettlementStatus = await env.client.execute_workflow(
            MonthlySettlementWorkflow.run,
            SettlementInput(MONTH, now.isoformat(), "2024-v1"),
            id=f"{workflow_id(MONTH)}-again-{task_queue}",
            task_queue=task_queue,
        )

    assert result.stage == SETTLED and result.people == len(people)
    assert sorted(p.person_id for p in result.settled) == sorted(p.id for p in people)
    assert not result.refused
    assert "chen.jing@csd.example" in str(mail["To"])
    assert f"{len(people)} of {len(people)} settled" in str(mail["Subject"])

    finance = FinanceServiceStub(stack.finance)
    zhao = next(p for p in result.settled if p.person_id == "zhao.lei")
    assert zhao.region_code == "east" and zhao.allowances == 2  # communication and transport
    entries = (await finance.ListEntries(F.ListEntriesRequest(person_id="zhao.lei"))).entries
    assert sorted(e.rule_id for e in entries) == ["PAY-5", "PAY-6"]
    # Department-wide staff are booked to the head office.
    huang = next(p for p in result.settled if p.person_id == "huang.aiping")
    assert huang.region_code == "head-office"

    assert not again.settled and len(again.refused) == len(people)
    assert all("settled once (PAY-2)" in p.refusal for p in again.refused)
    assert (
        await finance.ListEntries(F.ListEntriesRequest(person_id="zhao.lei"))
    ).entries == entries


async def test_the_planner_plans_the_settlement_of_the_month_before(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = own_time_skipping_env
    async with stack.worker(env.client, task_queue):
        planned_at = await env.get_current_time()
        result = await env.client.execute_workflow(
            CadencePlannerWorkflow.run,
            PlanInput(cadences.PAY2),
            id="plan-pay2",
            task_queue=task_queue,
        )
        occurrence = datetime.fromisoformat(result.occurrence)
        assert 5 <= occurrence.day <= 12 and occurrence.hour == 10
        if not result.workflow_id:
            assert occurrence - planned_at > HORIZON - timedelta(days=1)
            return
        assert result.workflow_id == workflow_id(month_before(result.occurrence[:10]))
        settlement = env.client.get_workflow_handle_for(
            MonthlySettlementWorkflow.run, result.workflow_id
        )
        status = await settlement.query(MonthlySettlementWorkflow.status)
        # (The time-skipping server may already have moved the clock to its day.)
        assert status.month == month_before(result.occurrence[:10])
        assert status.at == result.occurrence
        await settlement.terminate("test over")


def test_the_month_before_crosses_the_year() -> None:
    assert month_before("2027-01-05") == "2026-12"
    assert month_before("2026-07-06") == "2026-06"


async def test_a_start_with_a_bad_month_fails_at_once(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    async with stack.worker(time_skipping_env.client, task_queue):
        with pytest.raises(WorkflowFailureError) as err:
            await time_skipping_env.client.execute_workflow(
                MonthlySettlementWorkflow.run,
                SettlementInput("2026-13", "2026-12-05T10:00:00+08:00", "2024-v1"),
                id=f"pay2-settlement-bad-{task_queue}",
                task_queue=task_queue,
            )
    cause = err.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "INVALID_ARGUMENT"
