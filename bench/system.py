"""The whole system as `make dev` runs it, for the benchmarks that go through Temporal.

`csd dev` in a fresh var directory with a free port for every part, so a benchmark measures the
real process tree (dev server with its WAL pragmas, services, gateway, worker, SMTP sink) and
never disturbs a developer's own `make dev`. The services keep their data in SQLite under the
var directory, or in PostgreSQL databases of their own when `postgres` names a server.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from sqlalchemy import text
from temporalio.client import Client

from bench import processes
from bench.leave_load import LeaveSlots
from services.cli.health import check_all
from services.runtime.database import create_engine
from services.runtime.dev_pki import DevPki
from services.runtime.settings import Settings
from services.runtime.temporal_client import data_converter
from services.runtime.tls import ADMIN, GATEWAY, TlsFiles, open_channel

SERVICES = ("staff", "finance", "notify")
START_TIMEOUT_SECONDS = 60.0


@dataclass
class System:
    settings: Settings
    client: Client
    gateway: grpc.aio.Channel
    started_in_s: float
    process: asyncio.subprocess.Process
    # csd dev's CA and the parts' certificates: the benchmark calls the services as the worker.
    pki: DevPki
    # Leave slots are shared by every benchmark on this system: a slot is one workflow.
    leave_slots: LeaveSlots = field(default_factory=LeaveSlots)
    environment: dict[str, str] = field(default_factory=dict)

    @property
    def maildir(self) -> Path:
        return self.settings.var_dir / "mail"

    def tls(self, part: str) -> TlsFiles:
        return self.pki.files(part)

    def env(self) -> dict[str, str]:
        """The environment a worker process of the benchmark's runs with: csd dev's settings
        (ports, keyring, auth mode) and the worker part's certificate."""
        return {**self.environment, **self.pki.env("worker")}

    async def metric(self, part: str, name: str) -> float:
        """The sum of a metric's samples (every label set) on `part`'s /metrics; 0 when the
        part exports none yet."""
        address = self.environment[f"CSD_{part.upper()}_METRICS_ADDRESS"]

        def scrape() -> str:
            with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as response:
                body: bytes = response.read()
                return body.decode()

        text = await asyncio.to_thread(scrape)
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith(name) and line[len(name) : len(name) + 1] in ("{", " ")
        )

    async def settle(self, quiet_s: float = 2.0, limit_s: float = 180.0) -> float:
        """Wait until the work a benchmark left behind is done (no mail for `quiet_s`: every
        process here mails as it goes), so the next one measures its own load; the seconds
        waited."""
        loop = asyncio.get_running_loop()
        began = last_change = loop.time()
        count = -1
        while loop.time() - last_change < quiet_s and loop.time() - began < limit_s:
            now = sum(1 for _ in self.maildir.glob("*.eml"))
            if now != count:
                count, last_change = now, loop.time()
            await asyncio.sleep(0.25)
        return loop.time() - began


@asynccontextmanager
async def postgres_databases(server: str, names: tuple[str, ...]) -> AsyncIterator[dict[str, str]]:
    """A fresh database per name on `server` (postgresql+asyncpg://user@host:port/db): name ->
    its URL; dropped afterwards."""
    engine = create_engine(server)
    base = server.rsplit("/", 1)[0]
    created = {name: f"csd_bench_{name}_{uuid.uuid4().hex[:8]}" for name in names}
    try:
        async with engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            for database in created.values():
                await connection.execute(text(f'CREATE DATABASE "{database}"'))
        yield {name: f"{base}/{database}" for name, database in created.items()}
    finally:
        async with engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            for database in created.values():
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        await engine.dispose()


async def _healthy(settings: Settings, pki: DevPki, deadline: float) -> None:
    while True:
        # Until csd dev has made its CA and the admin's certificate, nothing answers TLS.
        parts = await check_all(settings, tls=pki.ready(ADMIN))
        if all(p.healthy for p in parts):
            return
        if time.monotonic() > deadline:
            sick = ", ".join(f"{p.name}: {p.detail}" for p in parts if not p.healthy)
            raise RuntimeError(f"csd dev did not become healthy: {sick}")
        await asyncio.sleep(0.1)


@asynccontextmanager
async def running_system(workdir: Path, *, postgres: str = "") -> AsyncIterator[System]:
    """`csd dev` under `workdir`, healthy, with a Temporal client and a gateway channel."""
    var_dir = workdir / f"dev-{uuid.uuid4().hex[:6]}"
    settings, env = processes.isolated(var_dir)
    csd = str(Path(sys.executable).parent / "csd")
    var_dir.mkdir(parents=True)
    async with contextlib.AsyncExitStack() as stack:
        if postgres:
            urls = await stack.enter_async_context(postgres_databases(postgres, SERVICES))
            env |= {f"CSD_{s.upper()}_DATABASE_URL": url for s, url in urls.items()}
        output = stack.enter_context((var_dir / "dev.out").open("wb"))
        began = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            csd, "dev", stdout=output, stderr=output, stdin=asyncio.subprocess.DEVNULL,
            env=env, start_new_session=True,
        )  # fmt: skip
        pki = DevPki(var_dir / "tls")
        try:
            await _healthy(settings, pki, began + START_TIMEOUT_SECONDS)
            started_in = time.monotonic() - began
            client = await Client.connect(
                settings.temporal_address, data_converter=data_converter(settings.payload_keys)
            )
            gateway_channel = open_channel(
                settings.gateway_address, to=GATEWAY, tls=pki.files(ADMIN)
            )
            async with gateway_channel as gateway:
                yield System(settings, client, gateway, started_in, process, pki, environment=env)
        finally:
            await _stop(process)


async def _stop(process: asyncio.subprocess.Process) -> None:
    """Ctrl-C, as a developer stops it; the whole process group if it does not go."""
    if process.returncode is None:
        process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    await process.wait()
