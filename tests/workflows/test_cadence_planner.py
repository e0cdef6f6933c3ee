"""The planner the schedules wake: the next occurrence, planned once, on the company calendar."""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio.testing import WorkflowEnvironment

from tests.stack import Stack
from tests.workflows.recording import record_history
from workflows.cadence_planner import HORIZON, CadencePlannerWorkflow, PlanInput
from workflows.meeting import MeetingWorkflow


async def test_the_next_meeting_is_planned_once(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = own_time_skipping_env
    async with stack.worker(env.client, task_queue):
        first = await env.client.execute_workflow(
            CadencePlannerWorkflow.run,
            PlanInput("mt3-customer-analysis"),
            id="plan-1",
            task_queue=task_queue,
        )
        await record_history(env.client.get_workflow_handle("plan-1"), "cadence_planner_meeting")
        again = await env.client.execute_workflow(
            CadencePlannerWorkflow.run,
            PlanInput("mt3-customer-analysis"),
            id="plan-2",
            task_queue=task_queue,
        )
        occurrence = datetime.fromisoformat(first.occurrence)
        assert occurrence.weekday() in (2, 3, 4) and occurrence.hour == 19  # Wednesday, or moved on
        assert (
            first.started and first.workflow_id == f"meeting-MT-3-{occurrence.date().isoformat()}"
        )
        assert (again.started, again.workflow_id) == (False, first.workflow_id)
        meeting = env.client.get_workflow_handle_for(MeetingWorkflow.run, first.workflow_id)
        status = await meeting.query(MeetingWorkflow.status)
        assert status.rule_id == "MT-3" and status.starts_at == first.occurrence
        await meeting.terminate("test over")


async def test_an_occurrence_beyond_the_horizon_is_not_planned_yet(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = own_time_skipping_env
    async with stack.worker(env.client, task_queue):
        planned_at = await env.get_current_time()
        result = await env.client.execute_workflow(
            CadencePlannerWorkflow.run,
            PlanInput("mt2-regional-quarterly", "east"),
            id="plan-q",
            task_queue=task_queue,
        )
    occurrence = datetime.fromisoformat(result.occurrence)
    assert occurrence.month in (1, 4, 7, 10) and 2 <= occurrence.day <= 12
    if result.workflow_id:
        assert result.started and result.workflow_id.startswith("meeting-MT-2-east-")
        assert occurrence - planned_at <= HORIZON + timedelta(days=1)
    else:
        assert not result.started
        assert occurrence - planned_at > HORIZON - timedelta(days=1)


async def test_the_weekly_reports_are_planned_with_their_deadlines_from_the_calendar(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    """WR-2..WR-4: due by Sunday 23:59:59 and tallied on the Monday (or the working day after)
    at 10:00, both instants the staff calendar gives, shown in +08:00."""
    env = own_time_skipping_env
    async with stack.worker(env.client, task_queue):
        result = await env.client.execute_workflow(
            CadencePlannerWorkflow.run,
            PlanInput("wr2-regional-weekly-report-due", "east"),
            id="plan-wr",
            task_queue=task_queue,
        )
        assert result.started and result.workflow_id.startswith("weekly-report-east-")
        report = env.client.get_workflow_handle(result.workflow_id)
        [planned] = (await report.fetch_history()).events[:1]
        await report.terminate("test over")
    started = planned.workflow_execution_started_event_attributes.input.payloads[0].data.decode()
    due = datetime.fromisoformat(result.occurrence)
    assert result.occurrence.endswith("+08:00")
    assert (due.weekday(), due.hour, due.minute, due.second) == (6, 23, 59, 59)
    assert result.occurrence in started
    assert "T10:00:00+08:00" in started  # the tally
