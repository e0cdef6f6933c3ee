"""The finance server frame: health and reflection name the service."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.finance.server import SERVICE_NAME
from services.runtime.server import RunningServer


async def test_health_reports_the_finance_service_serving(
    finance_server_running: RunningServer,
) -> None:
    assert SERVICE_NAME == "csd.finance.v1.FinanceService"
    async with grpc.aio.insecure_channel(f"127.0.0.1:{finance_server_running.port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        answer = await stub.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME))
    assert answer.status == health_pb2.HealthCheckResponse.SERVING
