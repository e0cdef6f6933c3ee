"""The figures a meeting's agenda starts from (MT-1..MT-3 with CS-1, CS-2, SV-1), counted on the
real dev server, whose visibility store answers counts: a complaint open in the region is in the
invitation; on a server that cannot count, the invitation says so and goes out all the same."""

from __future__ import annotations

import uuid
from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from tests.stack import Stack
from workflows.complaint import ComplaintInput, ComplaintWorkflow
from workflows.complaint import workflow_id as complaint_id
from workflows.meeting import MeetingInput, MeetingWorkflow
from workflows.meeting import workflow_id as meeting_id


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
