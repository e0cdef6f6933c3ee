"""Requirements (RQ-1..RQ-4, RQ-7) on the time-skipping server, with the real services."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import (
    Client,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities.staff import CalendarActivities, NextOccurrenceInput, OccurrenceResult
from services.worker.main import activities_for
from tests.phone_gateway import PhoneGateway
from tests.stack import Stack
from tests.workflows.case_details import current_details, quotes, shanghai
from tests.workflows.recording import record_history
from workflows import regulation
from workflows.regulation import rule_sets
from workflows.regulation.cadences import RQ2_SYNC
from workflows.requirement import (
    AT_SYNC,
    AWAITING_SYNC,
    CLOSED,
    REFUSED,
    RELEASED,
    REVISIT_DUE,
    REVISITED,
    SOLUTION,
    TRACKING_MEMO,
    CloseInput,
    ConfirmationInput,
    FilterInput,
    ReceiptInput,
    ReleaseInput,
    RequirementInput,
    RequirementStatus,
    RequirementWorkflow,
    RevisitInput,
    SyncOutcomeInput,
    tracking_row,
    validate,
    workflow_id,
)

Handle = WorkflowHandle[RequirementWorkflow, RequirementStatus]
SUPPORT = "gao.lei"
RULES = regulation.by_version("2024-v1")
ESCALATION = {
    "zhou.xiaoming@csd.example",
    "huang.aiping@csd.example",
    "jiang.chengzhao@csd.example",
}


def requirement(reference: str, **changes: Any) -> RequirementInput:
    return dataclasses.replace(
        RequirementInput(
            reference=reference,
            requester_id="zhao.lei",
            region_code="east",
            hospital="上海第一醫院",
            product_module="EMR nursing",
            purpose="Nurses need the ward report sorted by bed",
            business_scenario="Morning handover on every ward",
            description="Add a bed-order option to the ward report.",
            rule_version="2024-v1",
        ),
        **changes,
    )


async def start(client: Client, task_queue: str, reference: str, **changes: Any) -> Handle:
    return await client.start_workflow(
        RequirementWorkflow.run,
        requirement(reference, **changes),
        id=workflow_id(reference),
        task_queue=task_queue,
    )


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def routed(handle: Handle, stack: Stack) -> None:
    """The senior support engineer has the requirement to filter."""
    await stack.mail.wait_for(
        lambda m: f"[RQ {handle.id.removeprefix('requirement-')}]" in str(m["Subject"]), 10
    )


async def stage_is(handle: Handle, *stages: str) -> RequirementStatus:
    for _ in range(200):
        status = await handle.query(RequirementWorkflow.status)
        if status.stage in stages:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"stage stayed {status.stage}")


async def status_when(
    handle: Handle, condition: Callable[[RequirementStatus], bool]
) -> RequirementStatus:
    for _ in range(200):
        status = await handle.query(RequirementWorkflow.status)
        if condition(status):
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"never so; stage {status.stage}")


async def accepted(handle: Handle) -> datetime:
    """Filtered in; the reply already carries the next sync."""
    reply = await handle.execute_update(RequirementWorkflow.filter, FilterInput(SUPPORT, True))
    assert reply.stage == AWAITING_SYNC and reply.next_sync
    assert reply.next_sync == (await handle.query(RequirementWorkflow.status)).next_sync
    return shanghai(reply.next_sync)


async def at_sync(env: WorkflowEnvironment, handle: Handle, sync_at: datetime) -> None:
    await env.sleep(sync_at - await env.get_current_time() + timedelta(minutes=1))
    await stage_is(handle, AT_SYNC)


async def refused_with(handle: Handle, update: object, argument: object) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(update, argument)  # type: ignore[call-overload]
    assert isinstance(err.value.cause, ApplicationError)
    return str(err.value.cause.type)


async def sheet_agrees(handle: Handle) -> None:
    """The tracking sheet's row (the memo) says what the case says, after every step."""
    for _ in range(100):
        status = await handle.query(RequirementWorkflow.status)
        memo = await (await handle.describe()).memo_value(TRACKING_MEMO, default=None)
        if memo == tracking_row(status):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the sheet says {memo}, the case {tracking_row(status)}")


@pytest.mark.parametrize(
    ("accepted_at", "sync_at"),
    [
        ("2026-03-03T12:00", "2026-03-05"),  # Tuesday -> Thursday
        ("2026-03-06T12:00", "2026-03-09"),  # Friday -> Monday
        ("2026-03-05T12:00", "2026-03-09"),  # Thursday after the sync -> the next Monday
        ("2026-03-05T09:00", "2026-03-05"),  # Thursday before the sync -> that very sync
        ("2026-09-29T12:00", "2026-10-08"),  # Tuesday before National Day -> next working day
        # Thursday 12 Feb: Monday 16 Feb starts the Spring Festival break (to Monday 23 Feb).
        ("2026-02-12T12:00", "2026-02-24"),
    ],
)
async def test_the_next_sync_follows_the_calendar(
    stack: Stack, accepted_at: str, sync_at: str
) -> None:
    result = await CalendarActivities(stack.staff).next_occurrence(
        NextOccurrenceInput(
            cadence=RQ2_SYNC, after=f"{accepted_at}:00+08:00", rule_version=RULES.version
        )
    )
    assert result.at == f"{sync_at}T10:00:00+08:00"


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"purpose": " "}, "purpose is required: a requirement without its purpose and business"),
        ({"business_scenario": ""}, "business scenario is refused (RQ-1)"),
        ({"hospital": ""}, "hospital is required"),
        ({"hospital": "上海\n第一醫院"}, "hospital must be one line"),
        ({"product_module": " "}, "product_module is required"),
        ({"description": "x" * 4001}, "description is longer than 4000"),
    ],
)
def test_a_submission_the_rule_does_not_take_is_refused_in_its_words(
    changes: dict[str, Any], words: str
) -> None:
    with pytest.raises(regulation.InvalidInput) as err:
        validate(requirement("RQ-x", **changes), RULES)
    assert words in err.value.message
    validate(requirement("RQ-x"), RULES)


async def test_a_start_that_skips_the_gateway_is_refused_by_the_workflow(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    client = time_skipping_env.client
    async with stack.worker(client, task_queue):
        handle = await start(client, task_queue, f"RQ-cli-{uuid.uuid4().hex[:6]}", purpose="")
        with pytest.raises(WorkflowFailureError) as err:
            await asyncio.wait_for(handle.result(), 20)
    cause = err.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "INVALID_ARGUMENT"
    assert "(RQ-1)" in cause.message


async def test_only_the_senior_support_engineer_filters_and_a_refusal_goes_back_with_its_reason(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    client = own_time_skipping_env.client
    async with stack.worker(client, task_queue):
        handle = await start(client, task_queue, "RQ-refused")
        await routed(handle, stack)
        assert (
            await refused_with(handle, RequirementWorkflow.filter, FilterInput("wang.qiang", True))
            == "PERMISSION_DENIED"
        )
        assert (
            await refused_with(handle, RequirementWorkflow.filter, FilterInput(SUPPORT, False))
            == "INVALID_ARGUMENT"
        )
        await handle.execute_update(
            RequirementWorkflow.filter, FilterInput(SUPPORT, False, "Duplicate of RQ-2025-118")
        )
        result = await handle.result()
    assert result.stage == REFUSED
    mail = await stack.mail.wait_for(lambda m: "— refused" in str(m["Subject"]), 10)
    assert mail["To"] == "zhao.lei@csd.example" and "Duplicate of RQ-2025-118" in mail.get_content()


async def test_a_requirement_from_submission_to_revisit_and_close(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = own_time_skipping_env
    async with stack.worker(env.client, task_queue):
        handle = await start(env.client, task_queue, "RQ-full")
        await routed(handle, stack)
        await sheet_agrees(handle)
        sync_at = await accepted(handle)
        await sheet_agrees(handle)
        assert (sync_at.weekday(), sync_at.hour) in ((0, 10), (3, 10)) or (
            sync_at.date() > (await env.get_current_time()).date()
        )
        assert (
            await refused_with(
                handle, RequirementWorkflow.record_sync, SyncOutcomeInput(SUPPORT, "solution", "x")
            )
            == "FAILED_PRECONDITION"
        )
        await at_sync(env, handle, sync_at)
        await sheet_agrees(handle)
        await handle.execute_update(
            RequirementWorkflow.record_sync,
            SyncOutcomeInput(SUPPORT, "solution", "A bed-order sort in 5.3"),
        )
        await sheet_agrees(handle)
        # Both channels delivered at once: the feedback promise is met.
        await until(lambda: any("R&D's solution" in str(m["Subject"]) for m in stack.mail.messages))
        await until(lambda: stack.phone_log.exists() and "RQ-full" in stack.phone_log.read_text())
        # The log provider cannot confirm a call: the promise is kept once the field confirms.
        status = await status_when(handle, lambda s: s.awaiting_receipt)
        assert status.feedback_sla is not None and status.feedback_sla.state == "ok"
        assert (
            await refused_with(
                handle, RequirementWorkflow.confirm_receipt, ReceiptInput("liu.yang")
            )
            == "PERMISSION_DENIED"
        )
        await handle.execute_update(RequirementWorkflow.confirm_receipt, ReceiptInput("zhao.lei"))
        status = await status_when(
            handle, lambda s: s.feedback_sla is not None and s.feedback_sla.state == "met"
        )
        assert not status.awaiting_receipt and status.fed_back
        await sheet_agrees(handle)

        released = await handle.execute_update(
            RequirementWorkflow.release, ReleaseInput(SUPPORT, "5.3.0")
        )
        assert released.stage == RELEASED
        await sheet_agrees(handle)
        status = await status_when(handle, lambda s: bool(s.revisit_due_at))
        released_at = shanghai(status.history[-1].at)
        assert shanghai(status.revisit_due_at) - released_at == RULES.requirement_revisit_after
        await env.sleep(timedelta(days=7) - timedelta(minutes=5))
        assert (await handle.query(RequirementWorkflow.status)).stage == RELEASED
        await env.sleep(timedelta(minutes=10))
        await stage_is(handle, REVISIT_DUE)
        await sheet_agrees(handle)
        revisit = await stack.mail.wait_for(lambda m: "revisit due" in str(m["Subject"]), 10)
        assert revisit["To"] == "shi.wenjun@csd.example"

        assert (
            await refused_with(
                handle, RequirementWorkflow.record_revisit, RevisitInput("zhao.lei", True)
            )
            == "PERMISSION_DENIED"
        )
        await handle.execute_update(
            RequirementWorkflow.record_revisit, RevisitInput("shi.wenjun", True, "ward 5 happy")
        )
        await stage_is(handle, REVISITED)
        await sheet_agrees(handle)
        assert (
            await refused_with(handle, RequirementWorkflow.close, CloseInput(SUPPORT))
            == "FAILED_PRECONDITION"
        )
        for n, kind in enumerate(("application", "solution", "verification")):
            confirmed = await handle.execute_update(
                RequirementWorkflow.register_confirmation,
                ConfirmationInput(
                    "shi.wenjun", kind, f"file://rq-full/{kind}.pdf", "Dr. 王", "2026-12-01"
                ),
            )
            assert len(confirmed.missing_confirmations) == 2 - n
            await sheet_agrees(handle)
        await handle.execute_update(RequirementWorkflow.close, CloseInput(SUPPORT))
        result = await handle.result()
        await sheet_agrees(handle)
        await record_history(handle, "requirement_full_lifecycle")
    assert result.stage == CLOSED
    assert [c.kind for c in result.confirmations] == ["application", "solution", "verification"]
    assert result.notices == []
    # Every instant a person reads is in Asia/Shanghai.
    feedback = result.feedback_sla
    assert feedback is not None
    for instant in (
        result.submitted_at,
        result.revisit_due_at,
        feedback.started_at,
        feedback.warn_at,
        feedback.breach_at,
        *(e.at for e in result.history),
    ):
        shanghai(instant)


async def test_an_unsatisfied_revisit_reopens_for_the_next_sync(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = own_time_skipping_env
    async with stack.worker(env.client, task_queue):
        handle = await start(env.client, task_queue, "RQ-reopen")
        await routed(handle, stack)
        sync_at = await accepted(handle)
        await at_sync(env, handle, sync_at)
        deferred = await handle.execute_update(
            RequirementWorkflow.record_sync,
            SyncOutcomeInput(SUPPORT, "deferred", "needs a DB change"),
        )
        assert deferred.syncs_deferred == 1
        # The reply carries the sync the deferral leads to.
        assert deferred.stage == AWAITING_SYNC and shanghai(deferred.next_sync) > sync_at
        assert await handle.query(RequirementWorkflow.risk) == "medium"
        await at_sync(env, handle, shanghai(deferred.next_sync))
        await handle.execute_update(
            RequirementWorkflow.record_sync, SyncOutcomeInput(SUPPORT, "solution", "sort option")
        )
        await stage_is(handle, SOLUTION)
        await status_when(handle, lambda s: s.awaiting_receipt)
        assert (
            await refused_with(handle, RequirementWorkflow.release, ReleaseInput(SUPPORT, "5.3.1"))
            == "FAILED_PRECONDITION"
        )
        await handle.execute_update(RequirementWorkflow.confirm_receipt, ReceiptInput("zhao.lei"))
        await status_when(handle, lambda s: s.fed_back)
        await handle.execute_update(RequirementWorkflow.release, ReleaseInput(SUPPORT, "5.3.1"))
        await env.sleep(timedelta(days=7, minutes=5))
        await stage_is(handle, REVISIT_DUE)
        reopened = await handle.execute_update(
            RequirementWorkflow.record_revisit,
            RevisitInput("shi.wenjun", False, "wrong sort order"),
        )
        assert reopened.stage == AWAITING_SYNC and shanghai(reopened.next_sync)
        assert await handle.query(RequirementWorkflow.risk) == "high"
        await handle.terminate("test over")


async def test_the_feedback_alerts_quote_the_promise_and_its_deadlines(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = own_time_skipping_env
    async with stack.worker(env.client, task_queue):
        handle = await start(env.client, task_queue, "RQ-late")
        await routed(handle, stack)
        await at_sync(env, handle, await accepted(handle))
        await handle.execute_update(
            RequirementWorkflow.record_sync, SyncOutcomeInput(SUPPORT, "solution", "fix")
        )
        # The logged call is never confirmed and the field does not confirm receipt.
        status = await status_when(handle, lambda s: s.awaiting_receipt)
        view = status.feedback_sla
        assert view is not None
        started = shanghai(view.started_at)
        assert (shanghai(view.warn_at) - started, shanghai(view.breach_at) - started) == (
            RULES.requirement_feedback_warning,
            RULES.requirement_feedback_budget,
        )
        assert "within 2 hours" in view.promise and "after 90 minutes" in view.promise

        await env.sleep(RULES.requirement_feedback_warning + timedelta(minutes=1))
        warning = await stack.mail.wait_for(
            lambda m: "RQ-late: feedback SLA warning" in str(m["Subject"]), 10
        )
        assert warning["To"] == "gao.lei@csd.example"
        status = await handle.query(RequirementWorkflow.status)
        assert status.feedback_sla is not None
        quotes(warning.get_content(), status.feedback_sla)
        assert status.sla_state == "warning"

        await env.sleep(RULES.requirement_feedback_budget - RULES.requirement_feedback_warning)
        breach = await stack.mail.wait_for(
            lambda m: "RQ-late: feedback SLA breach" in str(m["Subject"]), 10
        )
        assert {a.strip() for a in str(breach["To"]).split(",")} == ESCALATION
        status = await handle.query(RequirementWorkflow.status)
        assert status.feedback_sla is not None
        quotes(breach.get_content(), status.feedback_sla)
        assert (status.sla_state, await handle.query(RequirementWorkflow.risk)) == (
            "breached",
            "high",
        )
        # Late, but the field has it: the breach stays on the record.
        await handle.execute_update(RequirementWorkflow.confirm_receipt, ReceiptInput("zhao.lei"))
        status = await status_when(handle, lambda s: s.fed_back)
        assert status.feedback_sla is not None and status.feedback_sla.state == "breached"
        await handle.terminate("test over")


async def test_a_mail_refused_for_good_is_noted_alerted_and_the_requirement_goes_on(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = own_time_skipping_env
    # The senior support engineer's mailbox does not exist: the mail to filter is refused.
    stack.mail.refuse("gao.lei@csd.example")
    async with stack.worker(env.client, task_queue):
        handle = await start(env.client, task_queue, "RQ-unmailed")
        refused = await stack.mail.wait_for(
            lambda m: (
                "RQ-unmailed" in str(m["Subject"])
                and "a notification was refused" in str(m["Subject"])
            ),
            10,
        )
        # Alerted to the technical service team lead.
        assert refused["To"] == "zhou.xiaoming@csd.example"
        assert "高雷" in refused.get_content()
        status = await status_when(handle, lambda s: bool(s.notices))
        assert status.stage == "submitted"
        notice = status.notices[0]
        assert "to filter" in notice and "to 高雷 was not sent" in notice
        assert "notice" in [e.kind for e in status.history]
        details = await current_details(handle)
        assert "Not delivered (1)" in details
        assert status.notices[0] in details
        # The requirement goes on: support filters it in, and it waits for its sync.
        await accepted(handle)
        status = await handle.query(RequirementWorkflow.status)
        assert status.stage == AWAITING_SYNC and len(status.notices) == 1
        await record_history(handle, "requirement_mail_refused")
        await handle.terminate("test over")


@pytest.fixture
def phone_down(
    phone_gateway_stack: tuple[Stack, PhoneGateway],
) -> tuple[Stack, PhoneGateway]:
    phone_gateway_stack[1].failures = 10**6  # the voice gateway is down for good
    return phone_gateway_stack


@pytest.mark.faults
async def test_phone_down_for_two_hours_warns_at_90_minutes_and_breaches_at_120(
    own_time_skipping_env: WorkflowEnvironment,
    phone_down: tuple[Stack, PhoneGateway],
    task_queue: str,
) -> None:
    env = own_time_skipping_env
    stack, gateway = phone_down
    async with stack.worker(env.client, task_queue):
        handle = await start(env.client, task_queue, "RQ-sla")
        await routed(handle, stack)
        await at_sync(env, handle, await accepted(handle))
        await handle.execute_update(
            RequirementWorkflow.record_sync, SyncOutcomeInput(SUPPORT, "solution", "fix")
        )
        await until(lambda: any("R&D's solution" in str(m["Subject"]) for m in stack.mail.messages))
        status = await handle.query(RequirementWorkflow.status)
        assert status.feedback_sla is not None
        warn_at = datetime.fromisoformat(status.feedback_sla.warn_at)
        breach_at = datetime.fromisoformat(status.feedback_sla.breach_at)
        started = datetime.fromisoformat(status.feedback_sla.started_at)
        assert (warn_at - started, breach_at - started) == (
            timedelta(minutes=90),
            timedelta(minutes=120),
        )

        def alerts(kind: str) -> list[str]:
            return [
                str(m["Subject"])
                for m in stack.mail.messages
                if f"feedback SLA {kind}" in str(m["Subject"])
            ]

        for _ in range(11):  # 88 minutes
            await env.sleep(timedelta(minutes=8))
            await asyncio.sleep(0.05)
        assert not alerts("warning")
        await env.sleep(timedelta(minutes=5))  # past 90 minutes
        warning = await stack.mail.wait_for(
            lambda m: "feedback SLA warning" in str(m["Subject"]), 10
        )
        assert warning["To"] == "gao.lei@csd.example"
        await env.sleep(timedelta(minutes=35))  # past 120 minutes
        breach = await stack.mail.wait_for(lambda m: "feedback SLA breach" in str(m["Subject"]), 10)
        assert {a.strip() for a in str(breach["To"]).split(",")} == ESCALATION
        status = await handle.query(RequirementWorkflow.status)
        assert status.feedback_sla is not None
        quotes(breach.get_content(), status.feedback_sla)
        await env.sleep(timedelta(minutes=30))
        assert len(alerts("warning")) == 1 and len(alerts("breach")) == 1
        # The email went once; the phone kept being retried under one key.
        assert len([m for m in stack.mail.messages if "R&D's solution" in str(m["Subject"])]) == 1
        case_key = (await handle.query(RequirementWorkflow.status)).case_key
        assert {r.body["idempotency_key"] for r in gateway.requests} == {
            f"requirement-RQ-sla:{case_key}:solution-1:call"
        }
        assert (await handle.query(RequirementWorkflow.status)).feedback_sla.state == "breached"  # type: ignore[union-attr]
        await handle.terminate("test over")


async def test_a_long_lived_requirement_continues_as_new_and_keeps_its_record(
    own_time_skipping_env: WorkflowEnvironment,
    stack: Stack,
    task_queue: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One sync per run, so the second sync already runs in a fresh run. The sandbox keeps its own
    # copy of the rule sets, so this worker runs unsandboxed to see the patched rule.
    rules = [dataclasses.replace(r, requirement_syncs_per_run=1) for r in rule_sets.RULE_SETS]
    monkeypatch.setattr(rule_sets, "RULE_SETS", tuple(rules))
    env = own_time_skipping_env
    worker = Worker(
        env.client,
        task_queue=task_queue,
        workflows=[RequirementWorkflow],
        activities=activities_for(staff=stack.staff, finance=stack.finance, notify=stack.notify),
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    async with worker:
        handle = await start(env.client, task_queue, "RQ-long")
        await routed(handle, stack)
        sync_at = await accepted(handle)
        first_run = (await handle.describe()).run_id
        await at_sync(env, handle, sync_at)
        deferred = await handle.execute_update(
            RequirementWorkflow.record_sync, SyncOutcomeInput(SUPPORT, "deferred", "next time")
        )
        latest = env.client.get_workflow_handle_for(RequirementWorkflow.run, handle.id)
        for _ in range(100):
            if (await latest.describe()).run_id != first_run:
                break
            await asyncio.sleep(0.05)
        assert (await latest.describe()).run_id != first_run
        status = await latest.query(RequirementWorkflow.status)
        assert status.syncs_deferred == 1 and status.next_sync == deferred.next_sync
        assert [e.kind for e in status.history][:3] == ["submitted", "accepted", "deferred"]
        # The new run takes updates like the old one.
        await latest.execute_update(
            RequirementWorkflow.register_confirmation,
            ConfirmationInput(
                "zhao.lei", "application", "file://rq-long/app.pdf", "Dr. 李", "2026-12-01"
            ),
        )
        await latest.terminate("test over")


@activity.defn(name="staff.next_occurrence")
async def sync_right_away(input: NextOccurrenceInput) -> OccurrenceResult:
    """For the real-time crash test only: the sync is already due (the real calendar activity is
    tested above)."""
    return OccurrenceResult(at=input.after, official=True)


@pytest.mark.faults
async def test_a_worker_lost_mid_sla_is_replaced_and_the_alert_comes_once(
    dev_server_env: WorkflowEnvironment,
    phone_down: tuple[Stack, PhoneGateway],
    task_queue: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Real time on the real server: a 4-second feedback budget, warning at 3 s.
    fast = [
        dataclasses.replace(
            r,
            requirement_feedback_budget=timedelta(seconds=4),
            requirement_feedback_warning=timedelta(seconds=3),
        )
        for r in rule_sets.RULE_SETS
    ]
    monkeypatch.setattr(rule_sets, "RULE_SETS", tuple(fast))
    stack, _gateway = phone_down
    client = dev_server_env.client
    activities = [
        a
        for a in activities_for(staff=stack.staff, finance=stack.finance, notify=stack.notify)
        if getattr(a, "__temporal_activity_definition").name != "staff.next_occurrence"
    ] + [sync_right_away]

    def worker() -> Worker:
        return Worker(
            client,
            task_queue=task_queue,
            workflows=[RequirementWorkflow],
            activities=activities,
            workflow_runner=UnsandboxedWorkflowRunner(),
        )

    def count(kind: str) -> int:
        return len([m for m in stack.mail.messages if f"feedback SLA {kind}" in str(m["Subject"])])

    async with worker():
        handle = await start(client, task_queue, f"RQ-crash-{uuid.uuid4().hex[:6]}")
        await routed(handle, stack)
        await handle.execute_update(RequirementWorkflow.filter, FilterInput(SUPPORT, True))
        await stage_is(handle, AT_SYNC)
        await handle.execute_update(
            RequirementWorkflow.record_sync, SyncOutcomeInput(SUPPORT, "solution", "fix")
        )
        await until(lambda: count("warning") == 1, seconds=15)
    # The worker is gone mid-SLA; its successor carries the same clock to the breach.
    async with worker():
        await until(lambda: count("breach") == 1, seconds=20)
        await asyncio.sleep(1)
        assert (count("warning"), count("breach")) == (1, 1)
        status = await handle.query(RequirementWorkflow.status)
        assert status.feedback_sla is not None and status.feedback_sla.state == "breached"
        await handle.terminate("test over")
