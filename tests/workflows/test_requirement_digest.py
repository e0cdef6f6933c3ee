"""RQ-5 and RQ-6: the digests summarise the tracking sheet read from the real dev server."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from temporalio.testing import WorkflowEnvironment

from activities.requirements import DigestSheet, TrackingRow, digest_sheet_of
from services.notify.servicer import MAX_BODY
from tests.stack import Stack
from tests.workflows.recording import record_history
from workflows.requirement import FilterInput, RequirementInput, RequirementWorkflow, workflow_id
from workflows.requirement_digest import (
    DigestInput,
    DigestResult,
    RequirementDigestWorkflow,
    render,
    summarise,
)


def digest_result(kind: str, sheet: DigestSheet) -> DigestResult:
    result = DigestResult(kind=kind)
    summarise(result, sheet)
    return result


def test_the_summary_counts_by_stage_and_region_and_names_the_risks() -> None:
    rows = [
        TrackingRow("RQ-1", "H1", "east", "awaiting_sync", "", "low"),
        TrackingRow("RQ-2", "H1", "east", "solution_fed_back", "breached", "high", 2),
        TrackingRow("RQ-3", "H2", "north", "closed", "met", "none"),
    ]
    sheet = digest_sheet_of(rows, listed=200)
    result = digest_result("weekly", sheet)
    assert result.by_stage == {"awaiting_sync": 1, "closed": 1, "solution_fed_back": 1}
    assert result.by_region == {"east": 2, "north": 1}
    assert (result.breached, result.high_risk) == (["RQ-2"], ["RQ-2"])
    # The one most at risk first.
    assert [r.reference for r in sheet.listed] == ["RQ-2", "RQ-1"]
    text = render(result, sheet)
    assert "RQ-1" in text and "RQ-2" in text and "RQ-3" not in text.split("Open requirements")[1]


def test_ten_thousand_open_requirements_still_make_one_email() -> None:
    """Found by the scale benchmark: listing every open requirement outgrew notify's body limit
    (refused for good), and the Friday email never went out."""
    rows = [
        TrackingRow(f"RQ-{n}", "H", "east", "awaiting_sync", "breached", "high" if n % 7 else "low")
        for n in range(10_000)
    ]
    sheet = digest_sheet_of(rows, listed=200)
    text = render(digest_result("weekly", sheet), sheet)
    assert len(text) < MAX_BODY
    assert "Open requirements: 10000, the 200 most at risk:" in text
    assert "The other 9800 are in the full tracking sheet" in text
    assert "and 9950 more" in text  # breached: fifty named, the rest counted


async def test_the_weekly_status_email_goes_to_the_field_and_the_managers(
    dev_server_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    client = dev_server_env.client
    reference = f"RQ-digest-{uuid.uuid4().hex[:6]}"
    async with stack.worker(client, task_queue):
        handle = await client.start_workflow(
            RequirementWorkflow.run,
            RequirementInput(
                reference,
                "zhao.lei",
                "east",
                "上海第一醫院",
                "EMR nursing",
                "p",
                "s",
                "d",
                "2024-v1",
            ),
            id=workflow_id(reference),
            task_queue=task_queue,
        )
        for _ in range(100):
            try:
                await handle.execute_update(
                    RequirementWorkflow.filter, FilterInput("gao.lei", True)
                )
                break
            except Exception:
                await asyncio.sleep(0.1)
        for _ in range(100):  # the visibility store catches up within moments
            found = [
                w
                async for w in client.list_workflows(
                    f"WorkflowId = '{handle.id}' AND CsdStage = 'awaiting_sync'"
                )
            ]
            if found:
                break
            await asyncio.sleep(0.1)
        result = await client.execute_workflow(
            RequirementDigestWorkflow.run,
            DigestInput("weekly", datetime.now(UTC).isoformat(), "2024-v1"),
            id=f"digest-{reference}",
            task_queue=task_queue,
        )
        await record_history(
            client.get_workflow_handle(f"digest-{reference}"), "requirement_digest_weekly"
        )
        await handle.terminate("test over")
    assert result.total >= 1 and result.by_stage.get("awaiting_sync", 0) >= 1
    mail = await stack.mail.wait_for(lambda m: "[RQ-5]" in str(m["Subject"]), 10)
    assert reference in mail.get_content()
    assert "wang.qiang@csd.example" in str(mail["To"]) and "zhao.lei@csd.example" in str(mail["To"])
    assert "zhou.xiaoming@csd.example" in str(mail["Cc"]) and "huang.aiping@csd.example" in str(
        mail["Cc"]
    )


async def test_a_refused_digest_is_noted_and_mailed_to_the_team_lead(
    dev_server_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    """One recipient's mailbox is unknown, so the server refuses the whole message: the digest
    still finishes, says so, and the team lead hears of it."""
    client = dev_server_env.client
    digest_id = f"digest-refused-{uuid.uuid4().hex[:6]}"
    stack.mail.refuse("wang.qiang@csd.example")
    try:
        async with stack.worker(client, task_queue):
            result = await client.execute_workflow(
                RequirementDigestWorkflow.run,
                DigestInput("weekly", datetime.now(UTC).isoformat(), "2024-v1"),
                id=digest_id,
                task_queue=task_queue,
            )
    finally:
        stack.mail.refusals.clear()
    assert result.stage == "sent"
    [notice] = result.notices
    assert notice.startswith('the email "status" to ') and "no such mailbox" in notice
    lead = await stack.mail.wait_for(
        lambda m: (
            "a notification was refused" in str(m["Subject"]) and "[RQ-5]" in str(m["Subject"])
        ),
        10,
    )
    assert lead["To"] == "zhou.xiaoming@csd.example"
