"""Run the staff service: `python -m services.staff.server` or `csd serve staff`."""

from __future__ import annotations

import asyncio
from pathlib import Path

from csd.staff.v1 import staff_pb2, staff_pb2_grpc

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
from services.staff.callers import CALLERS
from services.staff.servicer import StaffServicer

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = staff_pb2.DESCRIPTOR.services_by_name["StaffService"].full_name


async def start(*, address: str, database_url: str, tls: TlsFiles | None = None) -> RunningServer:
    """Migrate the database and start serving on `address`: with `tls`, mutual TLS and each
    RPC open only to the parts services/staff/callers.py names."""
    engine = create_engine(database_url)
    await migrate(engine, migrations=MIGRATIONS, version_table="staff_alembic_version")
    servicer = StaffServicer(session_factory(engine))
    return await start_server(
        address=address,
        register=lambda server: staff_pb2_grpc.add_StaffServiceServicer_to_server(servicer, server),
        service_names=[SERVICE_NAME],
        cleanup=[engine.dispose],
        tls=tls,
        callers=CALLERS,
    )


async def serve(settings: Settings) -> None:
    configure_logging("staff")
    running = await start(
        address=settings.staff_address,
        database_url=settings.database_url("staff"),
        tls=listening_tls(settings, settings.staff_address),
    )
    await serve_until_signalled(running, name="staff", metrics_address=settings.metrics_address)


if __name__ == "__main__":
    asyncio.run(serve(Settings.from_env()))
