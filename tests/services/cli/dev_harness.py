"""A `csd dev` run by the tests as a person runs it: its own var/ and free ports, read line by
line, stopped with a signal; and `csd status` against it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from tests.ports import free_port

CSD = str(Path(sys.executable).parent / "csd")
METRICS_PARTS = ("GATEWAY", "STAFF", "FINANCE", "NOTIFY", "WORKER", "WORKER_2")


def dev_environment(tmp_path: Path) -> dict[str, str]:
    """Every port free (the metrics ones too: a `make dev` may run beside the tests)."""
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
        CSD_CODEC_ADDRESS=f"127.0.0.1:{free_port()}",
        # These tests name their caller in x-csd-user, as `make dev` allows (the jwt test
        # runs the default, jwt).
        CSD_AUTH_MODE="dev",
    )
    for part in METRICS_PARTS:
        env[f"CSD_{part}_METRICS_ADDRESS"] = f"127.0.0.1:{free_port()}"
    return env


class Dev:
    def __init__(self, process: asyncio.subprocess.Process, env: dict[str, str]) -> None:
        self.process = process
        self.env = env
        self.output: list[str] = []

    @classmethod
    async def start(cls, env: dict[str, str]) -> Dev:
        process = await asyncio.create_subprocess_exec(
            CSD, "dev", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        return cls(process, env)

    async def wait_for_line(self, text: str, seconds: float = 60) -> str:
        async def read() -> str:
            assert self.process.stdout is not None
            while True:
                raw = await self.process.stdout.readline()
                if not raw:
                    raise AssertionError("csd dev exited:\n" + "".join(self.output))
                self.output.append(raw.decode())
                if text in self.output[-1]:
                    return self.output[-1]

        try:
            return await asyncio.wait_for(read(), seconds)
        except TimeoutError:
            raise AssertionError(f"no {text!r} from csd dev:\n" + "".join(self.output)) from None

    async def interrupt(self) -> int:
        """Ctrl-C, as a person stops it; returns the exit code once every part has stopped."""
        assert self.process.stdout is not None
        self.process.send_signal(signal.SIGINT)
        rest = await asyncio.wait_for(self.process.stdout.read(), 40)
        self.output.append(rest.decode())
        return await asyncio.wait_for(self.process.wait(), 10)

    def state(self) -> dict[str, Any]:
        """var/dev-state.json as csd dev last wrote it."""
        path = Path(self.env["CSD_VAR_DIR"]) / "dev-state.json"
        state: dict[str, Any] = json.loads(path.read_text())
        return state

    def pid(self, part: str) -> int:
        pid = self.state()["parts"][part]["pid"]
        assert isinstance(pid, int), self.state()["parts"][part]
        return pid


async def stop_gracefully(process: asyncio.subprocess.Process) -> None:
    """SIGTERM, so csd dev stops its children in order."""
    if process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.communicate(), 60)
    except TimeoutError:
        process.kill()
        await process.wait()


async def status(env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        CSD, "status", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await process.communicate()
    return process.returncode or 0, out.decode()


def dead(pid: int) -> bool:
    """Gone, or a zombie nobody has reaped yet (its parent was killed): it runs nothing."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")
