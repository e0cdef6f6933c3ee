"""SLA alert lateness (issue 7): from a promise's deadline until its breach alert is accepted by
the SMTP server, idle and with 1,000 deadlines at the same instant.

Each deadline is held by a real `SlaClock` (bench/workflows.py: SlaProbeWorkflow) on a worker
with csd-ops's own activities, so the alert takes the path every process's alert takes: timer,
workflow task, the managers looked up in the staff service, the alert through notify's delivery
record to SMTP. The SMTP sink of `csd dev` writes each message to its maildir before it answers
250, so a file's modification time is the moment the alert was accepted.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from email.policy import default
from pathlib import Path

import grpc
from temporalio.worker import Worker

from bench.measure import Figure, percentile
from bench.system import System
from bench.workflows import SlaProbeInput, SlaProbeWorkflow
from services.worker.main import (
    MAX_CACHED_WORKFLOWS,
    STICKY_QUEUE_TIMEOUT,
    activities_for,
    use_bytecode,
)

IDLE_DEADLINES = 40
IDLE_SPACING_S = 0.25
BURST = 1000
BURST_LEAD_S = 40
START_CONCURRENCY = 50
IDLE_TARGET_MS = 250.0
BURST_TARGET_S = 5.0


def _accepted(maildir: Path, run: str) -> dict[str, list[float]]:
    """Reference -> acceptance times (epoch seconds) of the alerts of this run."""
    accepted: dict[str, list[float]] = {}
    for path in maildir.glob("*.eml"):
        with path.open("rb") as handle:
            subject = str(BytesParser(policy=default).parse(handle, headersonly=True)["Subject"])
        found = re.search(rf"(SLA-{run}-\d+): bench SLA breach", subject)
        if found:
            accepted.setdefault(found.group(1), []).append(path.stat().st_mtime)
    return accepted


async def _probe_round(system: System, task_queue: str, deadlines: dict[str, datetime]) -> float:
    """Start a probe per reference and wait until every probe has alerted; the seconds the
    starts took."""
    client = system.client
    semaphore = asyncio.Semaphore(START_CONCURRENCY)

    async def start(reference: str, deadline: datetime) -> None:
        async with semaphore:
            await client.start_workflow(
                SlaProbeWorkflow.run,
                SlaProbeInput(reference, deadline.isoformat()),
                id=f"bench-sla-{reference}",
                task_queue=task_queue,
            )

    began = time.monotonic()
    await asyncio.gather(*(start(r, d) for r, d in deadlines.items()))
    starting = time.monotonic() - began
    latest = max(deadlines.values())
    for reference in deadlines:
        remaining = (latest - datetime.now(UTC)).total_seconds() + 120
        await asyncio.wait_for(
            client.get_workflow_handle(f"bench-sla-{reference}").result(), max(remaining, 1)
        )
    return starting


async def figures(rounds: int, system: System) -> tuple[list[Figure], list[str]]:
    settings = system.settings
    idle_p99, burst_s, detail = [], [], []
    async with (
        grpc.aio.insecure_channel(settings.staff_address) as staff,
        grpc.aio.insecure_channel(settings.finance_address) as finance,
        grpc.aio.insecure_channel(settings.notify_address) as notify,
    ):
        task_queue = f"bench-sla-{uuid.uuid4().hex[:8]}"
        use_bytecode()
        async with Worker(
            system.client,
            task_queue=task_queue,
            workflows=[SlaProbeWorkflow],
            activities=activities_for(staff=staff, finance=finance, notify=notify),
            sticky_queue_schedule_to_start_timeout=STICKY_QUEUE_TIMEOUT,
            max_cached_workflows=MAX_CACHED_WORKFLOWS,
        ):
            for _ in range(rounds):
                # Idle: deadlines one at a time, far enough apart not to meet.
                run = uuid.uuid4().hex[:8]
                first = datetime.now(UTC) + timedelta(seconds=5)
                idle = {
                    f"SLA-{run}-{n}": first + timedelta(seconds=n * IDLE_SPACING_S)
                    for n in range(IDLE_DEADLINES)
                }
                await _probe_round(system, task_queue, idle)
                lateness = _lateness(system.maildir, run, idle)
                idle_p99.append(percentile(lateness, 0.99))
                detail.append(
                    f"SLA alert, idle ({IDLE_DEADLINES} deadlines {IDLE_SPACING_S:g} s apart): "
                    f"p50 {percentile(lateness, 0.5):.0f} ms, p99 {idle_p99[-1]:.0f} ms, "
                    f"max {max(lateness):.0f} ms"
                )

                # Burst: every deadline at one instant, after all of them have started.
                run = uuid.uuid4().hex[:8]
                instant = datetime.now(UTC) + timedelta(seconds=BURST_LEAD_S)
                burst = {f"SLA-{run}-{n}": instant for n in range(BURST)}
                starting = await _probe_round(system, task_queue, burst)
                if starting > BURST_LEAD_S:
                    raise AssertionError(f"{BURST} starts took {starting:.0f} s: raise the lead")
                lateness = _lateness(system.maildir, run, burst)
                burst_s.append(max(lateness) / 1000)
                detail.append(
                    f"SLA alert, burst of {BURST} at one instant (started in {starting:.0f} s "
                    f"of the {BURST_LEAD_S} s lead): p50 {percentile(lateness, 0.5):.0f} ms, p99 "
                    f"{percentile(lateness, 0.99):.0f} ms, all alerted within {burst_s[-1]:.2f} s"
                )
    return [
        Figure("sla_alert_p99_ms", "ms", idle_p99, None, IDLE_TARGET_MS),
        Figure("sla_burst_s", "s", burst_s, None, BURST_TARGET_S),
    ], detail


def _lateness(maildir: Path, run: str, deadlines: dict[str, datetime]) -> list[float]:
    """Each deadline's lateness in ms; every alert exactly once, or the benchmark fails."""
    accepted = _accepted(maildir, run)
    counts = Counter({reference: len(times) for reference, times in accepted.items()})
    missing = [r for r in deadlines if r not in accepted]
    doubled = [r for r, n in counts.items() if n > 1]
    if missing or doubled:
        raise AssertionError(f"alerts not exactly once: missing {missing[:5]}, doubled {doubled}")
    return [(min(accepted[r]) - deadline.timestamp()) * 1000 for r, deadline in deadlines.items()]
