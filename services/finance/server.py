"""Run the finance service: `python -m services.finance.server` or `csd serve finance`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path

from csd.finance.v1 import finance_pb2, finance_pb2_grpc
from csd.staff.v1 import staff_pb2_grpc

from services.finance import ledger_gauge
from services.finance.callers import CALLERS
from services.finance.directory import StaffDirectory
from services.finance.servicer import FinanceServicer
from services.runtime import dates
from services.runtime.database import create_engine, migrate, session_factory
from services.runtime.logging import configure_logging
from services.runtime.server import (
    RunningServer,
    listening_tls,
    serve_until_signalled,
    start_server,
)
from services.runtime.settings import Settings
from services.runtime.tls import STAFF, TlsFiles, open_channel

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = finance_pb2.DESCRIPTOR.services_by_name["FinanceService"].full_name


async def start(
    *,
    address: str,
    database_url: str,
    tls: TlsFiles | None = None,
    staff_address: str = "",
    today: Callable[[], date] = dates.today,
) -> RunningServer:
    """Migrate the database and start serving on `address`: with `tls`, mutual TLS and each
    RPC open only to the parts services/finance/callers.py names. Ledger entries must name
    people and regions the staff service at `staff_address` knows (asked as the finance part);
    `today` is the company's date (tests set the clock)."""
    engine = create_engine(database_url)
    await migrate(engine, migrations=MIGRATIONS, version_table="finance_alembic_version")
    cleanup: list[Callable[[], Awaitable[None]]] = []
    directory = None
    if staff_address:
        staff = open_channel(staff_address, to=STAFF, tls=tls)
        directory = StaffDirectory(staff_pb2_grpc.StaffServiceStub(staff))
        cleanup.append(lambda: staff.close())
    sessions = session_factory(engine)
    servicer = FinanceServicer(sessions, directory=directory, today=today)
    gauge = asyncio.create_task(ledger_gauge.keep_current(sessions))

    async def stop_gauge() -> None:
        gauge.cancel()
        await asyncio.gather(gauge, return_exceptions=True)

    cleanup.insert(0, stop_gauge)
    return await start_server(
        address=address,
        register=lambda server: finance_pb2_grpc.add_FinanceServiceServicer_to_server(
            servicer, server
        ),
        service_names=[SERVICE_NAME],
        cleanup=[*cleanup, engine.dispose],
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
        staff_address=settings.staff_address,
    )
    await serve_until_signalled(running, name="finance", metrics_address=settings.metrics_address)


if __name__ == "__main__":
    asyncio.run(serve(Settings.from_env()))
