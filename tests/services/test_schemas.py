"""Each service's schema comes from its migrations, and the migrations match its models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, MetaData

from services.finance import models as finance_models
from services.finance import server as finance_server
from services.notify import models as notify_models
from services.notify import server as notify_server
from services.runtime.database import create_engine, migrate
from services.staff import models as staff_models
from services.staff import server as staff_server

SERVICES = {
    "staff": (staff_models.Base.metadata, staff_server.MIGRATIONS),
    "finance": (finance_models.Base.metadata, finance_server.MIGRATIONS),
    "notify": (notify_models.Base.metadata, notify_server.MIGRATIONS),
}


def _differences(connection: Connection, metadata: MetaData, version_table: str) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "include_name": lambda name, kind, _parent: kind != "table" or name != version_table,
        },
    )
    return list(compare_metadata(context, metadata))


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_build_exactly_the_models(database_url: str, service: str) -> None:
    metadata, migrations = SERVICES[service]
    version_table = f"{service}_alembic_version"
    engine = create_engine(database_url)
    try:
        await migrate(engine, migrations=Path(migrations), version_table=version_table)
        # A second run finds nothing to do.
        await migrate(engine, migrations=Path(migrations), version_table=version_table)
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences, metadata, version_table) == []
    finally:
        await engine.dispose()
