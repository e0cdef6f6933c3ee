"""The operators' commands (issue 12): `csd calendar publish` and `csd policy publish` present the
admin certificate, which alone may change the calendar and the policy; any other part's
certificate is refused PERMISSION_DENIED and the command says so."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.finance import server as finance_server
from services.runtime.dev_pki import ensure_dev_pki
from services.runtime.server import RunningServer
from services.runtime.tls import FINANCE, STAFF
from services.staff import server as staff_server

CSD = str(Path(sys.executable).parent / "csd")


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    var = tmp_path / "var"
    pki = ensure_dev_pki(var)
    servers: list[RunningServer] = [
        await staff_server.start(
            address="127.0.0.1:0",
            database_url=f"sqlite+aiosqlite:///{tmp_path}/staff.db",
            tls=pki.files(STAFF),
        ),
    ]
    servers.append(
        await finance_server.start(
            address="127.0.0.1:0",
            database_url=f"sqlite+aiosqlite:///{tmp_path}/finance.db",
            tls=pki.files(FINANCE),
            staff_address=f"127.0.0.1:{servers[0].port}",
        )
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CSD_")}
    environment.update(
        CSD_VAR_DIR=str(var),
        CSD_STAFF_ADDRESS=f"127.0.0.1:{servers[0].port}",
        CSD_FINANCE_ADDRESS=f"127.0.0.1:{servers[1].port}",
    )
    try:
        yield environment
    finally:
        for running in servers:
            await running.stop(grace=0)


async def csd(env: dict[str, str], *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        CSD, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await process.communicate()
    return process.returncode or 0, out.decode()


YEAR = (
    "calendar",
    "publish",
    "--year",
    "2029",
    "--days-off",
    "2029-02-12,2029-02-13",
    "--workdays",
    "2029-02-17",
    "--source",
    "State Council notice (test)",
)


async def test_the_admin_certificate_publishes_the_calendar_and_the_policy(
    env: dict[str, str],
) -> None:
    code, out = await csd(env, *YEAR)
    assert code == 0, out
    assert "calendar 2029: 2 days off, 1 make-up workdays (State Council notice (test))" in out
    assert (await csd(env, *YEAR)) == (0, out)  # the same notice again changes nothing
    code, out = await csd(env, "policy", "publish")
    assert (code, out.strip()) == (0, "policy 2024-v1 from 2024-04-01")


async def test_another_parts_certificate_may_not(env: dict[str, str]) -> None:
    tls = Path(env["CSD_VAR_DIR"]) / "tls"
    as_worker = {
        **env,
        "CSD_TLS_CA": str(tls / "ca.pem"),
        "CSD_TLS_CERT": str(tls / "worker.pem"),
        "CSD_TLS_KEY": str(tls / "worker-key.pem"),
    }
    code, out = await csd(as_worker, *YEAR)
    assert code == 1
    assert "PERMISSION_DENIED" in out and "PublishCalendarYear is not open to the worker" in out
    code, out = await csd(as_worker, "policy", "publish")
    assert code == 1 and "PublishPolicy is not open to the worker part" in out
    # No admin certificate to be found: the handshake itself fails.
    shutil.rmtree(tls)
    code, out = await csd(env, "policy", "publish")
    assert code == 1 and "UNAVAILABLE" in out
