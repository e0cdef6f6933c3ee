"""Health of every part of a running csd-ops: the gRPC services, Temporal, the worker and SMTP."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from services.runtime import temporal_client
from services.runtime.settings import Settings
from services.runtime.tls import FINANCE, GATEWAY, NOTIFY, STAFF, TlsFiles, open_channel
from workflows import task_queues

CHECK_TIMEOUT_SECONDS = 2.0

# An idle worker's poll waits up to a minute on the server before it polls again, so a live
# worker may have been last seen almost that long ago.
WORKER_SEEN_WITHIN = timedelta(seconds=90)


@dataclass(frozen=True)
class PartHealth:
    name: str
    address: str
    healthy: bool
    detail: str


async def grpc_health(name: str, address: str, tls: TlsFiles | None = None) -> PartHealth:
    """The part `name` (staff, finance, notify, gateway) at `address`, over mutual TLS when
    `tls` is given."""
    try:
        async with open_channel(address, to=name, tls=tls) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            response = await stub.Check(
                health_pb2.HealthCheckRequest(service=""), timeout=CHECK_TIMEOUT_SECONDS
            )
    except grpc.aio.AioRpcError as err:
        return PartHealth(name, address, False, f"{err.code().name}: {err.details()}")
    serving = response.status == health_pb2.HealthCheckResponse.SERVING
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
    return PartHealth(name, address, serving, status)


async def tcp_health(name: str, host: str, port: int) -> PartHealth:
    address = f"{host}:{port}"
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port), CHECK_TIMEOUT_SECONDS
        )
    except (OSError, TimeoutError) as err:
        return PartHealth(name, address, False, f"not listening: {err}")
    writer.close()
    await writer.wait_closed()
    return PartHealth(name, address, True, "accepting connections")


async def temporal_health(settings: Settings, database: Path | None) -> PartHealth:
    address = settings.temporal_address
    if database is not None:
        problem = _database_problem(database)
        if problem:
            return PartHealth("temporal", address, False, problem)
    try:
        client = await asyncio.wait_for(temporal_client.connect(settings), CHECK_TIMEOUT_SECONDS)
        healthy = await asyncio.wait_for(
            client.service_client.check_health(), CHECK_TIMEOUT_SECONDS
        )
    except Exception as err:
        return PartHealth("temporal", address, False, f"unreachable: {err}")
    return PartHealth("temporal", address, healthy, "SERVING" if healthy else "NOT_SERVING")


async def worker_health(settings: Settings) -> PartHealth:
    """Whether a worker polls the task queue, as Temporal saw it: a worker process can be
    running and still not reach Temporal."""
    address = f"queue {task_queues.MAIN}"
    try:
        client = await asyncio.wait_for(
            temporal_client.connect(settings),
            CHECK_TIMEOUT_SECONDS,
        )
        queue = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=settings.temporal_namespace,
                task_queue=TaskQueue(name=task_queues.MAIN),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            ),
            timeout=timedelta(seconds=CHECK_TIMEOUT_SECONDS),
        )
    except Exception as err:
        return PartHealth("worker", address, False, f"Temporal cannot say: {err}")
    now = datetime.now(UTC)
    ages = [now - p.last_access_time.ToDatetime(tzinfo=UTC) for p in queue.pollers]
    recent = [age for age in ages if age <= WORKER_SEEN_WITHIN]
    if not recent:
        return PartHealth(
            "worker",
            address,
            False,
            f"no worker polled in the last {WORKER_SEEN_WITHIN.total_seconds():g} s",
        )
    seen = max(min(recent).total_seconds(), 0)
    return PartHealth(
        "worker", address, True, f"{len(recent)} poller(s), last seen {seen:.0f} s ago"
    )


def _database_problem(database: Path) -> str:
    """A dev server whose SQLite file is gone or read-only looks healthy until it must write."""
    if not database.exists():
        return f"its database {database} is missing"
    # os.access alone says yes to root, who runs the dev stack on these machines.
    if not os.access(database, os.W_OK) or not database.stat().st_mode & 0o222:
        return f"its database {database} is not writable"
    return ""


async def check_all(
    settings: Settings, *, temporal_database: Path | None = None, tls: TlsFiles | None = None
) -> list[PartHealth]:
    smtp = tcp_health("smtp", settings.smtp_host, settings.smtp_port)
    return list(
        await asyncio.gather(
            temporal_health(settings, temporal_database),
            smtp,
            grpc_health(STAFF, settings.staff_address, tls),
            grpc_health(FINANCE, settings.finance_address, tls),
            grpc_health(NOTIFY, settings.notify_address, tls),
            grpc_health(GATEWAY, settings.gateway_address, tls),
            worker_health(settings),
        )
    )


def render(parts: list[PartHealth]) -> str:
    width = max(len(p.name) for p in parts)
    lines = []
    for part in parts:
        mark = "ok  " if part.healthy else "DOWN"
        lines.append(f"{mark} {part.name:<{width}}  {part.address:<22} {part.detail}")
    return "\n".join(lines)
