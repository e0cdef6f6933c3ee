"""CS-2 on the time-skipping server with the real services: each quarter every hospital under
maintenance is surveyed; the assistant records the score; a dissatisfied one is followed up by
the region's customer service manager on the SLA clock; the planner plans them all."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from temporalio.testing import WorkflowEnvironment

from tests.stack import Stack
from tests.workflows.case_details import refused
from tests.workflows.recording import record_history
from workflows.cadence_planner import HORIZON, CadencePlannerWorkflow, PlanInput
from workflows.regulation import cadences, shown
from workflows.satisfaction import (
    COLLECTING,
    FOLLOWED_UP,
    SATISFIED,
    FollowUpInput,
    ResultInput,
    SatisfactionSurveyWorkflow,
    SurveyInput,
    SurveyStatus,
    workflow_id,
)


async def _collecting(env: WorkflowEnvironment, task_queue: str, project: str) -> Any:
    at = shown(await env.get_current_time())
    handle = await env.client.start_workflow(
        SatisfactionSurveyWorkflow.run,
        SurveyInput(project, "上海第一醫院", "east", at, "2024-v1"),
        id=f"{workflow_id(project, at[:10])}-{task_queue}",
        task_queue=task_queue,
    )
    for _ in range(200):
        status: SurveyStatus = await handle.query(SatisfactionSurveyWorkflow.status)
        if status.stage == COLLECTING and status.collectors and status.slas:
            return handle
        await asyncio.sleep(0.05)
    raise AssertionError("never collecting")


async def test_a_dissatisfied_hospital_is_followed_up_by_the_regions_csm(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = time_skipping_env
    async with stack.worker(env.client, task_queue):
        handle = await _collecting(env, task_queue, "sh-first-hospital")
        await stack.mail.wait_for(lambda m: "survey to collect" in str(m["Subject"]))
        record = SatisfactionSurveyWorkflow.record_result
        assert "the assistant does" in await refused(handle, record, ResultInput("li.na", 2))
        assert "1 to 5" in await refused(handle, record, ResultInput("shi.wenjun", 7))
        await handle.execute_update(
            record, ResultInput("shi.wenjun", 2, "slow answers on the weekend")
        )
        mail = await stack.mail.wait_for(lambda m: "dissatisfied" in str(m["Subject"]))
        assert "li.na@csd.example" in str(mail["To"])
        follow = SatisfactionSurveyWorkflow.record_follow_up
        assert "follows up (CS-2)" in await refused(
            handle, follow, FollowUpInput("zhao.lei", "called")
        )
        await handle.execute_update(follow, FollowUpInput("li.na", "a weekend rota agreed"))
        result: SurveyStatus = await handle.result()
        await record_history(handle, "satisfaction_followed_up")
    assert result.stage == FOLLOWED_UP and result.score == 2
    assert [s.state for s in result.slas] == ["met", "met"]


async def test_a_satisfied_hospital_closes_the_survey(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = time_skipping_env
    async with stack.worker(env.client, task_queue):
        handle = await _collecting(env, task_queue, "sh-renji")
        await handle.execute_update(
            SatisfactionSurveyWorkflow.record_result, ResultInput("shi.wenjun", 5)
        )
        result: SurveyStatus = await handle.result()
    assert result.stage == SATISFIED


async def test_the_planner_plans_a_survey_of_every_hospital(
    own_time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = own_time_skipping_env
    async with stack.worker(env.client, task_queue):
        planned_at = await env.get_current_time()
        result = await env.client.execute_workflow(
            CadencePlannerWorkflow.run,
            PlanInput(cadences.CS2),
            id="plan-cs2",
            task_queue=task_queue,
        )
        occurrence = datetime.fromisoformat(result.occurrence)
        assert occurrence.month in (3, 6, 9, 12) and occurrence.hour == 10
        if not result.workflow_id:
            assert occurrence - planned_at > HORIZON - timedelta(days=1)
            return
        day = result.occurrence[:10]
        for project in ("sh-first-hospital", "sh-renji", "bj-union", "wh-tongji", "km-first"):
            survey = env.client.get_workflow_handle(workflow_id(project, day))
            status = await survey.query(SatisfactionSurveyWorkflow.status)
            assert status.project_code == project and status.at == result.occurrence
            await survey.terminate("test over")
