"""Service latency beside its floors, in the same run (issue 7):

- read: the staff service's GetPerson p99 vs. a bare grpc.aio round trip (the health Check of a
  server with nothing else registered);
- write: the finance service's RecordEntry (idempotent ledger write) p99 vs. a bare SQLAlchemy
  insert into the same kind of database.

Each ratio is ours over the floor, at concurrency 1 and 50; the headline is the worse of the two.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

import grpc
from csd.finance.v1 import finance_pb2 as F
from csd.finance.v1.finance_pb2_grpc import FinanceServiceStub
from csd.staff.v1 import staff_pb2
from csd.staff.v1.staff_pb2_grpc import StaffServiceStub
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from sqlalchemy import Column, Integer, MetaData, String, Table, insert

from bench.measure import Figure, latencies, percentile
from bench.system import postgres_databases
from services.finance import server as finance_server
from services.runtime.database import create_engine
from services.staff import server as staff_server
from services.staff.demo import load_demo

CONCURRENCIES = (1, 50)
REQUESTS = {1: 200, 50: 1000}
# Issue 16: a read at most 1.5x a bare health check, a write at most 2x a bare insert.
TARGETS = {"service_read_p99_ratio": 1.5, "service_write_p99_ratio": 2.0}


async def _bare_grpc() -> tuple[grpc.aio.Server, int]:
    server = grpc.aio.server()
    health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, port


async def one_round(
    url: Callable[[str], str],
) -> dict[str, dict[int, tuple[float, float]]]:
    """p99 (ours, floor) per concurrency for reads and writes, on the databases `url` names."""

    staff = await staff_server.start(address="127.0.0.1:0", database_url=url("staff"))
    finance = await finance_server.start(address="127.0.0.1:0", database_url=url("finance"))
    bare, bare_port = await _bare_grpc()
    floor_engine = create_engine(url("floor"))
    table = Table("floor", MetaData(), Column("id", Integer, primary_key=True),
                  Column("key", String(80), unique=True), Column("amount", Integer))  # fmt: skip
    async with floor_engine.begin() as connection:
        await connection.run_sync(table.metadata.create_all)
    result: dict[str, dict[int, tuple[float, float]]] = {"read": {}, "write": {}}
    try:
        async with (
            grpc.aio.insecure_channel(f"127.0.0.1:{staff.port}") as staff_channel,
            grpc.aio.insecure_channel(f"127.0.0.1:{finance.port}") as finance_channel,
            grpc.aio.insecure_channel(f"127.0.0.1:{bare_port}") as bare_channel,
        ):
            staff_stub = StaffServiceStub(staff_channel)
            finance_stub = FinanceServiceStub(finance_channel)
            echo = health_pb2_grpc.HealthStub(bare_channel)
            await load_demo(staff_stub)
            run = uuid.uuid4().hex[:8]

            async def read(_: int) -> object:
                return await staff_stub.GetPerson(staff_pb2.GetPersonRequest(id="zhao.lei"))

            async def read_floor(_: int) -> object:
                return await echo.Check(health_pb2.HealthCheckRequest())

            async def write(n: int) -> object:
                return await finance_stub.RecordEntry(
                    F.RecordEntryRequest(
                        idempotency_key=f"bench-{run}-{n}",
                        entry=F.LedgerEntry(
                            person_id="zhao.lei", region_code="east", month="2026-11",
                            kind=F.ENTRY_KIND_FINE, amount_fen=5000, rule_id="WR-4",
                            reason="bench",
                        ),
                    )
                )  # fmt: skip

            async def write_floor(n: int) -> object:
                async with floor_engine.begin() as connection:
                    return await connection.execute(
                        insert(table).values(key=f"bench-{run}-{n}", amount=5000)
                    )

            for concurrency in CONCURRENCIES:
                run = uuid.uuid4().hex[:8]
                n = REQUESTS[concurrency]
                ours = await latencies(read, requests=n, concurrency=concurrency)
                floor = await latencies(read_floor, requests=n, concurrency=concurrency)
                result["read"][concurrency] = (percentile(ours, 0.99), percentile(floor, 0.99))
                ours = await latencies(write, requests=n, concurrency=concurrency)
                floor = await latencies(write_floor, requests=n, concurrency=concurrency)
                result["write"][concurrency] = (percentile(ours, 0.99), percentile(floor, 0.99))
    finally:
        await staff.stop(grace=0)
        await finance.stop(grace=0)
        await bare.stop(0)
        await floor_engine.dispose()
    return result


def _sqlite_files(directory: Path) -> Callable[[str], str]:
    """URLs of fresh SQLite files in `directory`."""
    run = uuid.uuid4().hex[:6]
    return lambda name: f"sqlite+aiosqlite:///{directory}/{name}-{run}.db"


async def figures(rounds: int, postgres: str = "") -> tuple[list[Figure], list[str]]:
    """The two headline ratios, and a line of detail per concurrency; on fresh SQLite files, or
    on fresh databases of the PostgreSQL server `postgres` names."""
    per_round = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            if postgres:
                names = ("staff", "finance", "floor")
                async with postgres_databases(postgres, names) as urls:
                    per_round.append(await one_round(urls.__getitem__))
            else:
                per_round.append(await one_round(_sqlite_files(Path(tmp))))
    result, detail = [], []
    for kind, name in (("read", "service_read_p99_ratio"), ("write", "service_write_p99_ratio")):
        ratios, floors = [], []
        for measured in per_round:
            worst = max(CONCURRENCIES, key=lambda c: measured[kind][c][0] / measured[kind][c][1])
            ours, floor = measured[kind][worst]
            ratios.append(ours / floor)
            floors.append(floor)
        result.append(Figure(name, "ratio", ratios, floors, TARGETS[name], floor_unit="ms"))
        for concurrency in CONCURRENCIES:
            ours_p99 = sorted(m[kind][concurrency][0] for m in per_round)
            floor_p99 = sorted(m[kind][concurrency][1] for m in per_round)
            detail.append(
                f"{kind} at concurrency {concurrency}: p99 {ours_p99[len(ours_p99) // 2]:.2f} ms "
                f"(min {ours_p99[0]:.2f}, max {ours_p99[-1]:.2f}) beside the floor's "
                f"{floor_p99[len(floor_p99) // 2]:.2f} ms"
            )
    return result, detail
