"""`csd_ledger_rows{month}` (issue 15): the ledger's rows per month as the database holds them,
refreshed from SQL (SQLite and PostgreSQL), whatever replica wrote them."""

from __future__ import annotations

from csd.finance.v1 import finance_pb2
from csd.finance.v1.finance_pb2_grpc import FinanceServiceStub
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.finance import ledger_gauge
from services.runtime.database import create_engine, session_factory
from tests.services.finance.builders import entry


async def test_the_gauge_counts_each_months_rows_in_the_database(
    finance_stub: FinanceServiceStub, database_url: str
) -> None:
    for key, month in (("g-1", "2026-10"), ("g-2", "2026-10"), ("g-3", "2026-11")):
        await finance_stub.RecordEntry(
            finance_pb2.RecordEntryRequest(idempotency_key=key, entry=entry(month=month))
        )
    # A retry is the same row, not another.
    await finance_stub.RecordEntry(
        finance_pb2.RecordEntryRequest(idempotency_key="g-1", entry=entry(month="2026-10"))
    )
    engine = create_engine(database_url)
    try:
        sessions: async_sessionmaker = session_factory(engine)  # type: ignore[type-arg]
        counts = await ledger_gauge.refresh(sessions)
        # Read at once: another finance server of this process refreshes the same gauge.
        assert REGISTRY.get_sample_value("csd_ledger_rows", {"month": "2026-10"}) == 2
        assert REGISTRY.get_sample_value("csd_ledger_rows", {"month": "2026-11"}) == 1
    finally:
        await engine.dispose()
    assert counts == {"2026-10": 2, "2026-11": 1}
