"""AT-2 on the time-skipping server, with the real services: more than 8 working days without a
daily report is one occurrence, fined 50 once however often the daily check runs and across a
worker's restart, with a backfill task mailed to the person (cc the region's technical service
manager) that closes when every missing day is reported."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from csd.finance.v1 import finance_pb2
from csd.finance.v1.finance_pb2_grpc import FinanceServiceStub
from csd.staff.v1 import staff_pb2
from csd.staff.v1.staff_pb2_grpc import StaffServiceStub
from temporalio.client import WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.attendance import MissingReports
from tests.services.staff.test_staff_service import _person
from tests.stack import Stack
from tests.workflows.recording import record_history
from workflows import regulation
from workflows.attendance_check import (
    AttendanceCheckInput,
    AttendanceCheckResult,
    AttendanceCheckWorkflow,
)
from workflows.missing_reports import (
    AWAITING_BACKFILL,
    FILLED_IN,
    MissingReportsInput,
    MissingReportsStatus,
    MissingReportsWorkflow,
    validate,
    workflow_id,
)

PERSON = "tracked.engineer"
RULES = regulation.by_version("2024-v1")


async def _hire(stack: Stack, attendance_from: str) -> None:
    await StaffServiceStub(stack.staff).UpsertPerson(
        staff_pb2.UpsertPersonRequest(
            idempotency_key=f"hire-{PERSON}",
            person=_person(PERSON, attendance_from=attendance_from),
        )
    )


async def _check(env: WorkflowEnvironment, task_queue: str, n: int) -> AttendanceCheckResult:
    result: AttendanceCheckResult = await env.client.execute_workflow(
        AttendanceCheckWorkflow.run,
        AttendanceCheckInput("east"),
        id=f"at2-check-east-{task_queue}-{n}",
        task_queue=task_queue,
    )
    return result


async def _stage(handle: WorkflowHandle[Any, Any], stage: str) -> MissingReportsStatus:
    for _ in range(100):
        status: MissingReportsStatus = await handle.query(MissingReportsWorkflow.status)
        if status.stage == stage:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"still {status.stage}")


async def _fines(stack: Stack) -> list[finance_pb2.LedgerEntry]:
    answer = await FinanceServiceStub(stack.finance).ListEntries(
        finance_pb2.ListEntriesRequest(person_id=PERSON)
    )
    return [e for e in answer.entries if e.rule_id == "AT-2"]


async def test_an_occurrence_is_fined_once_and_closes_when_every_day_is_filled_in(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    # A clock of its own: on the shared one, other tests' skipped years leave the demo people
    # of the region with occurrences of their own, whose cases flood the mail sink.
    env = own_time_skipping_env
    # Due from two weeks of working days back: more than 8 are missing today.
    today = regulation.shown(await env.get_current_time())[:10]
    staff = StaffServiceStub(stack.staff)
    await _hire(stack, "2026-06-01")
    async with stack.worker(env.client, task_queue):
        first = await _check(env, task_queue, 1)
        case_id = workflow_id(f"{PERSON}:2026-06-01")
        assert case_id in first.started and first.as_of == today
        # The check runs again (tomorrow's, or a retry after a crash): nothing new.
        second = await _check(env, task_queue, 2)
        assert case_id in second.already_open and case_id not in second.started

        handle = env.client.get_workflow_handle_for(MissingReportsWorkflow.run, case_id)
        # Demo people of the region may have cases of their own: this one is the engineer's.
        mail = await stack.mail.wait_for(
            lambda m: (
                "Daily reports to fill in" in str(m["Subject"])
                and m["To"] == "tracked.engineer@csd.example"
            )
        )
        assert "wang.qiang@csd.example" in str(mail["Cc"])  # the region's TSM
        assert "2026-06-01" in mail.get_content() and "AT-2" in mail.get_content()
        status = await _stage(handle, AWAITING_BACKFILL)
        assert status.amount_fen == 50_00
        [fine] = await _fines(stack)
        assert fine.amount_fen == 50_00 and fine.recorded_by == "chen.jing"  # the clerk

        # The clerk imports the missing days; the next look (or a nudge) closes the case.
        rows = "".join(f"{PERSON},{day},office,,,,\n" for day in status.still_missing)
        await staff.ImportAttendance(
            staff_pb2.ImportAttendanceRequest(
                idempotency_key="backfill",
                csv="person_id,date,status,hospital,city,place_region_code,note\n" + rows,
                imported_by="chen.jing",
            )
        )
        await handle.signal(MissingReportsWorkflow.reported)
        closed = await handle.result()
        assert closed.stage == FILLED_IN and closed.still_missing == []
        await stack.mail.wait_for(
            lambda m: (
                "Daily reports filled in" in str(m["Subject"])
                and m["To"] == "tracked.engineer@csd.example"
            )
        )
        await record_history(handle, "missing_reports_filled_in")

        third = await _check(env, task_queue, 3)
        assert case_id not in third.started + third.already_open
        await record_history(
            env.client.get_workflow_handle(f"at2-check-east-{task_queue}-2"),
            "attendance_check_already_open",
        )
    assert len(await _fines(stack)) == 1


async def test_a_worker_restart_between_checks_fines_once(
    dev_server_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    # The real dev server: it hands a stopped worker's cases to the next one promptly.
    env = dev_server_env
    # Its own occurrence: the server (and so the case ids) is shared by the session.
    await _hire(stack, "2026-06-02")
    async with stack.worker(env.client, task_queue):
        await _check(env, task_queue, 1)
        await stack.mail.wait_for(lambda m: "Daily reports to fill in" in str(m["Subject"]))
    # The worker is gone with the case waiting; a new one runs the next check and the case.
    async with stack.worker(env.client, task_queue):
        again = await _check(env, task_queue, 2)
        assert again.started == []
        case = env.client.get_workflow_handle_for(
            MissingReportsWorkflow.run, workflow_id(f"{PERSON}:2026-06-02")
        )
        await _stage(case, AWAITING_BACKFILL)
        await case.terminate("test over")
    assert len(await _fines(stack)) == 1
    mails = [m for m in stack.mail.messages if "Daily reports to fill in" in str(m["Subject"])]
    assert len(mails) == 1


def test_eight_days_are_not_yet_an_occurrence() -> None:
    days = [f"2026-06-{d:02d}" for d in (1, 2, 3, 4, 5, 8, 9, 10)]
    occurrence = MissingReports(f"{PERSON}:2026-06-01", PERSON, "east", days[0], days[-1], days)
    with pytest.raises(regulation.NotAllowed, match="more than 8"):
        validate(MissingReportsInput(occurrence, "2024-v1"), RULES)
    nine = MissingReports(
        occurrence.id, PERSON, "east", days[0], "2026-06-11", [*days, "2026-06-11"]
    )
    validate(MissingReportsInput(nine, "2024-v1"), RULES)


async def test_a_start_the_rule_refuses_fails_at_once(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    occurrence = MissingReports(f"{PERSON}:2026-06-01", PERSON, "east", "2026-06-01", "", [])
    async with stack.worker(time_skipping_env.client, task_queue):
        with pytest.raises(WorkflowFailureError) as err:
            await time_skipping_env.client.execute_workflow(
                MissingReportsWorkflow.run,
                MissingReportsInput(occurrence, "2024-v1"),
                id=f"at2-bad-{task_queue}",
                task_queue=task_queue,
            )
    cause = err.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "INVALID_ARGUMENT"
