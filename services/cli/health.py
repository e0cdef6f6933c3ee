"""Health of every part of a running csd-ops: the gRPC services, Temporal, the worker and SMTP."""

from __future__ import annotations

import asyncio
import dataclasses
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from services.cli import dev_state
from services.runtime import procfs, temporal_client
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


async def responsive(pid: int | None, metrics_address: str) -> bool | None:
    """Whether a process answers: False when it is frozen (SIGSTOP) or its /metrics endpoint
    accepts the connection and says nothing within the check's timeout, True when it answers,
    None when neither can tell (no pid, no metrics served there)."""
    if pid is not None and procfs.stopped(pid):
        return False
    if not metrics_address:
        return None
    host, _, port = metrics_address.rpartition(":")
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            reader, writer = await asyncio.open_connection(host.strip("[]"), int(port))
            try:
                writer.write(b"GET /metrics HTTP/1.0\r\nHost: csd-status\r\n\r\n")
                await writer.drain()
                answer = await reader.readline()
            finally:
                writer.close()
    except TimeoutError:
        # The kernel completes the handshake for a frozen process; only its answer is missing.
        return False
    except OSError:
        return None
    return answer.startswith(b"HTTP/")


async def _pollers(settings: Settings) -> list[tuple[str, timedelta]]:
    """Each poller of the main queue's workflow tasks, as Temporal saw it: its identity (the
    SDK's pid@host) and how long ago it last polled."""
    client = await asyncio.wait_for(temporal_client.connect(settings), CHECK_TIMEOUT_SECONDS)
    queue = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=settings.temporal_namespace,
            task_queue=TaskQueue(name=task_queues.MAIN),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        ),
        timeout=timedelta(seconds=CHECK_TIMEOUT_SECONDS),
    )
    now = datetime.now(UTC)
    return [(p.identity, now - p.last_access_time.ToDatetime(tzinfo=UTC)) for p in queue.pollers]


async def worker_health(
    settings: Settings,
    *,
    name: str = "worker",
    pid: int | None = None,
    metrics_address: str = "",
    answered_at: str = "",
) -> PartHealth:
    """Whether a worker polls the task queue, as Temporal saw it: a worker process can be
    running and still not reach Temporal. With `pid`, that process's pollers only; with `pid`
    or `metrics_address`, a worker that is frozen (it still looks recent to Temporal for up to
    a minute, the length of a long poll) is "stalled"."""
    address = f"queue {task_queues.MAIN}"
    pollers, answers = await asyncio.gather(
        _pollers(settings), responsive(pid, metrics_address), return_exceptions=True
    )
    if isinstance(pollers, BaseException):
        return PartHealth(name, address, False, f"Temporal cannot say: {pollers}")
    if pid is not None:
        pollers = [(who, age) for who, age in pollers if who.startswith(f"{pid}@")]
    recent = [age for _, age in pollers if age <= WORKER_SEEN_WITHIN]
    seen = f"{max(min(recent).total_seconds(), 0):.0f} s ago" if recent else "over 90 s ago"
    whose = f"pid {pid}: " if pid is not None else ""
    if answers is False:
        # The supervisor records when it last found the process answering.
        since = (
            f"for {dev_state.seconds_since(answered_at):.0f} s"
            if answered_at
            else f"within {CHECK_TIMEOUT_SECONDS:g} s"
        )
        who = f"pid {pid}" if pid is not None else f"its metrics at {metrics_address}"
        return PartHealth(
            name, address, False, f"stalled: {who} not answering {since}; last poll seen {seen}"
        )
    if not recent:
        return PartHealth(
            name,
            address,
            False,
            f"{whose}no worker polled in the last {WORKER_SEEN_WITHIN.total_seconds():g} s",
        )
    return PartHealth(name, address, True, f"{whose}{len(recent)} poller(s), last seen {seen}")


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
    """Every part's health. Under a running `csd dev` (var/dev-state.json), each worker process
    on its own and every part with its restarts; otherwise one worker line, stalled when
    CSD_METRICS_ADDRESS names a worker's metrics endpoint that does not answer."""
    state = dev_state.DevState.current(settings.var_dir)
    workers = state.workers() if state is not None else []
    worker_checks = [
        worker_health(
            settings,
            name=w.name,
            pid=w.pid if w.alive() else None,
            metrics_address=w.metrics_address,
            answered_at=w.answered_at,
        )
        for w in workers
    ] or [worker_health(settings, metrics_address=settings.metrics_address)]
    smtp = tcp_health("smtp", settings.smtp_host, settings.smtp_port)
    parts = list(
        await asyncio.gather(
            temporal_health(settings, temporal_database),
            smtp,
            grpc_health(STAFF, settings.staff_address, tls),
            grpc_health(FINANCE, settings.finance_address, tls),
            grpc_health(NOTIFY, settings.notify_address, tls),
            grpc_health(GATEWAY, settings.gateway_address, tls),
            *worker_checks,
        )
    )
    if state is None:
        return parts
    return [_supervised(part, state.parts.get(part.name)) for part in parts]


def _supervised(part: PartHealth, record: dev_state.PartRecord | None) -> PartHealth:
    """A part's health with what csd dev's supervisor knows: its restarts, or that it gave up."""
    if record is None:
        return part
    notes = [part.detail]
    healthy = part.healthy
    if record.state == "given up":
        notes = [f"given up: it kept crashing; see {record.log}"]
        healthy = False
    elif not record.alive():
        notes = [f"not running ({record.state})"]
        healthy = False
    if history := record.history():
        notes.append(history)
    return dataclasses.replace(part, healthy=healthy, detail="; ".join(notes))


def render(parts: list[PartHealth]) -> str:
    width = max(len(p.name) for p in parts)
    lines = []
    for part in parts:
        mark = "ok  " if part.healthy else "DOWN"
        lines.append(f"{mark} {part.name:<{width}}  {part.address:<22} {part.detail}")
    return "\n".join(lines)
