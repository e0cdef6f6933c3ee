"""`csd tracking-sheet`: the requirement tracking sheet (RQ-3) as CSV, through the gateway."""

from __future__ import annotations

from csd.gateway.v1 import gateway_pb2, gateway_pb2_grpc

from services.cli.credentials import caller_metadata, operator_tls
from services.runtime.settings import Settings
from services.runtime.tls import GATEWAY, open_channel


async def export_csv(
    settings: Settings, *, user: str, region: str, hospital: str, stage: str, sla_state: str
) -> str:
    """The sheet as the gateway exports it; refusals come back as the gateway's messages."""
    tls = operator_tls(settings)
    async with open_channel(settings.gateway_address, to=GATEWAY, tls=tls) as channel:
        response = await gateway_pb2_grpc.GatewayServiceStub(channel).ExportRequirements(
            gateway_pb2.ListRequirementsRequest(
                region_code=region, hospital=hospital, stage=stage, sla_state=sla_state
            ),
            metadata=caller_metadata(settings, user),
            timeout=60,
        )
    return str(response.csv)
