"""`csd dev` as a person runs it: every part up, a request served, Ctrl-C, and a resume."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from csd.gateway.v1 import gateway_pb2 as G
from csd.gateway.v1.gateway_pb2_grpc import GatewayServiceStub

pytestmark = pytest.mark.e2e

CSD = str(Path(sys.executable).parent / "csd")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def dev_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CSD_")}
    env.update(
        CSD_VAR_DIR=str(tmp_path / "var"),
        CSD_TEMPORAL_ADDRESS=f"127.0.0.1:{free_port()}",
        CSD_TEMPORAL_UI_PORT=str(free_port()),
        CSD_GATEWAY_ADDRESS=f"127.0.0.1:{free_port()}",
        CSD_STAFF_ADDRESS=f"127.0.0.1:{free_port()}",
        CSD_FINANCE_ADDRESS=f"127.0.0.1:{free_port()}",
        CSD_NOTIFY_ADDRESS=f"127.0.0.1:{free_port()}",
        CSD_SMTP_PORT=str(free_port()),
    )
    return env


class Dev:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.output: list[str] = []

    async def wait_for_line(self, text: str, seconds: float = 60) -> None:
        async def read() -> None:
            assert self.process.stdout is not None
            while True:
                raw = await self.process.stdout.readline()
                if not raw:
                    raise AssertionError("csd dev exited:\n" + "".join(self.output))
                self.output.append(raw.decode())
                if text in self.output[-1]:
                    return

        await asyncio.wait_for(read(), seconds)

    async def interrupt(self) -> int:
        """Ctrl-C, as a person stops it; returns the exit code once every part has stopped."""
        assert self.process.stdout is not None
        self.process.send_signal(signal.SIGINT)
        rest = await asyncio.wait_for(self.process.stdout.read(), 40)
        self.output.append(rest.decode())
        return await asyncio.wait_for(self.process.wait(), 10)


@pytest.fixture
async def start_dev(dev_env: dict[str, str]) -> AsyncIterator[object]:
    started: list[Dev] = []

    async def start() -> Dev:
        process = await asyncio.create_subprocess_exec(
            CSD,
            "dev",
            env=dev_env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        dev = Dev(process)
        started.append(dev)
        await dev.wait_for_line("csd-ops is up")
        return dev

    yield start
    for dev in started:
        if dev.process.returncode is None:
            dev.process.kill()
            await dev.process.wait()


async def status(env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        CSD, "status", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await process.communicate()
    return process.returncode or 0, out.decode()


async def test_csd_dev_runs_everything_stops_cleanly_and_resumes(
    start_dev: object, dev_env: dict[str, str]
) -> None:
    dev: Dev = await start_dev()  # type: ignore[operator]
    code, report = await status(dev_env)
    assert code == 0, report
    for part in ("temporal", "smtp", "staff", "finance", "notify", "gateway"):
        assert f"ok   {part}" in report

    reference = "XA-DEV-1"
    async with grpc.aio.insecure_channel(dev_env["CSD_GATEWAY_ADDRESS"]) as channel:
        gateway = GatewayServiceStub(channel)
        await gateway.StartAssistance(
            G.StartAssistanceRequest(
                reference=reference, target_department="rnd", subject="s", description="d"
            ),
            metadata=(("x-csd-user", "zhao.lei"),),
        )
    maildir = Path(dev_env["CSD_VAR_DIR"]) / "mail"
    for _ in range(100):
        if any(reference in p.read_text(errors="replace") for p in maildir.glob("*.eml")):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("no mail arrived in var/mail")

    assert await dev.interrupt() == 0
    stopped = [line for line in "".join(dev.output).splitlines() if line.startswith("stopped ")]
    # Reverse order of start: the worker first, Temporal last.
    assert stopped[0] == "stopped worker" and stopped[-1] == "stopped temporal", stopped
    code, report = await status(dev_env)
    assert code == 1 and "DOWN" in report

    # A second run resumes: the request started before is still there, waiting.
    await start_dev()  # type: ignore[operator]
    async with grpc.aio.insecure_channel(dev_env["CSD_GATEWAY_ADDRESS"]) as channel:
        found = await GatewayServiceStub(channel).GetAssistance(
            G.GetAssistanceRequest(reference=reference), metadata=(("x-csd-user", "zhao.lei"),)
        )
    assert found.stage == "awaiting_coordinator"
