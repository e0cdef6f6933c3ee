"""A worker process of the benchmark's own: `python -m bench.probe_worker ours|bare QUEUE`.

`ours` is the production worker (services/worker/main.py: every workflow and activity, the
same cache and sticky settings) with the SLA probe added; `bare` runs only the floors' bare
workflows (a timer and a mail, a waiting Update, one activity). Both are processes of their
own, as the csd dev worker is, so one of ours is compared with one bare one, and two of ours
(the scale-out lever) with two bare ones; neither shares the benchmark's own event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from temporalio.worker import Worker

from bench.system import System
from bench.workflows import (
    BareActivityWorkflow,
    BareApprovalWorkflow,
    BareTimerMailWorkflow,
    SlaProbeWorkflow,
    bare_activity,
    bare_mail,
)
from services.runtime import temporal_client
from services.runtime.logging import configure_logging
from services.runtime.settings import Settings
from services.runtime.tls import FINANCE, NOTIFY, STAFF, open_channel
from services.worker.main import build_worker, cached_workflows

READY = "probe worker polling"
REPO = Path(__file__).resolve().parents[1]


async def run(kind: str, task_queue: str) -> None:
    configure_logging("bench-worker")
    settings = Settings.from_env()
    client = await temporal_client.connect(settings)
    tls = settings.tls()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with (
        open_channel(settings.staff_address, to=STAFF, tls=tls) as staff,
        open_channel(settings.finance_address, to=FINANCE, tls=tls) as finance,
        open_channel(settings.notify_address, to=NOTIFY, tls=tls) as notify,
    ):
        worker = (
            build_worker(
                client,
                staff=staff,
                finance=finance,
                notify=notify,
                task_queue=task_queue,
                extra_workflows=[SlaProbeWorkflow],
                cached_workflows=cached_workflows(settings),
            )
            if kind == "ours"
            else Worker(
                client,
                task_queue=task_queue,
                workflows=[BareTimerMailWorkflow, BareApprovalWorkflow, BareActivityWorkflow],
                activities=[bare_mail, bare_activity],
            )
        )
        async with worker:
            print(READY, flush=True)
            await stop.wait()


@contextlib.asynccontextmanager
async def worker_processes(
    system: System, kind: str, task_queue: str, count: int = 1
) -> AsyncIterator[None]:
    """`count` worker processes of `kind` polling `task_queue` on `system`, until the block
    ends: `ours` and `bare` as above, or `production`, more of csd dev's own worker (`python -m
    services.worker.main`, which polls the main task queue whatever `task_queue` says)."""
    logs = system.settings.var_dir / "log"
    async with spawned(system.env(), logs, kind, task_queue, count):
        yield


@contextlib.asynccontextmanager
async def spawned(
    env: dict[str, str], logs: Path, kind: str, task_queue: str, count: int = 1
) -> AsyncIterator[None]:
    """`worker_processes` with the environment and log folder given."""
    started: list[tuple[asyncio.subprocess.Process, Path]] = []
    if kind == "production":
        argv, ready = ["-m", "services.worker.main"], '"worker polling"'
    else:
        argv, ready = ["-m", "bench.probe_worker", kind, task_queue], READY
    try:
        for n in range(count):
            log = logs / f"bench-{kind}-{task_queue}-{n}.log"
            with log.open("wb") as out:
                process = await asyncio.create_subprocess_exec(
                    sys.executable, *argv, cwd=REPO, env=env, stdout=out, stderr=out,
                    stdin=asyncio.subprocess.DEVNULL,
                )  # fmt: skip
            started.append((process, log))
        for process, log in started:
            for _ in range(600):
                if ready in log.read_text():
                    break
                if process.returncode is not None:
                    raise RuntimeError(f"{kind} worker exited:\n{log.read_text()[-2000:]}")
                await asyncio.sleep(0.05)
        yield
    finally:
        for process, _ in started:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process, _ in started:
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                process.kill()


if __name__ == "__main__":
    asyncio.run(run(sys.argv[1], sys.argv[2]))
