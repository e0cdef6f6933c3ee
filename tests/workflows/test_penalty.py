"""Fines under a rule: recorded once in the real finance ledger, announced by real SMTP."""

from __future__ import annotations

import asyncio

import pytest
from csd.finance.v1 import finance_pb2
from csd.finance.v1.finance_pb2_grpc import FinanceServiceStub
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from tests.stack import Stack
from tests.workflows.recording import record_history
from workflows.penalty import ANNOUNCED, PenaltyInput, PenaltyWorkflow, workflow_id


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
    async with stack.worker(client, task_queue):
        result = await client.execute_workflow(
            PenaltyWorkflow.run,
            bypass(reference),
            id=workflow_id("XA-1", reference),
            task_queue=task_queue,
        )
        await record_history(
            client.get_workflow_handle(workflow_id("XA-1", reference)), "penalty_xa1_bypass"
        )

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


@pytest.mark.parametrize(
    ("rule_id", "rule_version", "message"),
    [
        ("ZZ-9", "2024-v1", "rule set 2024-v1 sets no fine for ZZ-9"),
        ("XA-1", "1999-v0", "unknown rule set version '1999-v0'"),
    ],
)
async def test_a_fine_under_an_unknown_rule_fails_instead_of_hanging(
    time_skipping_env: WorkflowEnvironment,
    stack: Stack,
    task_queue: str,
    rule_id: str,
    rule_version: str,
    message: str,
) -> None:
    client = time_skipping_env.client
    fine = bypass(f"RND-{rule_id}-{rule_version}")
    fine.rule_id, fine.rule_version = rule_id, rule_version
    async with stack.worker(client, task_queue):
        handle = await client.start_workflow(
            PenaltyWorkflow.run,
            fine,
            id=workflow_id(rule_id, fine.reference),
            task_queue=task_queue,
        )
        with pytest.raises(WorkflowFailureError) as err:
            await asyncio.wait_for(handle.result(), 20)
    assert isinstance(err.value.cause, ApplicationError)
    assert err.value.cause.type == "INVALID_ARGUMENT"
    assert err.value.cause.non_retryable
    assert message in err.value.cause.message


async def test_a_refused_announcement_leaves_the_fine_recorded_noted_and_mailed_to_the_lead(
    time_skipping_env: WorkflowEnvironment, stack: Stack, task_queue: str
) -> None:
    """The fine is in the ledger either way; a mail the server will not take is noted on the
    case and the technical service team lead hears of it."""
    client = time_skipping_env.client
    reference = "RND-REFUSED"
    stack.mail.refuse("zhao.lei@csd.example")
    try:
        async with stack.worker(client, task_queue):
            result = await client.execute_workflow(
                PenaltyWorkflow.run,
                bypass(reference),
                id=workflow_id("XA-1", reference),
                task_queue=task_queue,
            )
    finally:
        stack.mail.refusals.clear()
    assert result.stage == ANNOUNCED and result.entry_id
    [notice] = result.notices
    assert notice.startswith('the email "Fine of 50.00 yuan" to 趙磊 was not sent')
    lead = await stack.mail.wait_for(
        lambda m: reference in str(m["Subject"]) and "refused" in str(m["Subject"]), 10
    )
    assert lead["To"] == "zhou.xiaoming@csd.example"
    assert notice in " ".join(lead.get_content().split())
