"""Routine meetings (MT-1..MT-3) on the time-skipping server, with the real services."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from email.message import EmailMessage

import pytest
from temporalio.client import WorkflowFailureError, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from services.mailsink.sink import envelope_recipients
from tests.stack import Stack
from tests.workflows.case_details import current_details
from tests.workflows.recording import record_history
from workflows import regulation, search_attributes
from workflows.meeting import (
    HELD,
    INVITED,
    MAX_PRESENT,
    MINUTES_MISSING,
    MINUTES_RECORDED,
    MeetingInput,
    MeetingStatus,
    MeetingWorkflow,
    MinutesInput,
    validate,
    validate_minutes,
    workflow_id,
)

Handle = WorkflowHandle[MeetingWorkflow, MeetingStatus]
RULES = regulation.by_version("2024-v1")
# An RFC 3339 instant as it appears in a status or a mail.
INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2}|Z)")


async def start(
    env: WorkflowEnvironment, task_queue: str, rule_id: str, region: str, **changes: str
) -> Handle:
    starts = (await env.get_current_time()) + timedelta(days=2)
    input = replace(MeetingInput(rule_id, region, starts.isoformat(), "2024-v1"), **changes)
    return await env.client.start_workflow(
        MeetingWorkflow.run,
        input,
        id=workflow_id(rule_id, region, regulation.shown(starts)[:10]),
        task_queue=task_queue,
    )


async def invited(handle: Handle, stack: Stack) -> tuple[MeetingStatus, EmailMessage]:
    """Set up, and the invitation delivered (or refused): no activity left in flight."""
    for _ in range(200):
        status = await handle.query(MeetingWorkflow.status)
        if any(e.kind == INVITED for e in status.history):
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("never set up")
    if status.notices:
        return status, EmailMessage()
    invitation = await stack.mail.wait_for(
        lambda m: str(m["Subject"]).endswith(": invitation") and handle_day(status) in subject(m),
        10,
    )
    return status, invitation


def handle_day(status: MeetingStatus) -> str:
    return status.starts_at[:10]


def subject(message: EmailMessage) -> str:
    return str(message["Subject"])


def raw_subject(message: EmailMessage) -> str:
    """The Subject header exactly as it was received, folding and encoded words included."""
    return next(str(value) for name, value in message.raw_items() if name.lower() == "subject")


def addresses(header: object) -> set[str]:
    return {a.strip() for a in str(header or "").split(",") if a.strip()}


def mailbox(*people: str) -> set[str]:
    return {f"{p}@csd.example" for p in people}


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


def assert_shown_in_shanghai(status: MeetingStatus, *mails: EmailMessage) -> None:
    """Every instant a person reads, in the status and in the mails, carries +08:00."""
    instants = [status.starts_at, status.minutes_due_at, *(e.at for e in status.history)]
    for view in status.slas:
        instants += [view.started_at, view.warn_at, view.breach_at]
    for mail in mails:
        instants += INSTANT.findall(mail.get_content())
    assert instants and all(i.endswith("+08:00") for i in instants), instants


@pytest.mark.parametrize(
    ("rule_id", "region", "chair", "taker", "required", "notified"),
    [
        ("MT-1", "east", "wang.qiang", "wang.qiang", ["li.na"], ["sun.li"]),
        ("MT-2", "north", "wu.min", "wu.min", ["zhang.wei"], []),
        ("MT-2", "southwest", "huang.aiping", "huang.aiping", ["yang.fan"], []),  # no CSM: or above
        (
            "MT-3", "", "huang.aiping", "shi.wenjun",
            ["he.jun", "wang.qiang", "yang.fan", "zhang.wei", "li.na", "wu.min", "xu.li"], [],
        ),
    ],
)  # fmt: skip
async def test_invitations_go_to_the_roles_the_rule_names(
    own_time_skipping_env: WorkflowEnvironment,
    stack: Stack,
    task_queue: str,
    rule_id: str,
    region: str,
    chair: str,
    taker: str,
    required: list[str],
    notified: list[str],
) -> None:
    env = own_time_skipping_env
    async with stack.worker(env.client, task_queue):
        handle = await start(env, task_queue, rule_id, region)
        status, invitation = await invited(handle, stack)
        assert (status.chair_id, status.minutes_taker_id) == (chair, taker)
        assert sorted(status.required_ids) == sorted(required)
        assert status.notified_ids == notified
        # Everyone the meeting needs is invited, the minute-taker too (MT-3: the assistant);
        # the notified are copied; and every one of them received it.
        assert addresses(invitation["To"]) == mailbox(chair, taker, *required)
        assert addresses(invitation["Cc"]) == mailbox(*notified)
        assert set(envelope_recipients(invitation)) == mailbox(chair, taker, *required, *notified)
        assert all(item in invitation.get_content() for item in status.agenda)
        # The subject as received: plain text, no encoded word (MT-3's carried an empty one).
        scope = f" {region}" if region else ""
        expected = f"[{rule_id}{scope} {status.starts_at[:10]}] {status.title}: invitation"
        assert " ".join(raw_subject(invitation).split()) == expected
        assert "=?" not in raw_subject(invitation)
        assert_shown_in_shanghai(status, invitation)
        await handle.terminate("test over")


async def test_minutes_recorded_by_the_right_person_are_sent_back_with_attendance(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = own_time_skipping_env
    async with stack.worker(env.client, task_queue):
        handle = await start(env, task_queue, "MT-1", "east")
        status, _ = await invited(handle, stack)
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await handle.execute_update(
                MeetingWorkflow.record_minutes, MinutesInput("wang.qiang", "early")
            )
        assert (
            isinstance(err.value.cause, ApplicationError)
            and err.value.cause.type == "FAILED_PRECONDITION"
        )
        await env.sleep(
            datetime.fromisoformat(status.starts_at)
            - await env.get_current_time()
            + timedelta(minutes=90)
        )
        assert (await handle.query(MeetingWorkflow.status)).stage == HELD
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await handle.execute_update(
                MeetingWorkflow.record_minutes, MinutesInput("li.na", "mine")
            )
        assert (
            isinstance(err.value.cause, ApplicationError)
            and err.value.cause.type == "PERMISSION_DENIED"
        )
        recorded = await handle.execute_update(
            MeetingWorkflow.record_minutes,
            MinutesInput(
                "wang.qiang", "Plans on track; two hard problems escalated.", present=["wang.qiang"]
            ),
        )
        assert recorded.stage == MINUTES_RECORDED and recorded.absent_ids == ["li.na"]
        result = await handle.result()
        await record_history(handle, "meeting_minutes_recorded")
    assert result.stage == MINUTES_RECORDED
    assert result.sla_state == "met"
    minutes = await stack.mail.wait_for(lambda m: subject(m).endswith(": minutes"), 10)
    assert addresses(minutes["To"]) == mailbox("huang.aiping", "jiang.chengzhao", "shi.wenjun")
    assert addresses(minutes["Cc"]) == mailbox("wang.qiang")
    assert "Required but absent: li.na" in minutes.get_content()
    assert not [m for m in stack.mail.messages if "SLA" in subject(m)]
    assert_shown_in_shanghai(result, minutes)


async def test_missing_minutes_remind_then_alert_the_chairs_manager(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    """MT-3's minutes on the SLA clock: the assistant is reminded half-way, the managers (the
    chair reports to nobody) hear at the deadline; each alert quotes the deadlines the status
    reports."""
    env = own_time_skipping_env
    async with stack.worker(env.client, task_queue):
        handle = await start(env, task_queue, "MT-3", "")
        status, _ = await invited(handle, stack)
        starts = datetime.fromisoformat(status.starts_at)
        due = datetime.fromisoformat(status.minutes_due_at)
        assert due - starts == RULES.meeting_minutes_due_after
        [clock] = status.slas
        assert (clock.name, clock.started_at, clock.breach_at) == (
            "minutes",
            status.starts_at,
            status.minutes_due_at,
        )
        assert clock.warn_at == regulation.shown(starts + (due - starts) / 2)

        await env.sleep(datetime.fromisoformat(clock.warn_at) - await env.get_current_time())
        await env.sleep(timedelta(minutes=1))
        reminder = await stack.mail.wait_for(lambda m: "SLA WARNING" in subject(m), 10)
        assert addresses(reminder["To"]) == mailbox("shi.wenjun")
        now = await handle.query(MeetingWorkflow.status)
        assert (now.stage, now.sla_state) == (HELD, "warning")
        assert not [m for m in stack.mail.messages if "SLA BREACH" in subject(m)]

        await env.sleep(due - await env.get_current_time() + timedelta(minutes=1))
        alert = await stack.mail.wait_for(lambda m: "SLA BREACH" in subject(m), 10)
        assert addresses(alert["To"]) == mailbox("huang.aiping", "jiang.chengzhao")
        now = await handle.query(MeetingWorkflow.status)
        assert (now.stage, now.sla_state) == (MINUTES_MISSING, "breached")
        description = await handle.describe()
        assert description.typed_search_attributes.get(search_attributes.SLA_STATE) == "breached"
        # The alerts say what the status says: the promise and its very instants.
        for mail in (reminder, alert):
            body = mail.get_content()
            assert clock.promise in body
            assert f"Started:  {status.starts_at}" in body
            assert f"Warning:  {clock.warn_at}" in body
            assert f"Deadline: {status.minutes_due_at}" in body
        assert "24 hours" in clock.promise and "施文君" in clock.promise

        await handle.execute_update(
            MeetingWorkflow.record_minutes, MinutesInput("shi.wenjun", "Late minutes.")
        )
        result = await handle.result()
        await record_history(handle, "meeting_minutes_missing")
    assert result.stage == MINUTES_RECORDED
    assert result.sla_state == "breached"  # recorded late is still late
    assert len([m for m in stack.mail.messages if "SLA BREACH" in subject(m)]) == 1
    assert len([m for m in stack.mail.messages if "SLA WARNING" in subject(m)]) == 1
    assert all("=?" not in raw_subject(m) for m in stack.mail.messages)
    assert_shown_in_shanghai(result, *stack.mail.messages)


async def test_a_refused_invitation_is_noted_alerted_and_the_meeting_goes_on(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = own_time_skipping_env
    # Sales, copied on MT-1, has no mailbox: the invitation is refused for good.
    stack.mail.refuse("sun.li@csd.example")
    async with stack.worker(env.client, task_queue):
        handle = await start(env, task_queue, "MT-1", "east")
        for _ in range(200):
            status = await handle.query(MeetingWorkflow.status)
            if status.notices:
                break
            await asyncio.sleep(0.05)
        [notice] = status.notices
        assert notice.startswith('the email "invitation" to ') and "was not sent" in notice
        assert "sun.li@csd.example" in notice
        assert any(e.kind == "notice" and e.note == notice for e in status.history)
        alert = await stack.mail.wait_for(lambda m: "a notification was refused" in subject(m), 10)
        assert addresses(alert["To"]) == mailbox("zhou.xiaoming")  # the team lead
        assert notice in " ".join(alert.get_content().split())
        details = await current_details(handle)
        assert "Not delivered (1)" in details
        assert notice in details

        # The meeting goes on: held, minutes recorded, sent back.
        await env.sleep(
            datetime.fromisoformat(status.starts_at)
            - await env.get_current_time()
            + timedelta(hours=1)
        )
        await handle.execute_update(
            MeetingWorkflow.record_minutes,
            MinutesInput("wang.qiang", "Held as planned.", present=["wang.qiang", "li.na"]),
        )
        result = await handle.result()
        await record_history(handle, "meeting_invitation_refused")
    assert result.stage == MINUTES_RECORDED
    assert result.notices == [notice]
    await until(lambda: any(subject(m).endswith(": minutes") for m in stack.mail.messages))


@pytest.mark.parametrize(
    ("rule_id", "region", "changes", "words"),
    [
        ("MT-9", "east", {}, "no routine meeting 'MT-9'"),
        ("MT-3", "east", {}, "MT-3 is a department meeting"),
        ("MT-1", "", {}, "MT-1 is a regional meeting"),
        ("MT-1", "east", {"starts_at": "next Thursday"}, "is not an RFC 3339 instant"),
        ("MT-1", "east", {"starts_at": "2026-12-31T14:00:00"}, "has no offset"),
    ],
)
async def test_a_start_the_rule_set_refuses_fails_at_once(
    time_skipping_env: WorkflowEnvironment,
    stack: Stack,
    task_queue: str,
    rule_id: str,
    region: str,
    changes: dict[str, str],
    words: str,
) -> None:
    """A start that skips the gateway (the planner, a client) meets the same validation."""
    env = time_skipping_env
    async with stack.worker(env.client, task_queue):
        handle = await start(env, task_queue, rule_id, region, **changes)
        with pytest.raises(WorkflowFailureError) as err:
            await asyncio.wait_for(handle.result(), 20)
    cause = err.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "INVALID_ARGUMENT"
    assert cause.non_retryable and words in cause.message
    with pytest.raises(regulation.InvalidInput, match=re.escape(words)):
        validate(
            MeetingInput(
                rule_id, region, changes.get("starts_at", "2026-12-31T14:00:00+08:00"), "2024-v1"
            ),
            RULES,
        )


@pytest.mark.parametrize(
    ("minutes", "words"),
    [
        (MinutesInput("shi.wenjun", "  "), "minutes is required"),
        (MinutesInput("shi.wenjun", "x" * 20_001), "minutes is longer than 20000"),
        (MinutesInput("shi.wenjun", "ok", ["zhao.lei"] * (MAX_PRESENT + 1)), "at most 200"),
        (MinutesInput("shi.wenjun", "ok", [" "]), "present is required"),
    ],
)
def test_minutes_are_checked_by_one_rule(minutes: MinutesInput, words: str) -> None:
    with pytest.raises(regulation.InvalidInput, match=re.escape(words)):
        validate_minutes(minutes)
