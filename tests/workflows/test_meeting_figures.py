"""What the routine summaries read from the cases, on the real dev server, whose visibility store
answers counts and lists: a complaint open in the region is in a meeting's figures (MT-1..MT-3,
CS-1); the week's inspection records follow the customer report (WR-3, SV-1); on a server that
cannot count, the invitation says so and goes out all the same."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import datetime, timedelta

from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from tests.stack import Stack
from tests.workflows.test_weekly_report import _occurrence
from workflows.complaint import ComplaintInput, ComplaintWorkflow
from workflows.complaint import workflow_id as complaint_id
from workflows.meeting import MeetingInput, MeetingWorkflow
from workflows.meeting import workflow_id as meeting_id
from workflows.regulation import cadences, shown
from workflows.service_plan import ServicePlanInput, ServicePlanWorkflow, VisitInput
from workflows.weekly_report import (
    CUSTOMER_REPORT,
    CUSTOMER_REPORT_SECTIONS,
    SubmissionInput,
    WeeklyReportInput,
    WeeklyReportWorkflow,
)


async def test_an_open_complaint_is_in_the_regional_meetings_figures(
    dev_server_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = dev_server_env
    reference = f"CS-{uuid.uuid4().hex[:8]}"
    async with stack.worker(env.client, task_queue):
        complaint = await env.client.start_workflow(
            ComplaintWorkflow.run,
            ComplaintInput(
                reference,
                "上海仁濟醫院",
                "central",
                "major",
                "the lab module froze",
                "ma.chao",
                "2024-v1",
            ),
            id=complaint_id(reference),
            task_queue=task_queue,
        )
        await stack.mail.wait_for(lambda m: "complaint to assign" in str(m["Subject"]), 10)
        starts = (await env.get_current_time()) + timedelta(days=3)
        meeting = await env.client.start_workflow(
            MeetingWorkflow.run,
            MeetingInput("MT-1", "central", starts.isoformat(), "2024-v1"),
            id=f"{meeting_id('MT-1', 'central', starts.date().isoformat())}-{task_queue}",
            task_queue=task_queue,
        )
        invitation = await stack.mail.wait_for(lambda m: "invitation" in str(m["Subject"]), 10)
        await meeting.terminate("test over")
        await complaint.terminate("test over")
    body = invitation.get_content()
    assert "Figures to start from:" in body
    assert "central: 1 complaint(s) open, 1 registered in the last 31 days" in body


async def test_a_server_that_cannot_count_sends_the_invitation_without_figures(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    env = time_skipping_env
    starts = (await env.get_current_time()) + timedelta(days=3)
    async with stack.worker(env.client, task_queue):
        meeting = await env.client.start_workflow(
            MeetingWorkflow.run,
            MeetingInput("MT-2", "north", starts.isoformat(), "2024-v1"),
            id=f"figures-{task_queue}",
            task_queue=task_queue,
        )
        invitation = await stack.mail.wait_for(lambda m: "invitation" in str(m["Subject"]), 10)
        await meeting.terminate("test over")
    assert "no figures: this Temporal server keeps no visibility store" in (
        invitation.get_content()
    )


async def test_the_customer_report_brings_the_weeks_inspection_records(
    dev_server_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    """WR-3 with SV-1: after the customer service manager's weekly report, the week's visits of
    the region's service plans go to the department managers as recorded."""
    env = dev_server_env
    now = await env.get_current_time()
    today = shown(now)[:10]
    due = await _occurrence(stack, cadences.WR_DUE, now)
    tally = await _occurrence(stack, cadences.WR_TALLY, datetime.fromisoformat(due))
    async with stack.worker(env.client, task_queue):
        plan = await env.client.start_workflow(
            ServicePlanWorkflow.run,
            ServicePlanInput(
                "inspection",
                "sh-renji",
                "上海仁濟醫院",
                "east",
                "liu.yang",
                "li.na",
                int(today[:4]),
                [today],
                "",
                "2024-v1",
            ),
            id=f"sv1-inspection-sh-renji-{task_queue}",
            task_queue=task_queue,
        )
        for _ in range(200):
            if (await plan.query(ServicePlanWorkflow.status)).recorders:
                break
            await asyncio.sleep(0.05)
        await plan.execute_update(
            ServicePlanWorkflow.record_visit, VisitInput("liu.yang", today, "UPS replaced")
        )
        report = await env.client.start_workflow(
            WeeklyReportWorkflow.run,
            WeeklyReportInput("east", due[:10], due, tally, "2024-v1"),
            id=f"weekly-report-east-{task_queue}",
            task_queue=task_queue,
        )
        for _ in range(200):
            if (await report.query(WeeklyReportWorkflow.status)).expected:
                break
            await asyncio.sleep(0.05)
        await report.execute_update(
            WeeklyReportWorkflow.submit,
            SubmissionInput(
                "li.na",
                CUSTOMER_REPORT,
                sections={name: "fine" for name in CUSTOMER_REPORT_SECTIONS},
            ),
        )
        records = await stack.mail.wait_for(
            lambda m: "inspection records, 1 visits" in str(m["Subject"]), 10
        )
        await report.terminate("test over")
        with contextlib.suppress(RPCError):
            await plan.terminate("test over")
    assert "sh-renji inspection: done, UPS replaced" in records.get_content()
    assert "huang.aiping@csd.example" in str(records["To"])
