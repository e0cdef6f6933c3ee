"""The case file's search attributes: every change made in one step of a workflow reaches
Temporal as one upsert (one history event, one visibility write), and the Web UI shows the
latest value of each.

A small workflow of the test's own drives the shared case file and clock directly, on the
production worker's sandbox, so the count of upserts is not hidden behind a process's other
work.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.common import SearchAttributeKey
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.worker.sandbox import SHARED, runner
from workflows import search_attributes
from workflows.case_file import ONE_UPSERT_PER_STEP, CaseFile, CaseRecord
from workflows.sla import BREACHED, MET, SlaClock


@dataclass(kw_only=True)
class ProbeStatus(CaseRecord):
    stage: str = "open"


@dataclass
class ProbeInput:
    deadline: str


@workflow.defn
class UpsertProbeWorkflow:
    def __init__(self) -> None:
        self._clock: SlaClock | None = None
        self._case: CaseFile[ProbeStatus] | None = None

    @workflow.run
    async def run(self, input: ProbeInput) -> str:
        deadline = datetime.fromisoformat(input.deadline)
        self._case = case = CaseFile(
            ProbeStatus(),
            process="probe",
            reference="probe-1",
            summary="A probe of the case file.",
            subject=lambda what: f"probe-1: {what}",
            words=lambda stage: stage,
        )
        case.open(region="department", rule_version="2024-v1")
        self._clock = clock = case.clock(
            "probe", promise="a probe", started_at=workflow.now(), warn_at=deadline,
            breach_at=deadline,
        )  # fmt: skip
        await clock.wait(lambda: clock.state in (BREACHED, MET))
        return clock.state

    @workflow.update
    def keep(self) -> str:
        assert self._case and self._clock
        self._case.move_to("kept")
        self._clock.met()
        return self._case.status.stage

    @keep.validator
    def _validate_keep(self) -> None:
        if self._clock is None:
            raise ValueError("not open yet")


Probe = WorkflowHandle[UpsertProbeWorkflow, str]
CHANGE_VERSION = SearchAttributeKey.for_keyword_list("TemporalChangeVersion")


def worker(client: Client, task_queue: str) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[UpsertProbeWorkflow],
        workflow_runner=runner(SHARED, [UpsertProbeWorkflow]),
    )


async def upserts(handle: Probe) -> list[dict[str, Any]]:
    """Each upsert of the case's attributes in the history, with the values it set (the SDK's
    own upsert of TemporalChangeVersion beside a patch marker left out)."""
    converter = DataConverter.default.payload_converter
    found = []
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes
            values = {k: converter.from_payload(v) for k, v in fields.indexed_fields.items()}
            if set(values) != {"TemporalChangeVersion"}:
                found.append(values)
    return found


async def change_versions(handle: Probe) -> list[str]:
    """The patches the run took, as TemporalChangeVersion lists them for `temporal workflow
    list --query` (README: Changing a running workflow)."""
    described = await handle.describe()
    return list(described.typed_search_attributes.get(CHANGE_VERSION) or [])


async def start(env: WorkflowEnvironment, task_queue: str) -> Probe:
    """A probe whose clock breaks in an hour unless `keep` keeps it."""
    deadline = await env.get_current_time() + timedelta(hours=1)
    return await env.client.start_workflow(
        UpsertProbeWorkflow.run,
        ProbeInput(deadline=deadline.isoformat()),
        id=f"probe-{uuid.uuid4()}",
        task_queue=task_queue,
    )


async def test_a_warning_and_a_deadline_passed_at_one_wake_are_one_upsert(
    own_time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    env = own_time_skipping_env
    async with worker(env.client, task_queue):
        handle = await start(env, task_queue)
        assert await handle.result() == BREACHED
        opened, woke = await upserts(handle)
        # Opening the case and starting its clock: one step, one upsert of everything.
        assert opened == {
            "CsdProcess": "probe",
            "CsdRegion": "department",
            "CsdStage": "open",
            "CsdSlaState": "ok",
            "CsdRuleVersion": "2024-v1",
        }
        # ok -> warning -> breached in one step: only the state it ended in is written.
        assert woke == {"CsdSlaState": BREACHED}
        described = await handle.describe()
        assert described.typed_search_attributes.get(search_attributes.SLA_STATE) == BREACHED
        assert await change_versions(handle) == [ONE_UPSERT_PER_STEP]


async def test_a_stage_and_a_clock_changed_by_one_update_are_one_upsert(
    own_time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    env = own_time_skipping_env
    async with worker(env.client, task_queue):
        handle = await start(env, task_queue)
        assert await handle.execute_update(UpsertProbeWorkflow.keep) == "kept"
        assert await handle.result() == MET
        opened, kept = await upserts(handle)
        assert opened["CsdStage"] == "open"
        assert kept == {"CsdStage": "kept", "CsdSlaState": MET}
        described = await handle.describe()
        assert described.typed_search_attributes.get(search_attributes.STAGE) == "kept"
        assert described.typed_search_attributes.get(search_attributes.SLA_STATE) == MET
