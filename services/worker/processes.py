"""`csd worker --processes N`: N worker processes on one machine, each its own Python (so N
cores run workflow tasks and activities; one process is bound to one core by the GIL), all
polling the one task queue of the namespace; Temporal spreads the work between them.

Each child serves its metrics on its own port (CSD_METRICS_ADDRESS's port plus its index). A
child that dies is started again after a backoff; SIGTERM or SIGINT stops them all, each
finishing its tasks in hand (the worker's graceful shutdown). Children are killed by the
kernel if this process dies without stopping them (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time

import structlog

from services.runtime.logging import configure_logging
from services.runtime.procfs import die_with_parent
from services.runtime.restarts import Backoff
from services.runtime.settings import Settings

log = structlog.get_logger("csd.worker.processes")

STOP_GRACE_SECONDS = 15.0


def metrics_address_of(address: str, index: int) -> str:
    """The metrics address of child `index` (0-based): the port moved up by the index."""
    if not address:
        return ""
    host, _, port = address.rpartition(":")
    return f"{host}:{int(port) + index}"


class Child:
    def __init__(self, index: int, settings: Settings) -> None:
        self.index = index
        self.env = {
            **os.environ,
            "CSD_METRICS_ADDRESS": metrics_address_of(settings.metrics_address, index),
            # The case gauges count the whole namespace: the first child's are the machine's.
            "CSD_CASE_GAUGES": "on" if index == 0 and settings.case_gauges else "off",
        }
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "services.worker.main",
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            preexec_fn=die_with_parent(),
        )
        log.info("worker process started", index=self.index, pid=self.process.pid)

    async def keep_running(self, stopping: asyncio.Event) -> None:
        backoff = Backoff()
        while not stopping.is_set():
            began = time.monotonic()
            await self.start()
            assert self.process is not None
            code = await self.process.wait()
            if stopping.is_set():
                return
            delay = backoff.after(time.monotonic() - began)
            log.warning(
                "worker process exited; starting it again",
                index=self.index,
                code=code,
                after_seconds=delay,
            )
            try:
                await asyncio.wait_for(stopping.wait(), delay)
            except TimeoutError:
                pass

    async def stop(self) -> None:
        process = self.process
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), STOP_GRACE_SECONDS)
        except TimeoutError:
            process.kill()
            await process.wait()


async def run_processes(settings: Settings, count: int) -> None:
    """Run `count` worker processes until SIGTERM or SIGINT."""
    configure_logging("worker")
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    children = [Child(index, settings) for index in range(count)]
    supervised = [asyncio.create_task(child.keep_running(stopping)) for child in children]
    log.info("worker processes", count=count)
    await stopping.wait()
    await asyncio.gather(*(child.stop() for child in children))
    await asyncio.gather(*supervised)
    log.info("worker processes stopped", count=count)
