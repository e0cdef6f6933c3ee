"""Every committed history must replay against the current workflow code.

A change to a workflow that would break the executions already running (a new activity, a
reordered timer) fails here; put such a change behind `workflow.patched()`.
Record a history with CSD_RECORD_HISTORIES=1 on the test that names it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from services.worker.main import WORKFLOWS
from services.worker.sandbox import ISOLATED, SHARED, Sandbox
from services.worker.sandbox import runner as sandbox_runner
from tests.workflows.recording import GENERATIONS

HISTORIES = sorted((Path(__file__).parent.parent / "histories").glob("*.json"))


def _workflow_type(path: Path) -> str:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    return history.events[0].workflow_execution_started_event_attributes.workflow_type.name


def test_there_is_a_history_for_every_workflow() -> None:
    recorded = {_workflow_type(path) for path in HISTORIES}
    missing = [w.__name__ for w in WORKFLOWS if w.__name__ not in recorded]
    assert not missing, f"no replay history in tests/histories for {', '.join(missing)}"


def test_the_current_code_has_a_history_for_every_workflow() -> None:
    """Old histories prove a change keeps running workflows going; these prove the newest code
    path replays too (recorded after each `workflow.patched` change)."""
    patched = [p for p in HISTORIES if p.suffixes[-2:-1] in ([f".{g}"] for g in GENERATIONS)]
    recorded = {_workflow_type(path) for path in patched}
    missing = [w.__name__ for w in WORKFLOWS if w.__name__ not in recorded]
    assert not missing, f"no history of patched code for {', '.join(missing)}: record them"


@pytest.mark.parametrize("sandbox", [ISOLATED, SHARED])
@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays(path: Path, sandbox: Sandbox) -> None:
    """Isolated, each workflow's module imported afresh and every call it makes checked for
    determinism (what the production worker's shared sandbox gives up for memory, see
    services/worker/sandbox.py); shared, as the production worker runs it."""
    history = WorkflowHistory.from_json(path.stem, await asyncio.to_thread(path.read_text))
    runner = sandbox_runner(sandbox, WORKFLOWS)
    await Replayer(workflows=list(WORKFLOWS), workflow_runner=runner).replay_workflow(history)
