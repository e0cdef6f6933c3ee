"""Trigger latency (issues 7 and 16): a service asks the gateway to start a process
(StartAssistance, an XA-1 request) and waits until the workflow has started; beside it, in the
same run and at the same paced rate but in turn (ours, then the floor, never both at once), a
bare `client.start_workflow` of a one-activity workflow on a bare worker process. Open-loop load
at 1 and 25 requests per second: a slow answer never holds back the next request.
"""

from __future__ import annotations

import uuid

from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub

from bench.leave_load import as_user
from bench.measure import Figure, p50_p99, paced, percentile
from bench.probe_worker import worker_processes
from bench.system import System
from bench.workflows import BareActivityWorkflow

# requests per second -> requests per round
RATES = {1.0: 20, 25.0: 250}
TARGET_MS = 50.0
TARGET_RATIO = 1.5


async def figures(rounds: int, system: System) -> tuple[list[Figure], list[str]]:
    gateway = GatewayServiceStub(system.gateway)
    client = system.client
    task_queue = f"bench-trigger-{uuid.uuid4().hex[:8]}"
    values, floors, ratios, detail = [], [], [], []
    async with worker_processes(system, "bare", task_queue):
        for _ in range(rounds):
            for rate, count in RATES.items():
                run = uuid.uuid4().hex[:8]

                async def ours(n: int, run: str = run) -> object:
                    return await gateway.StartAssistance(
                        G.StartAssistanceRequest(
                            reference=f"XA-BENCH-{run}-{n}", target_department="rnd",
                            subject="benchmark", description="trigger latency benchmark",
                        ),
                        metadata=as_user("zhao.lei"),
                    )  # fmt: skip

                async def bare(n: int, run: str = run) -> object:
                    return await client.start_workflow(
                        BareActivityWorkflow.run,
                        n,
                        id=f"bench-trigger-{run}-{n}",
                        task_queue=task_queue,
                    )

                await system.settle()
                [ours_ms] = await paced([ours], rate=rate, count=count)
                await system.settle()
                [bare_ms] = await paced([bare], rate=rate, count=count)
                detail.append(
                    f"trigger at {rate:g}/s, in turn: {p50_p99(ours_ms)} beside a bare start's "
                    f"{p50_p99(bare_ms)}"
                )
            # The headline is the busier rate's.
            values.append(percentile(ours_ms, 0.99))
            floors.append(percentile(bare_ms, 0.99))
            ratios.append(values[-1] / floors[-1])
    return [
        Figure("trigger_p99_ms", "ms", values, floors, TARGET_MS),
        Figure("trigger_p99_ratio", "ratio", ratios, floors, TARGET_RATIO, floor_unit="ms"),
    ], detail
