"""Run the gateway: `csd serve gateway`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import TypeVar

from csd.finance.v1 import finance_pb2_grpc
from csd.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from csd.staff.v1 import staff_pb2_grpc
from temporalio.client import Client

from services.gateway.assistance import AssistanceGateway
from services.gateway.attendance import AttendanceGateway
from services.gateway.authentication import AuthenticationInterceptor
from services.gateway.bearer_tokens import JwtAuthenticator, key_source
from services.gateway.case_access import GatewayCaseAccess
from services.gateway.claims import ClaimGateway
from services.gateway.communication_logs import CommunicationLogGateway
from services.gateway.complaints import ComplaintGateway
from services.gateway.department_calendar import DepartmentCalendarGateway
from services.gateway.identity import Authenticator, DevAuthenticator
from services.gateway.leave import LeaveGateway
from services.gateway.level_history import LevelHistoryGateway
from services.gateway.major_problems import MajorProblemGateway
from services.gateway.missed_calls import MissedCallGateway
from services.gateway.opportunities import OpportunityGateway
from services.gateway.pay import PayGateway
from services.gateway.penalties import PenaltyGateway
from services.gateway.pre_approvals import PreApprovalGateway
from services.gateway.process import FinanceProcessGateway, ProcessGateway
from services.gateway.rate_adjustments import RateAdjustmentGateway
from services.gateway.requirements import RequirementGateway
from services.gateway.salary_changes import SalaryChangeGateway
from services.gateway.sales_logs import SalesLogGateway
from services.gateway.service_work import ServiceWorkGateway
from services.gateway.servicer import GatewayServicer
from services.gateway.spot_checks import SpotCheckGateway
from services.gateway.surveys import SurveyGateway
from services.gateway.workflow_errors import TEMPORAL_TIMEOUT
from services.runtime import temporal_client
from services.runtime.codec_server import CodecServer
from services.runtime.logging import configure_logging
from services.runtime.payload_codec import EncryptionCodec
from services.runtime.server import (
    RunningServer,
    is_loopback,
    listening_tls,
    serve_until_signalled,
    start_server,
)
from services.runtime.settings import Settings
from services.runtime.tls import FINANCE, STAFF, TlsFiles, open_channel
from workflows import task_queues

P = TypeVar("P", bound=ProcessGateway)
M = TypeVar("M", bound=FinanceProcessGateway)
SERVICE_NAME = gateway_pb2.DESCRIPTOR.services_by_name["GatewayService"].full_name

# How the gateway learns who calls, given the staff directory to vouch for them.
Authentication = Callable[[staff_pb2_grpc.StaffServiceStub], Authenticator]


def dev_authentication(staff: staff_pb2_grpc.StaffServiceStub) -> Authenticator:
    """CSD_AUTH_MODE=dev: the caller names themself in x-csd-user (loopback only)."""
    return DevAuthenticator(staff)


def jwt_authentication(settings: Settings) -> Authentication:
    """CSD_AUTH_MODE=jwt: signed bearer tokens, keys from CSD_JWT_JWKS."""
    if not settings.jwt_jwks:
        raise SystemExit(
            "CSD_AUTH_MODE=jwt needs CSD_JWT_JWKS (a JWKS file or https URL), CSD_JWT_ISSUER and "
            "CSD_JWT_AUDIENCE; `csd dev` makes a local key set when none is given"
        )
    keys = key_source(settings.jwt_jwks)
    return lambda staff: JwtAuthenticator(
        keys, issuer=settings.jwt_issuer, audience=settings.jwt_audience, staff=staff
    )


async def start(
    *,
    address: str,
    client: Client,
    staff_address: str,
    finance_address: str,
    authentication: Authentication,
    task_queue: str = task_queues.MAIN,
    temporal_timeout: timedelta = TEMPORAL_TIMEOUT,
    tls: TlsFiles | None = None,
    codec_address: str = "",
    ui_origins: Sequence[str] = (),
) -> RunningServer:
    """Serve the gateway on `address`, calling Temporal through `client`; a call that Temporal
    or its worker leaves unanswered for `temporal_timeout` is UNAVAILABLE. Dev authentication
    trusts a header, so with it the gateway refuses to listen beyond loopback. With `tls` the
    gateway's port speaks TLS (its callers show bearer tokens, not certificates) and it calls
    staff as the gateway part, under mutual TLS. With `codec_address` it also serves the Web
    UI's codec endpoint there (HTTP POST /decode for `ui_origins`): in jwt mode per case, by the
    same read rules as the Get RPCs (services/gateway/case_access.py)."""
    staff_channel = open_channel(staff_address, to=STAFF, tls=tls)
    # Pay statements and performance pay are finance's (PAY-2); the rest goes through Temporal.
    finance_channel = open_channel(finance_address, to=FINANCE, tls=tls)
    staff = staff_pb2_grpc.StaffServiceStub(staff_channel)
    finance = finance_pb2_grpc.FinanceServiceStub(finance_channel)
    authenticator = authentication(staff)
    if isinstance(authenticator, DevAuthenticator) and not is_loopback(address):
        await staff_channel.close()
        raise ValueError(
            f"dev mode trusts the x-csd-user header, so it listens only on loopback, not {address}"
            "; set CSD_AUTH_MODE=jwt to serve other machines"
        )

    def part(kind: type[P]) -> P:
        return kind(client, staff, task_queue=task_queue, temporal_timeout=temporal_timeout)

    def money(kind: type[M]) -> M:
        return kind(
            client, staff, finance, task_queue=task_queue, temporal_timeout=temporal_timeout
        )

    servicer = GatewayServicer(
        part(AssistanceGateway),
        part(PenaltyGateway),
        part(LeaveGateway),
        part(MajorProblemGateway),
        part(RequirementGateway),
        part(DepartmentCalendarGateway),
        part(AttendanceGateway),
        part(SpotCheckGateway),
        money(ClaimGateway),
        part(PreApprovalGateway),
        part(MissedCallGateway),
        part(SalaryChangeGateway),
        money(RateAdjustmentGateway),
        part(CommunicationLogGateway),
        part(OpportunityGateway),
        part(LevelHistoryGateway),
        part(ComplaintGateway),
        part(SalesLogGateway),
        part(SurveyGateway),
        part(ServiceWorkGateway),
        PayGateway(finance),
    )

    cleanup: list[Callable[[], Awaitable[None]]] = []
    if codec_address:
        codec = client.data_converter.payload_codec
        if not isinstance(codec, EncryptionCodec):
            await staff_channel.close()
            raise ValueError(
                "CSD_CODEC_ADDRESS is set but CSD_PAYLOAD_KEYS is not: nothing to decode"
            )
        if isinstance(authenticator, DevAuthenticator) and not is_loopback(codec_address):
            await staff_channel.close()
            raise ValueError(
                f"in dev mode the codec endpoint decodes for anyone, so only on loopback, not "
                f"{codec_address}"
            )
        access = (
            None
            if isinstance(authenticator, DevAuthenticator)
            else GatewayCaseAccess(client, authenticator, temporal_timeout=temporal_timeout)
        )
        codec_server = CodecServer(codec, ui_origins=ui_origins, access=access)
        host, port = codec_address.rsplit(":", 1)
        await codec_server.start(host.strip("[]"), int(port))
        cleanup.append(codec_server.stop)

    async def close_channel() -> None:
        await staff_channel.close()
        await finance_channel.close()

    cleanup.append(close_channel)

    return await start_server(
        address=address,
        register=lambda server: gateway_pb2_grpc.add_GatewayServiceServicer_to_server(
            servicer, server
        ),
        service_names=[SERVICE_NAME],
        cleanup=cleanup,
        interceptors=[AuthenticationInterceptor(authenticator)],
        tls=tls,
    )


async def serve(settings: Settings) -> None:
    configure_logging("gateway")
    authentication: Authentication
    if settings.auth_mode == "dev":
        authentication = dev_authentication
    elif settings.auth_mode == "jwt":
        authentication = jwt_authentication(settings)
    else:
        raise SystemExit(
            f"CSD_AUTH_MODE is 'jwt' (the default) or 'dev', not {settings.auth_mode!r}"
        )
    client = await temporal_client.connect(settings)
    try:
        running = await start(
            address=settings.gateway_address,
            client=client,
            staff_address=settings.staff_address,
            authentication=authentication,
            tls=listening_tls(settings, settings.gateway_address),
            codec_address=settings.codec_address,
            ui_origins=settings.ui_origins(),
            finance_address=settings.finance_address,
        )
    except ValueError as err:
        raise SystemExit(str(err)) from None
    await serve_until_signalled(running, name="gateway", metrics_address=settings.metrics_address)


if __name__ == "__main__":
    asyncio.run(serve(Settings.from_env()))
