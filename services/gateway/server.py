"""Run the gateway: `csd serve gateway`."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TypeVar

import grpc
from csd.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from csd.staff.v1 import staff_pb2_grpc
from temporalio.client import Client

from services.gateway.assistance import AssistanceGateway
from services.gateway.department_calendar import DepartmentCalendarGateway
from services.gateway.identity import DevAuthenticator
from services.gateway.leave import LeaveGateway
from services.gateway.major_problems import MajorProblemGateway
from services.gateway.penalties import PenaltyGateway
from services.gateway.process import ProcessGateway
from services.gateway.requirements import RequirementGateway
from services.gateway.servicer import GatewayServicer
from services.gateway.workflow_errors import TEMPORAL_TIMEOUT
from services.runtime.logging import configure_logging
from services.runtime.server import RunningServer, serve_until_signalled, start_server
from services.runtime.settings import Settings
from workflows import task_queues

P = TypeVar("P", bound=ProcessGateway)
SERVICE_NAME = gateway_pb2.DESCRIPTOR.services_by_name["GatewayService"].full_name


async def start(
    *,
    address: str,
    client: Client,
    staff_address: str,
    task_queue: str = task_queues.MAIN,
    temporal_timeout: timedelta = TEMPORAL_TIMEOUT,
) -> RunningServer:
    """Serve the gateway on `address`, calling Temporal through `client`; a call that Temporal
    or its worker leaves unanswered for `temporal_timeout` is UNAVAILABLE."""
    staff_channel = grpc.aio.insecure_channel(staff_address)
    staff = staff_pb2_grpc.StaffServiceStub(staff_channel)

    def part(kind: type[P]) -> P:
        return kind(client, staff, task_queue=task_queue, temporal_timeout=temporal_timeout)

    servicer = GatewayServicer(
        DevAuthenticator(staff),
        part(AssistanceGateway),
        part(PenaltyGateway),
        part(LeaveGateway),
        part(MajorProblemGateway),
        part(RequirementGateway),
        part(DepartmentCalendarGateway),
    )

    async def close_channel() -> None:
        await staff_channel.close()

    return await start_server(
        address=address,
        register=lambda server: gateway_pb2_grpc.add_GatewayServiceServicer_to_server(
            servicer, server
        ),
        service_names=[SERVICE_NAME],
        cleanup=[close_channel],
    )


async def serve(settings: Settings) -> None:
    configure_logging("gateway")
    if settings.auth_mode != "dev":
        raise SystemExit(f"CSD_AUTH_MODE={settings.auth_mode!r} is not supported yet; use 'dev'")
    client = await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace)
    running = await start(
        address=settings.gateway_address, client=client, staff_address=settings.staff_address
    )
    await serve_until_signalled(running, name="gateway")


if __name__ == "__main__":
    asyncio.run(serve(Settings.from_env()))
