"""Health of every part of a running csd-ops: the gRPC services, Temporal and SMTP."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from temporalio.client import Client

from services.runtime.settings import Settings

CHECK_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class PartHealth:
    name: str
    address: str
    healthy: bool
    detail: str


async def grpc_health(name: str, address: str) -> PartHealth:
    try:
        async with grpc.aio.insecure_channel(address) as channel:
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
        client = await asyncio.wait_for(
            Client.connect(address, namespace=settings.temporal_namespace), CHECK_TIMEOUT_SECONDS
        )
        healthy = await asyncio.wait_for(
            client.service_client.check_health(), CHECK_TIMEOUT_SECONDS
        )
    except Exception as err:
        return PartHealth("temporal", address, False, f"unreachable: {err}")
    return PartHealth("temporal", address, healthy, "SERVING" if healthy else "NOT_SERVING")


def _database_problem(database: Path) -> str:
    """A dev server whose SQLite file is gone or read-only looks healthy until it must write."""
    if not database.exists():
        return f"its database {database} is missing"
    if not os.access(database, os.W_OK):
        return f"its database {database} is not writable"
    return ""


async def check_all(
    settings: Settings, *, temporal_database: Path | None = None
) -> list[PartHealth]:
    smtp = tcp_health("smtp", settings.smtp_host, settings.smtp_port)
    return list(
        await asyncio.gather(
            temporal_health(settings, temporal_database),
            smtp,
            grpc_health("staff", settings.staff_address),
            grpc_health("finance", settings.finance_address),
            grpc_health("notify", settings.notify_address),
            grpc_health("gateway", settings.gateway_address),
        )
    )


def render(parts: list[PartHealth]) -> str:
    width = max(len(p.name) for p in parts)
    lines = []
    for part in parts:
        mark = "ok  " if part.healthy else "DOWN"
        lines.append(f"{mark} {part.name:<{width}}  {part.address:<22} {part.detail}")
    return "\n".join(lines)
