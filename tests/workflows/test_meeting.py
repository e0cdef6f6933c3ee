"""Routine meetings (MT-1..MT-3) on the time-skipping server, with the real services."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from tests.stack import Stack
from tests.workflows.recording import record_history
from workflows.meeting import (
    HELD,
    MINUTES_MISSING,
    MINUTES_RECORDED,
    MeetingInput,
    MeetingStatus,
    MeetingWorkflow,
    MinutesInput,
    workflow_id,
)

Handle = WorkflowHandle[MeetingWorkflow, MeetingStatus]


async def start(env: WorkflowEnvironment, task_queue: str, rule_id: str, region: str) -> Handle:
    starts = (await env.get_current_time()) + timedelta(days=2)
    return await env.client.start_workflow(
        MeetingWorkflow.run,
        MeetingInput(rule_id, region, starts.isoformat(), "2024-v1"),
        id=workflow_id(rule_id, region, starts.date().isoformat()),
        task_queue=task_queue,
    )


async def invited(handle: Handle) -> MeetingStatus:
    for _ in range(200):
        status = await handle.query(MeetingWorkflow.status)
        if status.minutes_taker_id:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError("never set up")


def addresses(header: object) -> set[str]:
    return {a.strip() for a in str(header or "").split(",") if a.strip()}


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
        status = await invited(handle)
        assert (status.chair_id, status.minutes_taker_id) == (chair, taker)
        assert sorted(status.required_ids) == sorted(required)
        assert status.notified_ids == notified
        invitation = await stack.mail.wait_for(lambda m: "invitation" in str(m["Subject"]), 10)
        assert addresses(invitation["To"]) == {f"{p}@csd.example" for p in {chair, *required}}
        assert addresses(invitation["Cc"]) == {f"{p}@csd.example" for p in notified}
        assert all(item in invitation.get_content() for item in status.agenda)
        await handle.terminate("test over")


async def test_minutes_recorded_by_the_right_person_are_sent_back_with_attendance(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = own_time_skipping_env
    async with stack.worker(env.client, task_queue):
        handle = await start(env, task_queue, "MT-1", "east")
        status = await invited(handle)
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
    minutes = await stack.mail.wait_for(lambda m: "— minutes" in str(m["Subject"]), 10)
    assert addresses(minutes["To"]) == {
        "huang.aiping@csd.example",
        "jiang.chengzhao@csd.example",
        "shi.wenjun@csd.example",
    }
    assert "Required but absent: li.na" in minutes.get_content()
    assert not [m for m in stack.mail.messages if "minutes missing" in str(m["Subject"])]


async def test_missing_minutes_remind_then_alert_the_chairs_manager(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = own_time_skipping_env
    async with stack.worker(env.client, task_queue):
        handle = await start(env, task_queue, "MT-3", "")
        status = await invited(handle)
        due = datetime.fromisoformat(status.minutes_due_at)
        await env.sleep(due - await env.get_current_time() - timedelta(minutes=5))
        reminder = await stack.mail.wait_for(lambda m: "minutes reminder" in str(m["Subject"]), 10)
        assert reminder["To"] == "shi.wenjun@csd.example"
        assert not [m for m in stack.mail.messages if "minutes missing" in str(m["Subject"])]
        await env.sleep(timedelta(minutes=10))
        alert = await stack.mail.wait_for(lambda m: "minutes missing" in str(m["Subject"]), 10)
        # The chair is the department manager 黃愛平, who reports to nobody: the managers hear.
        assert addresses(alert["To"]) == {"huang.aiping@csd.example", "jiang.chengzhao@csd.example"}
        assert (await handle.query(MeetingWorkflow.status)).stage == MINUTES_MISSING
        await handle.execute_update(
            MeetingWorkflow.record_minutes, MinutesInput("shi.wenjun", "Late minutes.")
        )
        result = await handle.result()
    assert result.stage == MINUTES_RECORDED
    assert len([m for m in stack.mail.messages if "minutes missing" in str(m["Subject"])]) == 1
