"""Finance service fixtures: a server on loopback over the shared `database_url` (SQLite and
PostgreSQL), a stub, and a stub with the regulation's policy published."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date

import grpc
import pytest
from csd.finance.v1 import finance_pb2, finance_pb2_grpc

from services.finance import server as finance_server
from services.finance.regulation import publish_regulation_policy
from services.runtime.server import RunningServer


@dataclass
class Clock:
    """The company's date as the finance service sees it: set by the test, so that the policy
    history the tests publish (2024, 2025) lies in the future when it is published."""

    today: date = date(2024, 4, 1)  # the regulation's first day (EF-1)

    def __call__(self) -> date:
        return self.today


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def finance_server_running(database_url: str, clock: Clock) -> AsyncIterator[RunningServer]:
    running = await finance_server.start(
        address="127.0.0.1:0", database_url=database_url, today=clock
    )
    yield running
    await running.stop(grace=0)


@pytest.fixture
async def finance_stub(
    finance_server_running: RunningServer,
) -> AsyncIterator[finance_pb2_grpc.FinanceServiceStub]:
    """A finance service on loopback with no policy and an empty ledger."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{finance_server_running.port}") as channel:
        yield finance_pb2_grpc.FinanceServiceStub(channel)


@pytest.fixture
async def regulation_stub(
    finance_stub: finance_pb2_grpc.FinanceServiceStub,
) -> finance_pb2_grpc.FinanceServiceStub:
    """A finance service with the regulation's policy (2024-v1) published."""
    published: finance_pb2.PolicyVersion = await publish_regulation_policy(finance_stub)
    assert published.version == "2024-v1"
    return finance_stub
