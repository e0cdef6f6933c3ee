"""A worker process of the benchmark's own: `python -m bench.probe_worker ours|bare QUEUE`.

`ours` is the production worker (services/worker/main.py: every workflow and activity, the
same cache and sticky settings) with the SLA probe added; `bare` runs only the floor's bare
timer-and-mail workflow. Both are processes of their own, as the csd dev worker is, so one of
ours is compared with one bare one, and two of ours (the scale-out lever) with two bare ones.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from temporalio.worker import Worker

from bench.workflows import BareTimerMailWorkflow, SlaProbeWorkflow, bare_mail
from services.runtime import temporal_client
from services.runtime.logging import configure_logging
from services.runtime.settings import Settings
from services.runtime.tls import FINANCE, NOTIFY, STAFF, open_channel
from services.worker.main import build_worker

READY = "probe worker polling"


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
            )
            if kind == "ours"
            else Worker(
                client,
                task_queue=task_queue,
                workflows=[BareTimerMailWorkflow],
                activities=[bare_mail],
            )
        )
        async with worker:
            print(READY, flush=True)
            await stop.wait()


if __name__ == "__main__":
    asyncio.run(run(sys.argv[1], sys.argv[2]))
