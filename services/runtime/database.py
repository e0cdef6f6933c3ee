"""Engines, sessions and migrations.

SQLite (aiosqlite) by default, PostgreSQL (asyncpg) by URL. A schema comes to exist only through
the service's Alembic migrations, in tests too, run over the service's own async connection.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Insert, Table, event, insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def create_engine(url: str) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and enforced foreign keys."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    engine = create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)

    @event.listens_for(engine.sync_engine, "do_connect")
    def _connect(dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        # asyncpg lets a refused or timed-out connect out as a bare OSError, where DB-API
        # drivers raise OperationalError: raise that, so a database that is down (or still
        # restarting) reads as UNAVAILABLE to callers rather than as a bug.
        try:
            return dialect.connect(*cargs, **cparams)
        except OSError as err:
            raise dialect.loaded_dbapi.OperationalError(
                f"cannot connect to the database: {err}"
            ) from err

    return engine


_INSERTS: dict[type[Any], Insert] = {}


def insert_statement(model: type[Any]) -> Insert:
    """The plain INSERT of `model`'s table, built once. Executed with the row as its parameters
    it is compiled once too, where `insert(model).values(row)` builds, keys and looks up a new
    statement on every write and runs it through the ORM's bulk-insert path (bench/README.md)."""
    statement = _INSERTS.get(model)
    if statement is None:
        statement = _INSERTS[model] = insert(cast(Table, model.__table__))
    return statement


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


async def migrate(engine: AsyncEngine, *, migrations: Path, version_table: str) -> None:
    """Bring the schema to the newest revision of `migrations`."""

    def upgrade(connection: Connection) -> None:
        config = Config()
        config.set_main_option("script_location", str(migrations))
        config.attributes["connection"] = connection
        config.attributes["version_table"] = version_table
        command.upgrade(config, "head")

    async with engine.begin() as connection:
        await connection.run_sync(upgrade)
