"""The notify schema comes from its migrations, and the migrations match the models."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from services.notify.models import Base
from services.notify.server import MIGRATIONS
from services.runtime.database import create_engine, migrate

VERSION_TABLE = "notify_alembic_version"


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "include_name": lambda name, kind, _parent: kind != "table" or name != VERSION_TABLE,
        },
    )
    return list(compare_metadata(context, Base.metadata))


async def test_migrations_build_exactly_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate(engine, migrations=MIGRATIONS, version_table=VERSION_TABLE)
        # A second run finds nothing to do.
        await migrate(engine, migrations=MIGRATIONS, version_table=VERSION_TABLE)
        async with engine.connect() as connection:
            assert await connection.run_sync(_differences) == []
    finally:
        await engine.dispose()
