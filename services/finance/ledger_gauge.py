"""`csd_ledger_rows{month}`: the ledger's rows per month (issue 15), read from the database
every `interval`, so every finance replica reports the truth of the shared ledger rather than
what it wrote itself (dashboards take `max by (month)`)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import structlog
from prometheus_client import Gauge
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.finance import repository

log = structlog.get_logger("csd.finance.gauge")

LEDGER_ROWS = Gauge("csd_ledger_rows", "Ledger rows per month", ["month"])
DEFAULT_INTERVAL = timedelta(seconds=30)


async def refresh(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as session:
        counts = await repository.ledger_rows_by_month(session=session)
    for month, count in counts.items():
        LEDGER_ROWS.labels(month=month).set(count)
    return counts


async def keep_current(
    sessions: async_sessionmaker[AsyncSession], interval: timedelta = DEFAULT_INTERVAL
) -> None:
    """Refresh until cancelled; a database outage is logged and tried again next time."""
    while True:
        try:
            await refresh(sessions)
        except Exception as err:  # the gauge waits; the ledger's callers do not
            log.warning("ledger gauge not refreshed", error=str(err))
        await asyncio.sleep(interval.total_seconds())
