"""A PostgreSQL that is down, starting or shutting down is UNAVAILABLE to callers, not INTERNAL.

asyncpg reports these unlike other DB-API drivers: a refused connect is a bare OSError, and a
server that is shutting down or starting up answers a connect with a plain driver error whose
SQLSTATE (57P03) alone says so. The fault suite's PostgreSQL restart found both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import grpc
import pytest
from csd.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from services.runtime.database import create_engine
from services.runtime.server import start_server
from tests.ports import free_port


def closed_port_url() -> str:
    return f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/postgres"


def answering_connect_with(error: Exception) -> AsyncEngine:
    """An engine whose every connect meets `error`, as asyncpg raises it."""

    async def connect() -> asyncpg.Connection:
        raise error

    return create_async_engine("postgresql+asyncpg://", async_creator=connect)


async def query(engine: AsyncEngine) -> None:
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()


async def test_a_refused_connect_is_an_operational_error() -> None:
    with pytest.raises(OperationalError):
        await query(create_engine(closed_port_url()))


class DatabaseServicer(gateway_pb2_grpc.GatewayServiceServicer):
    """GetAssistance runs a query on the engine its reference names."""

    def __init__(self, engines: dict[str, Callable[[], Awaitable[None]]]) -> None:
        self._engines = engines

    async def GetAssistance(
        self, request: gateway_pb2.GetAssistanceRequest, context: grpc.aio.ServicerContext
    ) -> gateway_pb2.Assistance:
        await self._engines[request.reference]()
        return gateway_pb2.Assistance(reference=request.reference)


@pytest.fixture
async def stub() -> AsyncIterator[gateway_pb2_grpc.GatewayServiceStub]:
    servicer = DatabaseServicer(  # type: ignore[abstract]
        {
            "refused": lambda: query(create_engine(closed_port_url())),
            "shutting-down": lambda: query(
                answering_connect_with(
                    asyncpg.exceptions.CannotConnectNowError("the database system is shutting down")
                )
            ),
            "too-many": lambda: query(
                answering_connect_with(
                    asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already")
                )
            ),
            "bad-password": lambda: query(
                answering_connect_with(
                    asyncpg.exceptions.InvalidPasswordError("password authentication failed")
                )
            ),
        }
    )
    running = await start_server(
        address="127.0.0.1:0",
        register=lambda server: gateway_pb2_grpc.add_GatewayServiceServicer_to_server(
            servicer, server
        ),
        service_names=["csd.gateway.v1.GatewayService"],
    )
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            yield gateway_pb2_grpc.GatewayServiceStub(channel)
    finally:
        await running.stop(grace=0)


@pytest.mark.parametrize(
    ("reference", "code"),
    [
        ("refused", grpc.StatusCode.UNAVAILABLE),
        ("shutting-down", grpc.StatusCode.UNAVAILABLE),
        ("too-many", grpc.StatusCode.UNAVAILABLE),
        # A wrong password is the operators' to fix, not a reason for callers to retry.
        ("bad-password", grpc.StatusCode.INTERNAL),
    ],
)
async def test_a_database_that_cannot_serve_now_is_unavailable(
    stub: gateway_pb2_grpc.GatewayServiceStub, reference: str, code: grpc.StatusCode
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.GetAssistance(gateway_pb2.GetAssistanceRequest(reference=reference))
    assert err.value.code() == code
    details = err.value.details() or ""
    for leak in ("asyncpg", "127.0.0.1", "shutting down", "too many", "password", "Traceback"):
        assert leak not in details, details
