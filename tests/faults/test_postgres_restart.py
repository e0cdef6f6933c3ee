"""Fault: PostgreSQL restarted under the running services.

The machine's shared PostgreSQL (127.0.0.1:5432) serves other tests and CI, so it is never the
one stopped: each test starts a private cluster of its own with the machine's PostgreSQL binaries
(`initdb` as the `postgres` user, trust auth, on a free loopback port), runs the real services
against it in-process, and crashes it with `pg_ctl stop -m immediate`, the way a killed server
or a power cut leaves it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

import grpc
import pytest
from csd.finance.v1 import finance_pb2 as F
from csd.finance.v1.finance_pb2_grpc import FinanceServiceStub
from google.protobuf.message import Message

from services.finance import server as finance_server
from tests.ports import free_port

pytestmark = pytest.mark.faults

T = TypeVar("T", bound=Message)

RECOVERY_SECONDS = 30.0
LEAKS = ("Traceback", "SELECT", "INSERT", "asyncpg", "sqlalchemy", "postgres", "127.0.0.1")


def _binaries() -> Path:
    """The newest installed PostgreSQL's bin directory, or skip."""
    for bin_dir in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if all((bin_dir / tool).exists() for tool in ("initdb", "pg_ctl", "postgres")):
            return bin_dir
    pytest.skip("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")


def _as_cluster_owner() -> list[str]:
    """The command prefix that runs a tool as a user initdb accepts (it refuses root)."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.skip("running as root without runuser: initdb cannot be run as another user")
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root and there is no postgres user to own a private cluster")
    return [runuser, "-u", "postgres", "--"]


class PrivateCluster:
    """A throwaway PostgreSQL cluster: its own data directory, port and socket directory."""

    def __init__(self, root: Path, bin_dir: Path, prefix: list[str]) -> None:
        self.root = root
        self.port = free_port()
        self.up = False
        self._bin = bin_dir
        self._prefix = prefix

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    async def _run(self, tool: str, *args: str) -> None:
        process = await asyncio.create_subprocess_exec(
            *self._prefix,
            str(self._bin / tool),
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await process.communicate()
        if process.returncode != 0:
            raise RuntimeError(
                f"{tool} {' '.join(args)} failed:\n{output.decode(errors='replace')}"
            )

    async def init(self) -> None:
        await self._run(
            "initdb",
            "-D", str(self.root / "data"),
            "-U", "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )  # fmt: skip

    async def start(self) -> None:
        options = (
            f"-c port={self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.root}"
        )
        await self._run(
            "pg_ctl", "start", "-w", "-t", "60",
            "-D", str(self.root / "data"),
            "-l", str(self.root / "postgres.log"),
            "-o", options,
        )  # fmt: skip
        self.up = True

    async def crash(self) -> None:
        """Stop at once, without a checkpoint, as if the server were killed."""
        await self._run("pg_ctl", "stop", "-m", "immediate", "-w", "-D", str(self.root / "data"))
        self.up = False

    async def create_database(self) -> str:
        name = f"csd_fault_{uuid.uuid4().hex[:12]}"
        await self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return name


@contextlib.asynccontextmanager
async def private_cluster() -> AsyncIterator[PrivateCluster]:
    bin_dir, prefix = _binaries(), _as_cluster_owner()
    root = Path(tempfile.mkdtemp(prefix="csd-pg-"))
    if prefix:
        shutil.chown(root, user="postgres", group="postgres")
    cluster = PrivateCluster(root, bin_dir, prefix)
    try:
        await cluster.init()
        await cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(RuntimeError):
            await cluster.crash()  # already down after a failed test: that is fine
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
async def cluster() -> AsyncIterator[PrivateCluster]:
    """One private cluster for the module (initdb is the slow part); each test has its own
    database in it and leaves the cluster running."""
    async with private_cluster() as running:
        yield running


@pytest.fixture
async def finance(cluster: PrivateCluster) -> AsyncIterator[FinanceServiceStub]:
    """The real finance service, in-process, on a fresh database of the private cluster."""
    database = await cluster.create_database()
    running = await finance_server.start(address="127.0.0.1:0", database_url=cluster.url(database))
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            yield FinanceServiceStub(channel)
    finally:
        await running.stop(grace=0)
        if not cluster.up:
            await cluster.start()


def entry_request(key: str) -> F.RecordEntryRequest:
    return F.RecordEntryRequest(
        idempotency_key=key,
        entry=F.LedgerEntry(
            person_id="zhao.lei",
            region_code="east",
            month="2026-11",
            kind=F.ENTRY_KIND_FINE,
            amount_fen=5000,
            rule_id="WR-4",
            reason="late weekly report",
        ),
    )


def assert_unavailable(err: grpc.aio.AioRpcError) -> None:
    """The status a caller retries on, with words a person can act on and nothing internal."""
    details = err.details() or ""
    assert err.code() == grpc.StatusCode.UNAVAILABLE, f"{err.code().name}: {details}"
    assert "the database is unavailable; retry shortly" in details
    for leak in LEAKS:
        assert leak not in details, details


async def until_served(call: Callable[[], Awaitable[T]]) -> T:
    """Retry `call` while it is UNAVAILABLE, for at most RECOVERY_SECONDS."""
    deadline = time.monotonic() + RECOVERY_SECONDS
    while True:
        try:
            return await call()
        except grpc.aio.AioRpcError as err:
            assert_unavailable(err)
            if time.monotonic() > deadline:
                raise AssertionError(f"still unavailable after {RECOVERY_SECONDS:g} s") from err
            await asyncio.sleep(0.2)


async def test_requests_fail_unavailable_while_postgres_is_down_then_succeed(
    cluster: PrivateCluster, finance: FinanceServiceStub
) -> None:
    """Fault: the finance service's PostgreSQL crashes (immediate stop) and comes back.

    Must hold: while it is down, writes and reads are UNAVAILABLE with a human message (never
    INTERNAL, never SQL or a trace); once it is back, the same service process serves again
    without a restart; the write attempted during the outage, retried with its key, makes
    exactly one row; every write acknowledged before the crash is still there.
    """
    tag = uuid.uuid4().hex[:6]
    acknowledged = [f"before-{tag}-{n}" for n in range(5)]
    for key in acknowledged:
        await finance.RecordEntry(entry_request(key), timeout=10)
    listed = await finance.ListEntries(F.ListEntriesRequest(person_id="zhao.lei"))
    assert sorted(e.idempotency_key for e in listed.entries) == sorted(acknowledged)

    await cluster.crash()
    during = entry_request(f"during-{tag}")
    # More calls than the pool keeps connections: every pooled connection is found dead.
    for _ in range(12):
        with pytest.raises(grpc.aio.AioRpcError) as write:
            await finance.RecordEntry(during, timeout=10)
        assert_unavailable(write.value)
        with pytest.raises(grpc.aio.AioRpcError) as read:
            await finance.ListEntries(F.ListEntriesRequest(person_id="zhao.lei"), timeout=10)
        assert_unavailable(read.value)

    await cluster.start()
    first = await until_served(lambda: finance.RecordEntry(during, timeout=10))
    again = await finance.RecordEntry(during, timeout=10)
    assert again == first
    listed = await finance.ListEntries(F.ListEntriesRequest(person_id="zhao.lei"))
    keys = [e.idempotency_key for e in listed.entries]
    assert sorted(keys) == sorted([*acknowledged, during.idempotency_key])


async def test_writes_racing_a_crash_are_kept_once_each_after_retry(
    cluster: PrivateCluster, finance: FinanceServiceStub
) -> None:
    """Fault: PostgreSQL crashes while writes are in flight, and comes back.

    Must hold: each write either succeeds or fails UNAVAILABLE (never INTERNAL); every write
    acknowledged before the crash is in the ledger afterwards; every write whose answer was
    lost, retried with its key after the restart, ends as exactly one row (a commit the crash
    hid from the caller is answered from its record, not made twice).
    """
    tag = uuid.uuid4().hex[:6]
    acknowledged: list[str] = []
    unanswered: list[str] = []
    warmed_up, crashed = asyncio.Event(), asyncio.Event()

    async def writer(lane: int) -> None:
        for n in range(10_000):
            key = f"race-{tag}-{lane}-{n}"
            try:
                await finance.RecordEntry(entry_request(key), timeout=10)
            except grpc.aio.AioRpcError as err:
                assert_unavailable(err)
                unanswered.append(key)
                if crashed.is_set():
                    return
            else:
                acknowledged.append(key)
                if len(acknowledged) >= 40:
                    warmed_up.set()

    writers = [asyncio.create_task(writer(lane)) for lane in range(4)]
    await asyncio.wait_for(warmed_up.wait(), timeout=60)
    await cluster.crash()
    crashed.set()
    await asyncio.wait_for(asyncio.gather(*writers), timeout=30)
    assert unanswered, "no write was cut off by the crash"

    await cluster.start()
    for request in map(entry_request, unanswered):
        await until_served(partial(finance.RecordEntry, request, timeout=10))
    listed = await finance.ListEntries(F.ListEntriesRequest(person_id="zhao.lei"))
    keys = [e.idempotency_key for e in listed.entries]
    assert len(keys) == len(set(keys)), "a retried write was recorded twice"
    assert set(keys) == set(acknowledged) | set(unanswered)
