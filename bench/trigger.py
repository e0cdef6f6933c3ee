"""Trigger latency (issue 7): a service asks the gateway to start a process (StartAssistance, an
XA-1 request) and waits until the workflow has started; beside it, in the same run and at the
same paced rate, a bare `client.start_workflow`. Open-loop load at 1 and 25 requests per second:
a slow answer never holds back the next request.
"""

from __future__ import annotations

import uuid

from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub
from temporalio.worker import Worker

from bench.leave_load import as_user
from bench.measure import Figure, paced, percentile
from bench.system import System
from bench.workflows import BareActivityWorkflow, bare_activity

# requests per second -> requests per round
RATES = {1.0: 20, 25.0: 250}
TARGET_MS = 15.0
TARGET_RATIO = 2.0


async def _one_rate(
    system: System, task_queue: str, rate: float, count: int
) -> tuple[list[float], list[float]]:
    """Latencies (ms) of ours and of the bare start, paced together at `rate`."""
    gateway = GatewayServiceStub(system.gateway)
    client = system.client
    run = uuid.uuid4().hex[:8]

    async def ours(n: int) -> object:
        return await gateway.StartAssistance(
            G.StartAssistanceRequest(
                reference=f"XA-BENCH-{run}-{n}", target_department="rnd",
                subject="benchmark", description="trigger latency benchmark",
            ),
            metadata=as_user("zhao.lei"),
        )  # fmt: skip

    async def bare(n: int) -> object:
        return await client.start_workflow(
            BareActivityWorkflow.run, n, id=f"bench-trigger-{run}-{n}", task_queue=task_queue
        )

    ours_ms, bare_ms = await paced([ours, bare], rate=rate, count=count)
    return ours_ms, bare_ms


async def figures(rounds: int, system: System) -> tuple[list[Figure], list[str]]:
    client = system.client
    task_queue = f"bench-trigger-{uuid.uuid4().hex[:8]}"
    values, floors, detail = [], [], []
    async with Worker(
        client, task_queue=task_queue, workflows=[BareActivityWorkflow], activities=[bare_activity]
    ):
        for _ in range(rounds):
            for rate, count in RATES.items():
                await system.settle()
                ours_ms, bare_ms = await _one_rate(system, task_queue, rate, count)
                detail.append(
                    f"trigger at {rate:g}/s: p50 {percentile(ours_ms, 0.5):.1f} ms, p99 "
                    f"{percentile(ours_ms, 0.99):.1f} ms beside a bare start's p50 "
                    f"{percentile(bare_ms, 0.5):.1f} ms, p99 {percentile(bare_ms, 0.99):.1f} ms"
                )
            # The headline is the busier rate's, where the 15 ms target applies.
            values.append(percentile(ours_ms, 0.99))
            floors.append(percentile(bare_ms, 0.99))
    figure = Figure(
        "trigger_p99_ms", "ms", values, floors, TARGET_MS, floor_ratio_target=TARGET_RATIO
    )
    return [figure], detail
