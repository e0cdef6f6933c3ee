"""Starting once per business key: one round trip for a first start, the first run's own input
for a retry, a refusal for another request under the same key."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from services.gateway.workflow_starts import start_once
from services.runtime.errors import FailedPrecondition
from workflows.assistance import AssistanceInput, AssistanceWorkflow, workflow_id


def _request(reference: str) -> AssistanceInput:
    return AssistanceInput(
        reference=reference,
        requester_id="zhao.lei",
        region_code="east",
        target_department="rnd",
        subject="Ward report export times out",
        description="Exporting the ward report times out after 30 s.",
        rule_version="2024-v1",
    )


def _key(input: AssistanceInput) -> tuple[str, ...]:
    return (input.requester_id, input.subject, input.description)


async def test_a_first_start_is_one_round_trip_and_a_retry_reads_the_first_run(
    dev_server_env: WorkflowEnvironment, task_queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = dev_server_env.client
    service = client.workflow_service
    reads: list[Any] = []
    original = service.get_workflow_execution_history

    async def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(args)
        return await original(*args, **kwargs)

    monkeypatch.setattr(service, "get_workflow_execution_history", counted)
    reference = f"XA-START-{uuid.uuid4().hex[:8]}"
    request = _request(reference)

    async def start(input: AssistanceInput) -> Any:
        return await start_once(
            client,
            AssistanceWorkflow.run,
            input,
            id=workflow_id(reference),
            task_queue=task_queue,  # no worker: the start alone is what is measured
            summary="test",
            details="test",
            request_key=_key,
            conflict="reference already used for a different request",
        )

    first = await start(request)
    assert reads == []  # started by this call: no history read
    again = await start(request)
    assert again.run_id == first.run_id and again.input == request
    assert len(reads) == 1
    with pytest.raises(FailedPrecondition, match="already used"):
        await start(replace(request, subject="Something else"))
    await client.get_workflow_handle(workflow_id(reference)).terminate("test over")
