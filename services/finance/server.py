"""Run the finance service: `python -m services.finance.server` or `csd serve finance`."""

from __future__ import annotations

import asyncio
from pathlib import Path

from csd.finance.v1 import finance_pb2, finance_pb2_grpc

from services.finance.callers import CALLERS
from services.finance.servicer import FinanceServicer
from services.runtime.database import create_engine, migrate, session_factory
from services.runtime.logging import configure_logging
from services.runtime.server import (
    RunningServer,
    listening_tls,
    serve_until_signalled,
    start_server,
)
from services.runtime.settings import Settings
from services.runtime.tls import TlsFiles

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = finance_pb2.DESCRIPTOR.services_by_name["FinanceService"].full_name


async def start(*, address: str, database_url: str, tls: TlsFiles | None = None) -> RunningServer:
    """Migrate the database and start serving on `address`: with `tls`, mutual TLS and each
    RPC open only to the parts services/finance/callers.py names."""
    engine = create_engine(database_url)
    await migrate(engine, migrations=MIGRATIONS, version_table="finance_alembic_version")
    servicer = FinanceServicer(session_factory(engine))
    return await start_server(
        address=address,
        register=lambda server: finance_pb2_grpc.add_FinanceServiceServicer_to_server(
            servicer, server
        ),
        service_names=[SERVICE_NAME],
        cleanup=[engine.dispose],
        tls=tls,
        callers=CALLERS,
    )


async def serve(settings: Settings) -> None:
    """Serve until SIGTERM or SIGINT, on the configured address and database."""
    configure_logging("finance")
    running = await start(
        address=settings.finance_address,
        database_url=settings.database_url("finance"),
        tls=listening_tls(settings, settings.finance_address),
    )
    await serve_until_signalled(running, name="finance")


if __name__ == "__main__":
    asyncio.run(serve(Settings.from_env()))
