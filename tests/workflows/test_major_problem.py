"""Major problems (MI-1..MI-3) on the time-skipping server, with the real services.

The owner in the demo organisation is the technical service team lead, so the escalation chain
is: the owner, then the department managers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from csd.notify.v1 import notify_pb2
from csd.notify.v1.notify_pb2_grpc import NotifyServiceStub
from temporalio.client import (
    Client,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities.staff import CalendarActivities, WorkingTimeInput
from tests.phone_gateway import PhoneGateway
from tests.stack import Stack
from tests.workflows.case_details import current_details, quotes, shanghai
from tests.workflows.recording import record_history
from workflows import regulation
from workflows.major_problem import (
    ACKNOWLEDGED,
    AWAITING_ACK,
    MAX_EVIDENCE,
    RESOLVED,
    AcknowledgeInput,
    MajorProblemInput,
    MajorProblemStatus,
    MajorProblemWorkflow,
    ResolveInput,
    StatusUpdateInput,
    validate,
    workflow_id,
)
from workflows.on_call_miss import AWAITING_VERIFICATION, OnCallMissWorkflow
from workflows.on_call_miss import workflow_id as on_call_miss_id

Handle = WorkflowHandle[MajorProblemWorkflow, MajorProblemStatus]
MANAGERS = {"huang.aiping@csd.example", "jiang.chengzhao@csd.example"}
CC = {
    "lu.bingqing", "ye.kai", "fan.haidong", "lin.gong", "zhang.bin", "pan.zhongdong",
    "huang.aiping", "jiang.chengzhao", "shi.wenjun", "wang.qiang", "li.na",
}  # fmt: skip
RULES = regulation.by_version("2024-v1")


def report(reference: str = "MI-1", **changes: Any) -> MajorProblemInput:
    return dataclasses.replace(
        MajorProblemInput(
            reference=reference,
            reporter_id="zhao.lei",
            region_code="east",
            category="data_loss",
            hospital="上海第一醫院",
            product="EMR nursing module",
            description="Nursing notes of ward 5 saved between 02:00 and 02:40 are gone.",
            rule_version="2024-v1",
            evidence=["screenshot-0231.png", "db-audit-0240.log"],
        ),
        **changes,
    )


async def start(client: Client, task_queue: str, reference: str = "MI-1", **changes: Any) -> Handle:
    return await client.start_workflow(
        MajorProblemWorkflow.run,
        report(reference, **changes),
        id=workflow_id(reference),
        task_queue=task_queue,
    )


def calls(stack: Stack) -> list[str]:
    if not stack.phone_log.exists():
        return []
    return [json.loads(line)["to"] for line in stack.phone_log.read_text().splitlines()]


def addresses(header: object) -> set[str]:
    return {a.strip() for a in str(header or "").split(",") if a.strip()}


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def awaiting_ack(handle: Handle, stack: Stack) -> MajorProblemStatus:
    for _ in range(200):
        status = await handle.query(MajorProblemWorkflow.status)
        if status.stage == AWAITING_ACK and status.calls:
            await until(lambda: len(calls(stack)) >= 1 and len(stack.mail.messages) >= 1)
            return status
        await asyncio.sleep(0.05)
    raise AssertionError("never started calling")


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"category": "slow_screen"}, "is not a major problem (MI-1)"),
        ({"hospital": " "}, "hospital is required"),
        ({"hospital": "上海\n第一醫院"}, "hospital must be one line"),
        ({"product": ""}, "product is required"),
        ({"description": "  "}, "description is required"),
        ({"evidence": ["e"] * (MAX_EVIDENCE + 1)}, f"at most {MAX_EVIDENCE} evidence"),
        ({"evidence": ["x" * 201]}, "evidence is longer than 200"),
    ],
)
def test_a_report_the_rule_does_not_take_is_refused_in_its_words(
    changes: dict[str, Any], words: str
) -> None:
    with pytest.raises(regulation.InvalidInput) as err:
        validate(report(**changes), RULES)
    assert words in err.value.message
    validate(report(), RULES)


async def test_a_start_that_skips_the_gateway_is_refused_by_the_workflow(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    client = time_skipping_env.client
    async with stack.worker(client, task_queue):
        handle = await start(client, task_queue, "MI-cli", category="slow_screen")
        with pytest.raises(WorkflowFailureError) as err:
            await asyncio.wait_for(handle.result(), 20)
    cause = err.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "INVALID_ARGUMENT"
    assert "is not a major problem (MI-1)" in cause.message
    assert calls(stack) == [] and stack.mail.messages == []


async def test_phone_and_email_at_once_then_acknowledged_and_resolved(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = own_time_skipping_env
    async with stack.worker(env.client, task_queue):
        handle = await start(env.client, task_queue)
        status = await awaiting_ack(handle, stack)
        assert status.owner_id == "zhou.xiaoming"
        # MI-2: a call to the owner AND the report form to the owner, cc everyone the rule names.
        assert calls(stack) == ["+86-139-0000-0006"]
        form = stack.mail.messages[0]
        assert addresses(form["To"]) == {"zhou.xiaoming@csd.example"}
        assert addresses(form["Cc"]) == {f"{p}@csd.example" for p in CC}
        body = form.get_content()
        for field in (
            "data loss",
            "上海第一醫院",
            "EMR nursing module",
            "ward 5",
            "db-audit-0240.log",
            "趙磊",
            f"Reported at: {status.history[0].at}",
        ):
            assert field in body

        with pytest.raises(WorkflowUpdateFailedError) as err:
            await handle.execute_update(
                MajorProblemWorkflow.acknowledge, AcknowledgeInput("liu.yang")
            )
        assert (
            isinstance(err.value.cause, ApplicationError)
            and err.value.cause.type == "PERMISSION_DENIED"
        )
        await env.sleep(timedelta(minutes=5))
        acked = await handle.execute_update(
            MajorProblemWorkflow.acknowledge, AcknowledgeInput("zhou.xiaoming", "on it")
        )
        assert acked.stage == ACKNOWLEDGED
        assert acked.slas[0].state == "met" and acked.sla_state == "ok"
        await handle.execute_update(
            MajorProblemWorkflow.post_update,
            StatusUpdateInput("zhou.xiaoming", "restoring from the 02:00 backup"),
        )
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await handle.execute_update(
                MajorProblemWorkflow.resolve, ResolveInput("zhou.xiaoming", "", "restored")
            )
        assert (
            isinstance(err.value.cause, ApplicationError)
            and err.value.cause.type == "INVALID_ARGUMENT"
            and "(G-1)" in err.value.cause.message
        )
        # Well past the acknowledgement budget: no more calls once acknowledged.
        await env.sleep(timedelta(hours=1))
        assert len(calls(stack)) == 1
        await handle.execute_update(
            MajorProblemWorkflow.resolve,
            ResolveInput(
                "zhou.xiaoming",
                "a failed index rebuild dropped rows",
                "restored; rebuild fixed in 5.2.3",
            ),
        )
        result = await handle.result()
        await record_history(handle, "major_problem_acknowledged_resolved")
    assert result.stage == RESOLVED
    assert [v.state for v in result.slas] == ["met", "met"]
    assert result.sla_state == "met" and result.notices == []
    # Every instant a person reads is in Asia/Shanghai.
    instants = [result.acknowledged_at, *(e.at for e in result.history)]
    instants += [t for v in result.slas for t in (v.started_at, v.warn_at, v.breach_at)]
    for instant in instants:
        shanghai(instant)
    reporter_mails = [
        m for m in stack.mail.messages if addresses(m["To"]) == {"zhao.lei@csd.example"}
    ]
    assert [str(m["Subject"]).rsplit("— ", 1)[1] for m in reporter_mails] == [
        "acknowledged",
        "update",
        "resolved",
    ]
    # Exactly one email per recipient for the report form.
    forms = [m for m in stack.mail.messages if str(m["Subject"]).endswith("— report")]
    assert len(forms) == 1


async def test_no_acknowledgement_escalates_in_order_with_repeats(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = own_time_skipping_env
    async with stack.worker(env.client, task_queue):
        handle = await start(env.client, task_queue, "MI-2")
        status = await awaiting_ack(handle, stack)
        acknowledgement = status.slas[0]
        assert shanghai(acknowledgement.breach_at) - shanghai(acknowledgement.started_at) == (
            RULES.major_problem_ack_budget
        )
        owner, huang, jiang = "+86-139-0000-0006", "+86-139-0000-0001", "+86-139-0000-0002"

        await env.sleep(timedelta(minutes=14))
        assert calls(stack) == [owner]
        await env.sleep(timedelta(minutes=2))  # 16 min: the owner is called again; SLA breached
        await until(lambda: len(calls(stack)) == 2)
        alert = await stack.mail.wait_for(lambda m: "SLA breach" in str(m["Subject"]), 10)
        assert addresses(alert["To"]) == MANAGERS | {"zhou.xiaoming@csd.example"}
        status = await handle.query(MajorProblemWorkflow.status)
        assert (status.slas[0].state, status.sla_state) == ("breached", "breached")
        # The alert quotes the promise and the instants the status reports.
        quotes(alert.get_content(), status.slas[0])
        assert "15 minutes, 24x7" in status.slas[0].promise
        # A department manager not yet called may not acknowledge.
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update(
                MajorProblemWorkflow.acknowledge, AcknowledgeInput("huang.aiping")
            )

        await env.sleep(timedelta(minutes=15))  # 31 min: the next level, the department managers
        await until(lambda: len(calls(stack)) == 4)
        assert sorted(calls(stack)[2:]) == sorted([huang, jiang])
        escalation = await stack.mail.wait_for(lambda m: "escalated" in str(m["Subject"]), 10)
        assert addresses(escalation["To"]) == MANAGERS
        await env.sleep(timedelta(minutes=15))  # 46 min: their second call
        await until(lambda: len(calls(stack)) == 6)
        await env.sleep(timedelta(hours=2))  # the chain is spent: no more calls
        assert len(calls(stack)) == 6
        status = await handle.query(MajorProblemWorkflow.status)
        assert status.calls == [
            "zhou.xiaoming#1", "zhou.xiaoming#2",
            "huang.aiping#1", "jiang.chengzhao#1", "huang.aiping#2", "jiang.chengzhao#2",
        ]  # fmt: skip
        # OC-1, beyond the rule: each person called and silent for the whole budget has one
        # candidate miss for their manager to verify, however often called; huang.aiping has
        # no manager to verify one.
        assert status.candidate_misses == ["zhou.xiaoming", "jiang.chengzhao"]
        miss = env.client.get_workflow_handle_for(
            OnCallMissWorkflow.run, on_call_miss_id("MI-2-zhou.xiaoming")
        )
        candidate = await miss.query(OnCallMissWorkflow.status)
        assert (
            candidate.stage == AWAITING_VERIFICATION and candidate.manager_id == "jiang.chengzhao"
        )
        to_verify = await stack.mail.wait_for(
            lambda m: "[OC-1 MI-2-zhou.xiaoming]" in str(m["Subject"]), 10
        )
        assert addresses(to_verify["To"]) == {"jiang.chengzhao@csd.example"}
        assert "a candidate miss" in to_verify.get_content()
        await record_history(handle, "major_problem_candidate_misses")
        # Now an escalation target may acknowledge.
        acked = await handle.execute_update(
            MajorProblemWorkflow.acknowledge, AcknowledgeInput("jiang.chengzhao")
        )
        assert acked.acknowledged_by == "jiang.chengzhao"
        breach_alerts = [
            m for m in stack.mail.messages if "acknowledgement SLA breach" in str(m["Subject"])
        ]
        assert len(breach_alerts) == 1
        await handle.terminate("test over")
        for person in status.candidate_misses:
            await env.client.get_workflow_handle(on_call_miss_id(f"MI-2-{person}")).terminate(
                "test over"
            )


async def test_acknowledged_but_unresolved_is_escalated_after_its_working_hours(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = own_time_skipping_env
    async with stack.worker(env.client, task_queue):
        handle = await start(env.client, task_queue, "MI-3")
        await awaiting_ack(handle, stack)
        await handle.execute_update(
            MajorProblemWorkflow.acknowledge, AcknowledgeInput("zhou.xiaoming")
        )
        status = await handle.query(MajorProblemWorkflow.status)
        resolution = status.slas[1]
        # The deadline is the staff calendar's: the budget in working time after the report.
        deadline = await CalendarActivities(stack.staff).add_working_time(
            WorkingTimeInput(
                start=resolution.started_at,
                minutes=int(RULES.major_problem_resolution_budget.total_seconds() // 60),
            )
        )
        assert resolution.breach_at == deadline.at
        breach_at = shanghai(resolution.breach_at)
        assert shanghai(resolution.warn_at) <= breach_at
        now = await env.get_current_time()
        await env.sleep(breach_at - now - timedelta(minutes=1))
        assert not [m for m in stack.mail.messages if "resolution SLA breach" in str(m["Subject"])]
        await env.sleep(timedelta(minutes=2))
        alert = await stack.mail.wait_for(
            lambda m: "resolution SLA breach" in str(m["Subject"]), 10
        )
        assert addresses(alert["To"]) == MANAGERS | {"zhou.xiaoming@csd.example"}
        status = await handle.query(MajorProblemWorkflow.status)
        assert (status.stage, status.slas[1].state) == (ACKNOWLEDGED, "breached")
        assert status.sla_state == "breached"
        quotes(alert.get_content(), status.slas[1])
        assert "16 working hours" in status.slas[1].promise
        await handle.terminate("test over")


async def test_a_relay_refused_for_good_is_noted_alerted_and_the_report_goes_on(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = own_time_skipping_env
    # The reporter's mailbox does not exist: every relay to them is refused for good.
    stack.mail.refuse("zhao.lei@csd.example")
    async with stack.worker(env.client, task_queue):
        handle = await start(env.client, task_queue, "MI-refused")
        await awaiting_ack(handle, stack)
        await handle.execute_update(
            MajorProblemWorkflow.acknowledge, AcknowledgeInput("zhou.xiaoming", "on it")
        )
        refused = await stack.mail.wait_for(
            lambda m: (
                "MI-refused" in str(m["Subject"])
                and "a notification was refused" in str(m["Subject"])
            ),
            10,
        )
        # Alerted to the technical service team lead.
        assert addresses(refused["To"]) == {"zhou.xiaoming@csd.example"}
        assert "趙磊" in refused.get_content()
        status = await handle.query(MajorProblemWorkflow.status)
        assert status.stage == ACKNOWLEDGED
        assert len(status.notices) == 1
        notice = status.notices[0]
        assert "acknowledged" in notice and "to 趙磊 was not sent" in notice
        assert [e.kind for e in status.history][-1] == "notice"
        details = await current_details(handle)
        assert "Not delivered (1)" in details
        assert status.notices[0] in details
        # The report goes on to its resolution.
        await handle.execute_update(
            MajorProblemWorkflow.resolve, ResolveInput("zhou.xiaoming", "bad index", "rebuilt")
        )
        result = await asyncio.wait_for(handle.result(), 20)
        await record_history(handle, "major_problem_relay_refused")
    assert result.stage == RESOLVED
    assert len(result.notices) == 2  # acknowledged, resolved
    assert not [m for m in stack.mail.messages if "zhao.lei@csd.example" in addresses(m["To"])]


@pytest.fixture
def phone_down_stack(
    phone_gateway_stack: tuple[Stack, PhoneGateway],
) -> tuple[Stack, PhoneGateway]:
    phone_gateway_stack[1].failures = 6  # the voice gateway refuses the first six attempts
    return phone_gateway_stack


@pytest.mark.faults
async def test_a_channel_down_is_retried_alone_and_nothing_is_sent_twice(
    own_time_skipping_env: WorkflowEnvironment,
    phone_down_stack: tuple[Stack, PhoneGateway],
    task_queue: str,
) -> None:
    env = own_time_skipping_env
    stack, gateway = phone_down_stack
    async with stack.worker(env.client, task_queue):
        handle = await start(env.client, task_queue, "MI-4")
        await until(lambda: len(stack.mail.messages) >= 1)
        # Skip through the retries' back-off: the phone stays down for a while.
        for _ in range(40):
            if len(gateway.requests) >= 7:
                break
            await env.sleep(timedelta(seconds=30))
            await asyncio.sleep(0.2)
        await until(lambda: len(gateway.requests) >= 7)
        await handle.execute_update(
            MajorProblemWorkflow.acknowledge, AcknowledgeInput("zhou.xiaoming")
        )
        await handle.terminate("test over")
    first_call = [
        r
        for r in gateway.requests
        if r.body["idempotency_key"].startswith("major-problem-MI-4:")
        and r.body["idempotency_key"].endswith(":call:zhou.xiaoming:1")
    ]
    assert len(first_call) == 7  # six refusals, then delivered once, under one key
    forms = [m for m in stack.mail.messages if str(m["Subject"]).endswith("— report")]
    assert len(forms) == 1  # the email went once while the phone kept failing


@pytest.mark.faults
async def test_a_worker_lost_between_the_call_and_the_email_sends_each_once(
    dev_server_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    client = dev_server_env.client
    port = stack.mail.port
    await stack.mail.stop()  # the mail server is down: the call goes out, the email cannot
    async with stack.worker(client, task_queue):
        handle = await start(client, task_queue, "MI-crash")
        await until(lambda: len(calls(stack)) == 1)
    # That worker is gone with the email still undelivered; a new one takes over.
    await stack.mail.start(port=port)
    async with stack.worker(client, task_queue):
        await until(
            lambda: any(str(m["Subject"]).endswith("— report") for m in stack.mail.messages),
            seconds=30,
        )
        await handle.execute_update(
            MajorProblemWorkflow.acknowledge, AcknowledgeInput("zhou.xiaoming")
        )
        await handle.terminate("test over")
    assert calls(stack) == ["+86-139-0000-0006"]
    forms = [m for m in stack.mail.messages if str(m["Subject"]).endswith("— report")]
    assert len(forms) == 1


async def test_a_call_placed_in_advance_under_a_guessed_key_does_not_stop_the_escalation(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    """The attack of issue 12: someone who knows the business key sends a call under the key
    the case would use, so that the real call is answered "already sent" (or refused). The
    case's keys carry a random part fixed when it opens, so the guess names another message."""
    reference = "MI-PREEMPT"
    notify = NotifyServiceStub(stack.notify)
    for guess in (
        f"{workflow_id(reference)}:call:zhou.xiaoming:1",  # the key before issue 12
        f"{workflow_id(reference)}::call:zhou.xiaoming:1",
    ):
        await notify.PlaceCall(
            notify_pb2.PlaceCallRequest(
                idempotency_key=guess, phone="+86-139-0000-9999", message="nothing to see"
            )
        )
    async with stack.worker(time_skipping_env.client, task_queue):
        handle = await start(time_skipping_env.client, task_queue, reference)
        status = await awaiting_ack(handle, stack)
        await until(lambda: "+86-139-0000-0006" in calls(stack))
        await handle.terminate("test over")
    assert status.notices == [] and status.calls == ["zhou.xiaoming#1"]
    assert len(status.case_key) == 16
    owner_calls = [
        json.loads(line)
        for line in stack.phone_log.read_text().splitlines()
        if json.loads(line)["to"] == "+86-139-0000-0006"
    ]
    assert [c["idempotency_key"] for c in owner_calls] == [
        f"{workflow_id(reference)}:{status.case_key}:call:zhou.xiaoming:1"
    ]
