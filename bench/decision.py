"""Decision latency (issue 7): what an approver feels when they click approve. The DecideLeave
Update through the gateway until the caller holds the result, with 10 approvals in flight,
beside a bare Update on a bare waiting workflow at the same concurrency in the same run.
"""

from __future__ import annotations

import uuid

from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from bench.leave_load import LeaveSlots, approve, leave_in_stage, request_leave
from bench.measure import Figure, latencies, percentile
from bench.system import System
from bench.workflows import BareApprovalWorkflow

DECISIONS = 100
IN_FLIGHT = 10
TARGET_MS = 50.0


async def _waiting_leaves(gateway: GatewayServiceStub, slots: LeaveSlots) -> list[G.Leave]:
    leaves: list[G.Leave] = []

    async def one(_: int) -> None:
        leave_id, requester = await request_leave(gateway, slots)
        leaves.append(await leave_in_stage(gateway, leave_id, requester, "awaiting_approval"))

    await latencies(one, requests=DECISIONS, concurrency=IN_FLIGHT)
    return leaves


async def _ours_round(gateway: GatewayServiceStub, leaves: list[G.Leave]) -> list[float]:
    async def decide(n: int) -> object:
        return await approve(gateway, leaves[n])

    return await latencies(decide, requests=DECISIONS, concurrency=IN_FLIGHT)


async def _bare_round(client: Client) -> list[float]:
    task_queue = f"bench-decide-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=task_queue, workflows=[BareApprovalWorkflow]):
        handles: list[WorkflowHandle[BareApprovalWorkflow, bool]] = []
        for n in range(DECISIONS):
            handles.append(
                await client.start_workflow(
                    BareApprovalWorkflow.run,
                    id=f"{task_queue}-{n}",
                    task_queue=task_queue,
                )
            )

        async def decide(n: int) -> object:
            return await handles[n].execute_update(BareApprovalWorkflow.decide, True)

        samples = await latencies(decide, requests=DECISIONS, concurrency=IN_FLIGHT)
        for handle in handles:
            await handle.result()
    return samples


async def figures(rounds: int, system: System) -> tuple[list[Figure], list[str]]:
    gateway = GatewayServiceStub(system.gateway)
    slots = system.leave_slots
    values, floors, detail = [], [], []
    for _ in range(rounds):
        await system.settle()
        ours = await _ours_round(gateway, await _waiting_leaves(gateway, slots))
        bare = await _bare_round(system.client)
        values.append(percentile(ours, 0.99))
        floors.append(percentile(bare, 0.99))
        detail.append(
            f"decision: {DECISIONS} approvals, {IN_FLIGHT} in flight: p50 "
            f"{percentile(ours, 0.5):.1f} ms, p99 {values[-1]:.1f} ms beside a bare Update's "
            f"p50 {percentile(bare, 0.5):.1f} ms, p99 {floors[-1]:.1f} ms"
        )
    return [Figure("approve_p99_ms", "ms", values, floors, TARGET_MS)], detail
