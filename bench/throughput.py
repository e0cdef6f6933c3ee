"""Throughput beside the bare Temporal floor (issue 7): leave requests submitted, approved and
recorded end to end through the gateway, counted in activity executions per second, over a bare
one-activity workflow's activity executions per second on the same server in the same run.

Ours counts every activity the leave workflows completed before the last one was recorded, the
local ones (lookups) included, from their histories, so nothing is estimated; the floor runs the
same number of workflows at the same concurrency.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime

from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from bench.leave_load import LeaveSlots, approve, leave_in_stage, request_leave
from bench.measure import Figure
from bench.probe_worker import worker_processes
from bench.system import System
from bench.workflows import BareActivityWorkflow

# How a local activity's result is kept in the history (a lookup, workflows/lookups.py).
LOCAL_ACTIVITY_MARKER = "core_local_activity"
LEAVES = 40
BARE_WORKFLOWS = 200
CONCURRENCY = 10
TARGET = 1.0
SCALEOUT_TARGET = 1.4


async def _run_lanes(count: int, concurrency: int, one: object) -> float:
    """Seconds for `count` calls of `one(n)`, `concurrency` at a time."""
    assert callable(one)
    counter = iter(range(count))

    async def lane() -> None:
        for n in counter:
            await one(n)

    began = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return time.perf_counter() - began


async def _activities_done_by(client: Client, workflow_ids: list[str], until: datetime) -> int:
    total = 0
    for workflow_id in workflow_ids:
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        total += sum(
            1
            for event in history.events
            if event.event_time.ToDatetime(tzinfo=UTC) <= until
            and (
                event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
                or event.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY_MARKER
            )
        )
    return total


async def ours(system: System, slots: LeaveSlots) -> tuple[float, int, float]:
    """(activities per second, activities, seconds) for LEAVES leave requests end to end."""
    gateway = GatewayServiceStub(system.gateway)
    leave_ids: list[str] = []

    async def one(_: int) -> None:
        leave_id, requester = await request_leave(gateway, slots)
        leave_ids.append(leave_id)
        waiting = await leave_in_stage(gateway, leave_id, requester, "awaiting_approval")
        await approve(gateway, waiting)
        await leave_in_stage(gateway, leave_id, requester, "recorded")

    seconds = await _run_lanes(LEAVES, CONCURRENCY, one)
    done = await _activities_done_by(system.client, leave_ids, datetime.now(UTC))
    return done / seconds, done, seconds


async def floor(client: Client, task_queue: str) -> tuple[float, float]:
    """(activities per second, seconds) for the bare one-activity workflow."""
    run = uuid.uuid4().hex[:8]

    async def one(n: int) -> None:
        await client.execute_workflow(
            BareActivityWorkflow.run, n, id=f"bench-bare-{run}-{n}", task_queue=task_queue
        )

    seconds = await _run_lanes(BARE_WORKFLOWS, CONCURRENCY, one)
    return BARE_WORKFLOWS / seconds, seconds


async def figures(rounds: int, system: System) -> tuple[list[Figure], list[str]]:
    """Throughput beside the floor; and the scale-out lever: the same leaves with a second
    worker process on the task queue beside csd dev's (`csd worker` run twice), in turn."""
    slots = system.leave_slots
    ratios, floors, scaleout, one_worker, detail = [], [], [], [], []
    task_queue = f"bench-bare-{uuid.uuid4().hex[:8]}"
    async with worker_processes(system, "bare", task_queue):
        for _ in range(rounds):
            await system.settle()
            rate, done, seconds = await ours(system, slots)
            await system.settle()
            bare_rate, bare_seconds = await floor(system.client, task_queue)
            await system.settle()
            async with worker_processes(system, "production", task_queue):
                _, _, two_seconds = await ours(system, slots)
            ratios.append(rate / bare_rate)
            floors.append(bare_rate)
            scaleout.append((LEAVES / two_seconds) / (LEAVES / seconds))
            one_worker.append(LEAVES / seconds)
            detail.append(
                f"throughput: {LEAVES} leaves end to end in {seconds:.1f} s ({done} activities, "
                f"{rate:.1f}/s, {LEAVES / seconds:.2f} leaves/s) beside {BARE_WORKFLOWS} bare "
                f"workflows in {bare_seconds:.1f} s ({bare_rate:.1f} activities/s), "
                f"{CONCURRENCY} in flight; with two worker processes {two_seconds:.1f} s "
                f"({LEAVES / two_seconds:.2f} leaves/s, x{scaleout[-1]:.2f})"
            )
    return [
        Figure(
            "throughput_activity_ratio", "ratio", ratios, floors, TARGET,
            higher_is_better=True, floor_unit="activities/s",
        ),
        Figure(
            "worker_scaleout_ratio", "ratio", scaleout, one_worker, SCALEOUT_TARGET,
            higher_is_better=True, floor_unit="leaves/s with one worker",
        ),
    ], detail  # fmt: skip
