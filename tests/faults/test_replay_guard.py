"""Fault: a workflow changes without `workflow.patched()` while executions of the old code run.
The replay tests must catch it; this proves they do, once, with a deliberately broken copy."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from workflows.assistance import AssistanceInput, AssistanceStatus, AssistanceWorkflow

pytestmark = pytest.mark.faults

HISTORY = Path(__file__).parent.parent / "histories" / "assistance_happy_path.core.json"


@workflow.defn(name="AssistanceWorkflow")
class AssistanceWorkflowWithAnUnguardedTimer(AssistanceWorkflow):
    """The same workflow with one new step that a running execution never took."""

    @workflow.run
    async def run(self, input: AssistanceInput) -> AssistanceStatus:
        await workflow.sleep(timedelta(seconds=1))
        return await super().run(input)


async def test_a_change_without_patched_fails_the_replay() -> None:
    history = WorkflowHistory.from_json("assistance", await asyncio.to_thread(HISTORY.read_text))
    # The code as committed replays ...
    await Replayer(workflows=[AssistanceWorkflow]).replay_workflow(history)
    # ... the changed code does not.
    with pytest.raises(workflow.NondeterminismError):
        await Replayer(workflows=[AssistanceWorkflowWithAnUnguardedTimer]).replay_workflow(history)
