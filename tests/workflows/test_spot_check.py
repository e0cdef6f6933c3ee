"""AT-3 and AT-4 on the time-skipping server, with the real services: a spot-check finding fines
the person and the region's technical service manager 200 each, counts the days as absence,
and absence reaching 3 days opens exactly one case for dismissal, which only a department
manager decides, with a reason, on the SLA clock."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from csd.finance.v1 import finance_pb2
from csd.finance.v1.finance_pb2_grpc import FinanceServiceStub
from csd.staff.v1 import staff_pb2
from csd.staff.v1.staff_pb2_grpc import StaffServiceStub
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from tests.services.staff.test_staff_service import _person
from tests.stack import Stack
from tests.workflows.recording import record_history
from workflows.dismissal import (
    AWAITING_DECISION,
    DISMISSED,
    DecisionInput,
    DismissalStatus,
    DismissalWorkflow,
)
from workflows.dismissal import workflow_id as dismissal_id
from workflows.spot_check import (
    DISMISSAL_OPENED,
    FINED,
    SpotCheckInput,
    SpotCheckStatus,
    SpotCheckWorkflow,
    workflow_id,
)


async def _hire(stack: Stack, **changes: object) -> str:
    """A new engineer of east (its TSM is wang.qiang): one person per test, since the dismissal
    case's id is the person's and the server is the session's."""
    person = f"eng-{uuid.uuid4().hex[:8]}"
    await StaffServiceStub(stack.staff).UpsertPerson(
        staff_pb2.UpsertPersonRequest(idempotency_key=person, person=_person(person, **changes))
    )
    return person


def finding(person: str, *days: str, reference: str = "") -> SpotCheckInput:
    return SpotCheckInput(
        reference=reference or f"SC-{uuid.uuid4().hex[:8]}",
        person_id=person,
        region_code="east",
        days=list(days),
        place_claimed="上海第一醫院 (on site)",
        place_found="at home",
        recorded_by="chen.jing",
        rule_version="2024-v1",
    )


async def _run(
    env: WorkflowEnvironment, task_queue: str, input: SpotCheckInput
) -> tuple[WorkflowHandle[Any, Any], SpotCheckStatus]:
    handle = await env.client.start_workflow(
        SpotCheckWorkflow.run, input, id=workflow_id(input.reference), task_queue=task_queue
    )
    result: SpotCheckStatus = await handle.result()
    return handle, result


async def _fines(stack: Stack, person: str) -> list[finance_pb2.LedgerEntry]:
    answer = await FinanceServiceStub(stack.finance).ListEntries(
        finance_pb2.ListEntriesRequest(person_id=person)
    )
    return [e for e in answer.entries if e.rule_id == "AT-3"]


async def _status(handle: WorkflowHandle[Any, Any], stage: str) -> DismissalStatus:
    for _ in range(100):
        status: DismissalStatus = await handle.query(DismissalWorkflow.status)
        if status.stage == stage:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"still {status.stage}")


async def test_a_finding_fines_the_person_and_their_tsm_and_counts_the_absence(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    person = await _hire(stack)
    async with stack.worker(time_skipping_env.client, task_queue):
        _, status = await _run(
            time_skipping_env, task_queue, finding(person, "2026-11-02", "2026-11-03")
        )
    assert status.stage == FINED and status.absence_days == 2 and not status.dismissal_case
    assert status.fined == [person, "wang.qiang"]
    assert [e.amount_fen for e in await _fines(stack, person)] == [200_00]
    [joint] = await _fines(stack, "wang.qiang")
    assert joint.amount_fen == 200_00 and "joint liability (AT-4)" in joint.reason
    mail = await stack.mail.wait_for(lambda m: "not at post" in str(m["Subject"]))
    assert mail["To"] == f"{person}@csd.example"
    assert "wang.qiang@csd.example" in str(mail["Cc"]) and "chen.jing@csd.example" in str(
        mail["Cc"]
    )


async def test_the_third_day_of_absence_opens_exactly_one_case_for_dismissal(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = time_skipping_env
    person = await _hire(stack)
    async with stack.worker(env.client, task_queue):
        await _run(env, task_queue, finding(person, "2026-11-02", "2026-11-03"))
        # The same day found again is not a second day of absence.
        _, again = await _run(env, task_queue, finding(person, "2026-11-03"))
        assert again.absence_days == 2 and not again.dismissal_case
        handle, third = await _run(env, task_queue, finding(person, "2026-11-04"))
        assert third.stage == DISMISSAL_OPENED and third.absence_days == 3
        await record_history(handle, "spot_check_dismissal_opened")

        case = env.client.get_workflow_handle_for(DismissalWorkflow.run, dismissal_id(person))
        status = await _status(case, AWAITING_DECISION)
        assert status.absent_days == ["2026-11-02", "2026-11-03", "2026-11-04"]
        opened = await stack.mail.wait_for(
            lambda m: "A case for dismissal to decide" in str(m["Subject"])
        )
        assert "huang.aiping@csd.example" in str(opened["To"])

        # Only a department manager decides, and says why.
        for decision, words in (
            (DecisionInput("wang.qiang", DISMISSED, "absent"), "a department manager decides"),
            (DecisionInput("huang.aiping", DISMISSED, "  "), "reason is required"),
            (DecisionInput("huang.aiping", "fired", "absent"), "use dismissed or kept"),
        ):
            with pytest.raises(WorkflowUpdateFailedError) as err:
                await case.execute_update(DismissalWorkflow.decide, decision)
            cause = err.value.cause
            assert isinstance(cause, ApplicationError) and words in cause.message
        decided = await case.execute_update(
            DismissalWorkflow.decide,
            DecisionInput("huang.aiping", DISMISSED, "three days away from post, confirmed"),
        )
        assert decided.decided_by == "huang.aiping"
        result: DismissalStatus = await case.result()
        assert result.stage == DISMISSED
        notice = await stack.mail.wait_for(lambda m: "Dismissal decided" in str(m["Subject"]))
        assert notice["To"] == f"{person}@csd.example"
        await record_history(case, "dismissal_decided")
        # A further finding adds absence but opens no second case, decided or not.
        _, fourth = await _run(env, task_queue, finding(person, "2026-11-05"))
        assert fourth.absence_days == 4
        assert fourth.dismissal_case == third.dismissal_case == dismissal_id(person)
    dismissal_cases = [
        e for e in stack.mail.messages if "A case for dismissal to decide" in str(e["Subject"])
    ]
    assert len(dismissal_cases) == 1


async def test_an_undecided_case_breaches_and_alerts_the_managers(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = own_time_skipping_env
    person = await _hire(stack)
    async with stack.worker(env.client, task_queue):
        await _run(env, task_queue, finding(person, "2026-11-02", "2026-11-03", "2026-11-04"))
        case = env.client.get_workflow_handle_for(DismissalWorkflow.run, dismissal_id(person))
        status = await _status(case, AWAITING_DECISION)
        await env.sleep(7 * 24 * 3600)  # past three working days, whatever the calendar
        alert = await stack.mail.wait_for(lambda m: "breach" in str(m["Subject"]).lower(), 10)
        body = alert.get_content()
        assert "within 24 working hours (AT-4)" in body and status.decide_by in body
        assert (await case.query(DismissalWorkflow.status)).sla_state == "breached"
        await case.terminate("test over")


async def test_a_finding_for_the_tsm_fines_them_once(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    async with stack.worker(time_skipping_env.client, task_queue):
        _, status = await _run(time_skipping_env, task_queue, finding("wang.qiang", "2026-11-06"))
    assert status.fined == ["wang.qiang"]
    assert len(await _fines(stack, "wang.qiang")) == 1
