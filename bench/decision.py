"""Decision latency (issues 7 and 16): what an approver feels when they click approve. The
DecideLeave Update through the gateway until the caller holds the result, with 10 approvals in
flight, beside a bare Update on a bare waiting workflow at the same concurrency, in turn (ours,
then the floor, round after round), each worker a process of its own (csd dev's worker for
ours, bench/probe_worker.py `bare` for the floor), so the floor does not share the benchmark's
event loop with the load it is driven by.
"""

from __future__ import annotations

import os
import uuid

from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub
from temporalio.client import Client, WorkflowHandle

from bench import processes
from bench.leave_load import LeaveSlots, approve, leave_in_stage, request_leave
from bench.measure import Figure, latencies, p50_p99, percentile
from bench.probe_worker import worker_processes
from bench.system import System
from bench.workflows import BareApprovalWorkflow

DECISIONS = 100
IN_FLIGHT = 10
TARGET_RATIO = 1.5
# One at a time, each well after the follow-up work of the one before (its mails, the clerk's
# record) has run: what the decision's own path costs, beside a bare Update's. A detail, not
# the figure: an approver's click meets whatever else the system is doing.
ALONE = 20
ALONE_PAUSE_S = 0.5


async def _waiting_leaves(
    gateway: GatewayServiceStub, slots: LeaveSlots, count: int
) -> list[G.Leave]:
    leaves: list[G.Leave] = []

    async def one(_: int) -> None:
        leave_id, requester = await request_leave(gateway, slots)
        leaves.append(await leave_in_stage(gateway, leave_id, requester, "awaiting_approval"))

    await latencies(one, requests=count, concurrency=IN_FLIGHT)
    return leaves


Bare = WorkflowHandle[BareApprovalWorkflow, bool]


async def _waiting_bare(client: Client, task_queue: str, count: int) -> list[Bare]:
    run = uuid.uuid4().hex[:8]
    return [
        await client.start_workflow(
            BareApprovalWorkflow.run, id=f"bench-decide-{run}-{n}", task_queue=task_queue
        )
        for n in range(count)
    ]


async def figures(rounds: int, system: System) -> tuple[list[Figure], list[str]]:
    gateway = GatewayServiceStub(system.gateway)
    slots = system.leave_slots
    task_queue = f"bench-decide-{uuid.uuid4().hex[:8]}"
    ratios, floors, detail = [], [], []
    async with worker_processes(system, "bare", task_queue):
        for _ in range(rounds):
            # Both sides wait for their decisions before either is timed.
            leaves = await _waiting_leaves(gateway, slots, DECISIONS + ALONE)
            handles = await _waiting_bare(system.client, task_queue, DECISIONS + ALONE)
            await system.settle()

            async def ours(n: int, leaves: list[G.Leave] = leaves) -> object:
                return await approve(gateway, leaves[n])

            async def bare(n: int, handles: list[Bare] = handles) -> object:
                return await handles[n].execute_update(BareApprovalWorkflow.decide, True)

            # The last ALONE of each side wait for the one-at-a-time turn.
            async def ours_alone(n: int) -> object:
                return await ours(DECISIONS + n)

            async def bare_alone(n: int) -> object:
                return await bare(DECISIONS + n)

            before = processes.cpu_by_part(os.getpid())
            ours_ms = await latencies(ours, requests=DECISIONS, concurrency=IN_FLIGHT)
            ours_cpu = processes.spent_between(before, processes.cpu_by_part(os.getpid()))
            await system.settle()
            before = processes.cpu_by_part(os.getpid())
            bare_ms = await latencies(bare, requests=DECISIONS, concurrency=IN_FLIGHT)
            bare_cpu = processes.spent_between(before, processes.cpu_by_part(os.getpid()))
            await system.settle()
            alone = await latencies(
                ours_alone, requests=ALONE, concurrency=1, pause_s=ALONE_PAUSE_S
            )
            await system.settle()
            bare_alone_ms = await latencies(
                bare_alone, requests=ALONE, concurrency=1, pause_s=ALONE_PAUSE_S
            )
            ratios.append(percentile(ours_ms, 0.99) / percentile(bare_ms, 0.99))
            floors.append(percentile(bare_ms, 0.99))
            detail.append(
                f"decision: {DECISIONS} approvals, {IN_FLIGHT} in flight: {p50_p99(ours_ms)} "
                f"beside a bare Update's {p50_p99(bare_ms)} (ratio {ratios[-1]:.2f}); CPU while "
                f"ours ran: {ours_cpu}; while the floor ran: {bare_cpu}; one at a time, "
                f"{ALONE_PAUSE_S:g} s apart: {p50_p99(alone)} beside a bare Update's "
                f"{p50_p99(bare_alone_ms)}"
            )
    figure = Figure("approve_p99_ratio", "ratio", ratios, floors, TARGET_RATIO, floor_unit="ms")
    return [figure], detail
