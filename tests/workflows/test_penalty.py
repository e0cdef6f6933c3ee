"""Fines under a rule: recorded once in the real finance ledger, announced by real SMTP."""

from __future__ import annotations

import os
from pathlib import Path

from csd.finance.v1 import finance_pb2
from csd.finance.v1.finance_pb2_grpc import FinanceServiceStub
from temporalio.testing import WorkflowEnvironment

from services.worker.main import build_worker
from tests.stack import Stack
from workflows.penalty import ANNOUNCED, PenaltyInput, PenaltyWorkflow, workflow_id

HISTORIES = Path(__file__).parent.parent / "histories"


def bypass(reference: str) -> PenaltyInput:
    return PenaltyInput(
        reference=reference,
        rule_id="XA-1",
        person_id="zhao.lei",
        region_code="east",
        month="2026-11",
        reason="Asked R&D directly for a patch instead of filing an assistance request",
        recorded_by="chen.jing",
        rule_version="2024-v1",
    )


async def test_a_fine_is_recorded_once_and_announced(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    client = time_skipping_env.client
    reference = "RND-4711"
    async with build_worker(
        client, staff=stack.staff, finance=stack.finance, notify=stack.notify, task_queue=task_queue
    ):
        result = await client.execute_workflow(
            PenaltyWorkflow.run,
            bypass(reference),
            id=workflow_id("XA-1", reference),
            task_queue=task_queue,
        )
        if os.environ.get("CSD_RECORD_HISTORIES") == "1":
            history = await client.get_workflow_handle(
                workflow_id("XA-1", reference)
            ).fetch_history()
            (HISTORIES / "penalty_xa1_bypass.json").write_text(history.to_json())

    assert result.amount_fen == 5000  # XA-1: "fined 50" yuan, rule set 2024-v1
    assert result.stage == ANNOUNCED
    entries = await FinanceServiceStub(stack.finance).ListEntries(
        finance_pb2.ListEntriesRequest(person_id="zhao.lei", kind=finance_pb2.ENTRY_KIND_FINE)
    )
    assert [(e.rule_id, e.amount_fen, e.region_code, e.month) for e in entries.entries] == [
        ("XA-1", 5000, "east", "2026-11")
    ]
    assert entries.entries[0].recorded_by == "chen.jing"
    assert entries.entries[0].idempotency_key == workflow_id("XA-1", reference)
    mail = await stack.mail.wait_for(lambda m: "RND-4711" in str(m["Subject"]), 10)
    assert mail["To"] == "zhao.lei@csd.example"
    assert mail["Cc"] == "chen.jing@csd.example"
    assert "50.00 yuan" in mail.get_content()
