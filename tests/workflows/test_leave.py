"""Leave (LV-1..LV-5) on the time-skipping server, against the real staff and notify services.

Leave falls in the first plain week at least two weeks ahead (Monday is MON below), so the
suite runs on any day. Every test has a time-skipping server of its own, so no other test's
timers move its clock.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from csd.staff.v1 import staff_pb2
from csd.staff.v1.staff_pb2_grpc import StaffServiceStub
from temporalio.client import (
    Client,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from services.runtime.dates import today
from services.staff.calendar import CompanyCalendar
from tests.calendar_dates import plain_monday
from tests.stack import Stack
from tests.workflows.case_details import current_details
from tests.workflows.recording import record_history
from workflows import regulation
from workflows.leave import (
    AWAITING_APPROVAL,
    CANCELLED,
    RECORDED,
    REJECTED,
    CancelInput,
    DecisionInput,
    LeaveInput,
    LeaveStatus,
    LeaveWorkflow,
    decision_promise,
    workflow_id,
)
from workflows.regulation import texts

Handle = WorkflowHandle[LeaveWorkflow, LeaveStatus]
MON = plain_monday()
RULES = regulation.by_version("2024-v1")
# An instant as the workflow writes one (RFC 3339), with whatever offset it carries.
INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?")


def day(offset: int) -> str:
    """MON plus `offset` days, as the workflow takes dates."""
    return (MON + timedelta(days=offset)).isoformat()


def leave(
    requester: str = "zhao.lei",
    start: str = day(0),
    start_half: str = "am",
    end: str = day(1),
    end_half: str = "pm",
    leave_type: str = "annual",
) -> LeaveInput:
    return LeaveInput(
        requester_id=requester,
        leave_type=leave_type,
        start_date=start,
        start_half=start_half,
        end_date=end,
        end_half=end_half,
        reason="family visit",
        rule_version="2024-v1",
    )


def into_a_year_without_an_official_schedule() -> tuple[str, str]:
    """A span from 30 December into a year the holidays package has no schedule for yet,
    near enough for the calendar to plan (at most three years ahead)."""
    calendar = CompanyCalendar()
    for year in range(today().year, today().year + 3):
        start = date(year, 12, 30)
        if start > today() + timedelta(days=1) and not calendar.official(year + 1):
            return start.isoformat(), f"{year + 1}-01-03"
    raise AssertionError("every year within three years has an official schedule")


async def submit(client: Client, task_queue: str, request: LeaveInput) -> Handle:
    return await client.start_workflow(
        LeaveWorkflow.run,
        request,
        id=workflow_id(request.requester_id, request.start_date, request.start_half),
        task_queue=task_queue,
    )


async def awaiting(handle: Handle, stack: Stack) -> LeaveStatus:
    """Routed and announced: no activity is left in flight."""
    tag = f"{handle.id}]"
    for _ in range(200):
        status = await handle.query(LeaveWorkflow.status)
        if status.stage == AWAITING_APPROVAL:
            await stack.mail.wait_for(lambda m: tag in str(m["Subject"]), 10)
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"still {status.stage}")


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


def alerts(stack: Stack, reference: str, kind: str) -> list[str]:
    """The decision SLA's alerts: "warning" reminds the approvers, "breach" escalates."""
    return [
        str(m["Subject"])
        for m in stack.mail.messages
        if f"{reference}: decision SLA {kind}" in str(m["Subject"])
    ]


def mails(stack: Stack, reference: str, word: str = "") -> list[str]:
    return [
        str(m["Subject"])
        for m in stack.mail.messages
        if f"{reference}]" in str(m["Subject"]) and word in str(m["Subject"])
    ]


async def approved_and_recorded(handle: Handle, stack: Stack) -> tuple[LeaveStatus, LeaveStatus]:
    """The approver approves: the update's reply, and the status once the clerk's record is
    announced."""
    decided = await handle.execute_update(LeaveWorkflow.decide, DecisionInput("wang.qiang", True))
    await until(lambda: bool(mails(stack, handle.id, "recorded")))
    return decided, await handle.query(LeaveWorkflow.status)


async def noted(handle: Handle, count: int) -> LeaveStatus:
    """The status once `count` notifications were refused and noted."""
    for _ in range(200):
        status = await handle.query(LeaveWorkflow.status)
        if len(status.notices) >= count:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"fewer than {count} notices: {status.notices}")


def in_shanghai(instant: str) -> bool:
    return instant.endswith("+08:00") and datetime.fromisoformat(instant).utcoffset() == timedelta(
        hours=8
    )


async def refused(handle: Handle, update: object, argument: object) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(update, argument)  # type: ignore[call-overload]
    assert isinstance(err.value.cause, ApplicationError)
    return str(err.value.cause.type)


@pytest.mark.parametrize(
    ("requester", "end", "end_half", "half_days", "rule", "approvers"),
    [
        ("zhao.lei", day(0), "am", 1, "LV-1", ["wang.qiang"]),  # half a day
        ("zhao.lei", day(2), "am", 5, "LV-1", ["wang.qiang"]),  # 2.5 days
        ("zhao.lei", day(2), "pm", 6, "LV-4", ["huang.aiping", "jiang.chengzhao"]),  # 3 days
        (
            "zhao.lei",
            day(7),
            "pm",
            12,
            "LV-4",
            ["huang.aiping", "jiang.chengzhao"],
        ),  # over a weekend
        ("wang.qiang", day(0), "am", 1, "LV-3", ["huang.aiping", "jiang.chengzhao"]),
        ("li.na", day(0), "pm", 2, "LV-3", ["huang.aiping", "jiang.chengzhao"]),
        ("gao.lei", day(0), "pm", 2, "LV-1", ["jiang.chengzhao"]),  # reporting line
    ],
)
async def test_each_tier_goes_to_its_approver(
    own_time_skipping_env: WorkflowEnvironment,
    stack: Stack,
    task_queue: str,
    requester: str,
    end: str,
    end_half: str,
    half_days: int,
    rule: str,
    approvers: list[str],
) -> None:
    client = own_time_skipping_env.client
    async with stack.worker(client, task_queue):
        handle = await submit(client, task_queue, leave(requester, end=end, end_half=end_half))
        status = await awaiting(handle, stack)
        assert (status.half_days, status.rule_id, sorted(status.approver_ids)) == (
            half_days,
            rule,
            approvers,
        )
        assert status.calendar_official
        first = stack.mail.messages[0]
        assert sorted(str(first["To"]).replace(" ", "").split(",")) == [
            f"{a}@csd.example" for a in approvers
        ]
        await handle.terminate("test over")


async def test_approved_leave_is_recorded_for_attendance_and_announced(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    client = own_time_skipping_env.client
    async with stack.worker(client, task_queue):
        handle = await submit(client, task_queue, leave())
        status = await awaiting(handle, stack)
        # The cc list of LV-1 gets the request.
        submitted = stack.mail.messages[0]
        assert set(str(submitted["Cc"]).replace(" ", "").split(",")) == {
            "huang.aiping@csd.example",
            "jiang.chengzhao@csd.example",
            "shi.wenjun@csd.example",
            "chen.jing@csd.example",
        }
        assert (
            await refused(handle, LeaveWorkflow.decide, DecisionInput("liu.yang", True))
            == "PERMISSION_DENIED"
        )
        assert (
            await refused(handle, LeaveWorkflow.decide, DecisionInput("zhao.lei", True))
            == "PERMISSION_DENIED"
        )
        decided, status = await approved_and_recorded(handle, stack)
        assert (decided.decided_by, decided.sla_state) == ("wang.qiang", "met")
        assert status.stage == RECORDED and status.sla_state == "met"
        if os.environ.get("CSD_RECORD_HISTORIES") == "1":
            # The leave waits until it starts; let it finish so the history is complete.
            await own_time_skipping_env.sleep(timedelta(days=30))
            await handle.result()
            await record_history(handle, "leave_approved_recorded")
        else:
            await handle.terminate("test over")
    records = await StaffServiceStub(stack.staff).ListLeaveRecords(
        staff_pb2.ListLeaveRecordsRequest(person_id="zhao.lei")
    )
    assert [
        (r.reference, r.leave_type, r.half_days, r.approved_by, r.rule_id) for r in records.records
    ] == [(status.reference, "annual", 4, "wang.qiang", "LV-1")]
    recorded_mail = await stack.mail.wait_for(lambda m: "recorded" in str(m["Subject"]), 5)
    assert recorded_mail["To"] == "zhao.lei@csd.example"
    assert recorded_mail["Cc"] == "chen.jing@csd.example"


async def test_a_department_manager_may_decide_any_leave_and_rejection_needs_a_reason(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    client = own_time_skipping_env.client
    async with stack.worker(client, task_queue):
        handle = await submit(client, task_queue, leave())
        status = await awaiting(handle, stack)
        assert (
            await refused(handle, LeaveWorkflow.decide, DecisionInput("huang.aiping", False, " "))
            == "INVALID_ARGUMENT"
        )
        too_long = "x" * (texts.TEXT + 1)
        assert (
            await refused(
                handle, LeaveWorkflow.decide, DecisionInput("huang.aiping", True, too_long)
            )
            == "INVALID_ARGUMENT"
        )
        rejected = await handle.execute_update(
            LeaveWorkflow.decide, DecisionInput("huang.aiping", False, "year-end upgrade week")
        )
        assert rejected.stage == REJECTED
        result = await handle.result()
        assert result.stage == REJECTED
    assert mails(stack, status.reference, "rejected")


async def test_the_requester_may_cancel_before_the_start_and_nothing_is_decided_after(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    client = own_time_skipping_env.client
    async with stack.worker(client, task_queue):
        handle = await submit(client, task_queue, leave())
        await awaiting(handle, stack)
        # Recorded for attendance first (a cancellation racing the record is the next test's).
        await approved_and_recorded(handle, stack)
        assert (
            await refused(handle, LeaveWorkflow.cancel, CancelInput("wang.qiang"))
            == "PERMISSION_DENIED"
        )
        cancelled = await handle.execute_update(
            LeaveWorkflow.cancel, CancelInput("zhao.lei", "trip called off")
        )
        assert cancelled.stage == CANCELLED
        assert (
            await refused(handle, LeaveWorkflow.decide, DecisionInput("wang.qiang", True))
            == "FAILED_PRECONDITION"
        )
        result = await handle.result()
    assert result.stage == CANCELLED
    records = await StaffServiceStub(stack.staff).ListLeaveRecords(
        staff_pb2.ListLeaveRecordsRequest(person_id="zhao.lei")
    )
    # Recorded on approval, then cancelled: attendance no longer counts it as excused.
    assert [r.cancelled for r in records.records] == [True]


async def test_a_cancellation_while_an_announcement_is_out_cancels_the_record_at_once(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    """The mail server is down when the leave is approved, so the announcement is still being
    retried when the requester cancels; both go out in one pass once it is back. The record must
    be cancelled then, not on the day the leave would have started."""
    client = own_time_skipping_env.client
    records = StaffServiceStub(stack.staff)
    async with stack.worker(client, task_queue):
        handle = await submit(client, task_queue, leave())
        await awaiting(handle, stack)
        port = stack.mail.port
        await stack.mail.stop()
        await handle.execute_update(LeaveWorkflow.decide, DecisionInput("wang.qiang", True))
        for _ in range(200):
            if (await handle.query(LeaveWorkflow.status)).record_id:
                break
            await asyncio.sleep(0.05)
        await handle.execute_update(LeaveWorkflow.cancel, CancelInput("zhao.lei", "called off"))
        await stack.mail.start(port=port)
        # Only waiting on the result lets the test server skip to the leave's start, so this
        # polls: the record must be cancelled while the clock still stands.
        for _ in range(600):
            listed = await records.ListLeaveRecords(
                staff_pb2.ListLeaveRecordsRequest(person_id="zhao.lei")
            )
            if [r.cancelled for r in listed.records] == [True]:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the leave record stayed active after the cancellation")
        assert (await handle.result()).stage == CANCELLED
        await record_history(handle, "leave_cancelled_while_announcing")


async def test_cancelling_after_the_leave_started_is_refused(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = own_time_skipping_env
    async with stack.worker(env.client, task_queue):
        handle = await submit(env.client, task_queue, leave())
        await awaiting(handle, stack)
        await handle.execute_update(LeaveWorkflow.decide, DecisionInput("wang.qiang", True))
        result = await handle.result()  # the workflow ends when the leave starts
        assert result.stage == RECORDED
        now = await env.get_current_time()
        assert now >= datetime.fromisoformat(f"{day(0)}T09:00:00+08:00")


async def test_reminder_then_escalation_at_the_right_times(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = own_time_skipping_env
    async with stack.worker(env.client, task_queue):
        handle = await submit(env.client, task_queue, leave(start=day(0), end=day(0)))
        status = await awaiting(handle, stack)
        reminder_at = datetime.fromisoformat(status.reminder_at)
        escalate_at = datetime.fromisoformat(status.escalate_at)
        # Escalation at the start of the working day before the leave: the Friday before MON.
        assert escalate_at == datetime.fromisoformat(f"{day(-3)}T09:00:00+08:00")
        assert reminder_at < escalate_at
        # One clock, timed by exactly the instants the status reports, promising what the rule
        # set says.
        [clock] = status.slas
        assert (clock.name, clock.warn_at, clock.breach_at) == (
            "decision",
            status.reminder_at,
            status.escalate_at,
        )
        assert (RULES.leave_reminder_after, RULES.leave_escalate_working_days_before) == (
            timedelta(hours=4),
            1,
        )
        assert (
            clock.promise
            == decision_promise(RULES)
            == (
                "a decision within 4 working hours of the request (approvers reminded), and by the "
                "start of the working day before the leave begins (department managers alerted) "
                "(LV-1..LV-4)"
            )
        )

        now = await env.get_current_time()
        await env.sleep(reminder_at - now - timedelta(minutes=5))
        assert not alerts(stack, status.reference, "warning")
        await env.sleep(timedelta(minutes=10))
        await until(lambda: len(alerts(stack, status.reference, "warning")) == 1)
        reminder = await stack.mail.wait_for(lambda m: "SLA warning" in str(m["Subject"]), 5)
        assert reminder["To"] == "wang.qiang@csd.example"  # the approver is reminded
        text = reminder.get_content()
        assert f"The decision promise is at risk: {clock.promise}." in text
        assert f"Warning:  {status.reminder_at}" in text
        assert f"Deadline: {status.escalate_at}" in text
        assert (await handle.query(LeaveWorkflow.status)).sla_state == "warning"

        now = await env.get_current_time()
        await env.sleep(escalate_at - now - timedelta(minutes=5))
        assert not alerts(stack, status.reference, "breach")
        await env.sleep(timedelta(minutes=10))
        await until(lambda: len(alerts(stack, status.reference, "breach")) == 1)
        escalation = await stack.mail.wait_for(lambda m: "SLA breach" in str(m["Subject"]), 5)
        assert set(str(escalation["To"]).replace(" ", "").split(",")) == {
            "huang.aiping@csd.example",
            "jiang.chengzhao@csd.example",
        }
        text = escalation.get_content()
        assert f"The decision promise was broken: {clock.promise}." in text
        assert f"Warning:  {status.reminder_at}" in text
        assert f"Deadline: {status.escalate_at}" in text
        assert all(in_shanghai(at) for at in INSTANT.findall(text))
        assert (await handle.query(LeaveWorkflow.status)).sla_state == "breached"
        # Exactly once each.
        assert len(alerts(stack, status.reference, "warning")) == 1
        await record_history(handle, "leave_reminded_escalated")
        await handle.terminate("test over")


async def test_a_span_into_a_year_without_an_official_schedule_says_so(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    client = own_time_skipping_env.client
    async with stack.worker(client, task_queue):
        start, end = into_a_year_without_an_official_schedule()
        handle = await submit(client, task_queue, leave(start=start, end=end, end_half="pm"))
        status = await awaiting(handle, stack)
        assert not status.calendar_official
        assert "no official holiday schedule" in await current_details(handle)
        mail = stack.mail.messages[0]
        assert "statutory holidays only" in mail.get_content()
        await handle.terminate("test over")


@pytest.mark.parametrize(
    ("changes", "code", "words"),
    [
        # LV-2: half a day already gone is too late.
        (
            {"start": (today() - timedelta(days=1)).isoformat(), "start_half": "pm"},
            "FAILED_PRECONDITION",
            "leave must be requested in advance, never afterwards (LV-2)",
        ),
        ({"start": day(5), "end": day(6)}, "INVALID_ARGUMENT", "no working time"),
        ({"leave_type": "sabbatical"}, "INVALID_ARGUMENT", "leave_type 'sabbatical'"),
        ({"start": "next monday"}, "INVALID_ARGUMENT", "start_date 'next monday' is not a date"),
    ],
)
async def test_a_start_that_skips_the_gateway_is_refused_by_the_workflow_itself(
    own_time_skipping_env: WorkflowEnvironment,
    stack: Stack,
    task_queue: str,
    changes: dict[str, str],
    code: str,
    words: str,
) -> None:
    """As the CLI or a Schedule would start it: the workflow's own validation refuses, and
    nothing is recorded or sent."""
    client = own_time_skipping_env.client
    async with stack.worker(client, task_queue):
        handle = await submit(client, task_queue, leave(**changes))
        with pytest.raises(WorkflowFailureError) as err:
            await asyncio.wait_for(handle.result(), 20)
        if code == "FAILED_PRECONDITION":
            await record_history(handle, "leave_requested_afterwards")
    cause = err.value.cause
    assert isinstance(cause, ApplicationError)
    assert (cause.type, cause.non_retryable) == (code, True)
    assert words in cause.message
    records = await StaffServiceStub(stack.staff).ListLeaveRecords(
        staff_pb2.ListLeaveRecordsRequest(person_id="zhao.lei")
    )
    assert list(records.records) == []
    assert stack.mail.messages == []


async def test_a_refused_email_is_noted_and_alerted_and_the_leave_goes_on(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    """The approver's mailbox does not exist: the request mail is refused for good. The leave
    still waits for a decision, says so in its status and details, and the technical service
    team lead hears of it."""
    client = own_time_skipping_env.client
    stack.mail.refuse("wang.qiang@csd.example")
    async with stack.worker(client, task_queue):
        handle = await submit(client, task_queue, leave())
        status = await noted(handle, 1)
        told = await stack.mail.wait_for(
            lambda m: (
                f"{handle.id}]" in str(m["Subject"])
                and "a notification was refused" in str(m["Subject"])
            ),
            10,
        )
        assert told["To"] == "zhou.xiaoming@csd.example"  # the technical service team lead
        [notice] = status.notices
        assert notice in told.get_content()
        assert status.stage == AWAITING_APPROVAL
        assert "submitted" in notice and "王強" in notice and "wang.qiang@csd.example" in notice
        assert "was not sent" in notice
        assert notice in await current_details(handle)
        assert status.history[-1].kind == "notice"
        assert not mails(stack, handle.id, "submitted")

        decided, status = await approved_and_recorded(handle, stack)
        assert decided.decided_by == "wang.qiang"
        assert status.stage == RECORDED and status.record_id
        assert len(status.notices) == 1
        await record_history(handle, "leave_email_refused")
        await handle.terminate("test over")


async def test_every_instant_in_the_status_and_the_mails_is_in_shanghai_time(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    client = own_time_skipping_env.client
    async with stack.worker(client, task_queue):
        handle = await submit(client, task_queue, leave())
        await awaiting(handle, stack)
        status = (await approved_and_recorded(handle, stack))[1]
        await handle.terminate("test over")
    instants = [
        status.reminder_at,
        status.escalate_at,
        status.starts_at,
        *(e.at for e in status.history),
        *(at for v in status.slas for at in (v.started_at, v.warn_at, v.breach_at)),
    ]
    assert len(instants) == 3 + 3 + 3  # submitted, approved, recorded; one clock
    assert all(in_shanghai(at) for at in instants), instants
    assert status.starts_at == f"{day(0)}T09:00:00+08:00"
    bodies = [m.get_content() for m in stack.mail.messages if f"{handle.id}]" in str(m["Subject"])]
    assert len(bodies) == 2  # submitted, recorded
    found = [at for body in bodies for at in INSTANT.findall(body)]
    assert len(found) >= 5  # submitted, reminder, escalation, start; recorded
    assert all(in_shanghai(at) for at in found), found


@pytest.mark.faults
async def test_a_new_worker_finishes_a_leave_left_waiting(
    dev_server_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    client = dev_server_env.client
    request = leave(start=day(7), end=day(7))
    async with stack.worker(client, task_queue):
        handle = await submit(client, task_queue, request)
        await awaiting(handle, stack)
    async with stack.worker(client, task_queue):
        await approved_and_recorded(handle, stack)
        await handle.terminate("test over")
