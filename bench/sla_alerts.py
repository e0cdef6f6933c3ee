"""SLA alert lateness (issues 7 and 16): from a promise's deadline until its alert is accepted
by the SMTP server, idle and with 1,000 deadlines at one instant, each beside its floor in
turn (ours, then the floor, round after round; never at the same time).

Ours: each deadline held by a real `SlaClock` on a real case file (bench/workflows.py:
SlaProbeWorkflow) on the production worker (bench/probe_worker.py `ours`, a process of its own
like csd dev's worker), so the alert takes the path every process's alert takes: timer,
workflow task, the alert activity, notify's delivery record, SMTP. The floor: the same burst of
bare timers, each firing one bare activity that sends one mail over a new connection to the
same SMTP server (`bare`). The SMTP sink of `csd dev` writes each message to its maildir before
it answers 250, so a file's modification time is the moment the mail was accepted.

`BENCH_SLA_WORKERS` (default 1) runs that many worker processes of each kind.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from email.policy import default
from pathlib import Path
from typing import Any

from bench import processes
from bench.measure import Figure, percentile
from bench.probe_worker import worker_processes
from bench.system import System
from bench.workflows import (
    BareMailInput,
    BareTimerMailInput,
    BareTimerMailWorkflow,
    SlaProbeInput,
    SlaProbeWorkflow,
)

IDLE_DEADLINES = 40
IDLE_SPACING_S = 0.25
IDLE_LEAD_S = 3.0
BURST = int(os.environ.get("BENCH_SLA_BURST", "1000"))
BURST_LEAD_S = 40
START_CONCURRENCY = 50
IDLE_TARGET_MS = 250.0
BURST_TARGET_RATIO = 2.0
WORKERS = int(os.environ.get("BENCH_SLA_WORKERS", "1"))
REPO = Path(__file__).resolve().parents[1]


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


Start = Callable[[str, datetime], Any]


async def _round(
    system: System,
    start_one: Start,
    deadlines: dict[str, datetime],
    lead: float = 0.0,
    spent: list[str] | None = None,
) -> float:
    """Start a case per reference and wait until each has alerted; the seconds the starts took.
    With `lead`, each case starts that many seconds before its own deadline, not all at once.
    With `spent`, what each process spent of the cores from the first deadline until the last
    alert is appended to it."""
    semaphore = asyncio.Semaphore(START_CONCURRENCY)
    handles = []

    async def start(reference: str, deadline: datetime) -> None:
        if lead:
            await asyncio.sleep(max(0.0, (deadline - datetime.now(UTC)).total_seconds() - lead))
        async with semaphore:
            handles.append(await start_one(reference, deadline))

    began = time.monotonic()
    await asyncio.gather(*(start(r, d) for r, d in deadlines.items()))
    starting = time.monotonic() - began
    latest = max(deadlines.values())
    if spent is not None:
        first = (min(deadlines.values()) - datetime.now(UTC)).total_seconds()
        await asyncio.sleep(max(0.0, first))
        before = processes.cpu_by_part(os.getpid())
    for handle in handles:
        remaining = (latest - datetime.now(UTC)).total_seconds() + 300
        await asyncio.wait_for(handle.result(), max(remaining, 1))
    if spent is not None:
        spent.append(processes.spent_between(before, processes.cpu_by_part(os.getpid())))
    return starting


def _lateness(maildir: Path, run: str, deadlines: dict[str, datetime]) -> list[float]:
    """Each deadline's lateness in ms; every alert exactly once, or the benchmark fails."""
    accepted = _accepted(maildir, run)
    counts = Counter({reference: len(times) for reference, times in accepted.items()})
    missing = [r for r in deadlines if r not in accepted]
    doubled = [r for r, n in counts.items() if n > 1]
    if missing or doubled:
        raise AssertionError(f"alerts not exactly once: missing {missing[:5]}, doubled {doubled}")
    return [(min(accepted[r]) - deadline.timestamp()) * 1000 for r, deadline in deadlines.items()]


async def figures(rounds: int, system: System) -> tuple[list[Figure], list[str]]:
    client, settings = system.client, system.settings
    ours_queue = f"bench-sla-{uuid.uuid4().hex[:8]}"
    bare_queue = f"bench-sla-bare-{uuid.uuid4().hex[:8]}"

    def ours(reference: str, deadline: datetime) -> Any:
        return client.start_workflow(
            SlaProbeWorkflow.run,
            SlaProbeInput(reference, deadline.isoformat()),
            id=f"bench-sla-{reference}",
            task_queue=ours_queue,
        )

    def bare(reference: str, deadline: datetime) -> Any:
        mail = BareMailInput(
            settings.smtp_host, settings.smtp_port, f"{reference}: bench SLA breach"
        )
        return client.start_workflow(
            BareTimerMailWorkflow.run,
            BareTimerMailInput(deadline.isoformat(), mail),
            id=f"bench-sla-bare-{reference}",
            task_queue=bare_queue,
        )

    idle: dict[str, list[float]] = {"ours": [], "bare": []}
    burst: dict[str, list[float]] = {"ours": [], "bare": []}
    detail = []
    async with (
        worker_processes(system, "ours", ours_queue, WORKERS),
        worker_processes(system, "bare", bare_queue, WORKERS),
    ):
        for _ in range(rounds):
            for kind, start in (("ours", ours), ("bare", bare)):
                await system.settle()
                # Idle: deadlines one at a time, far enough apart not to meet.
                run = uuid.uuid4().hex[:8]
                first = datetime.now(UTC) + timedelta(seconds=5)
                spaced = {
                    f"SLA-{run}-{n}": first + timedelta(seconds=n * IDLE_SPACING_S)
                    for n in range(IDLE_DEADLINES)
                }
                # One at a time: a case opens IDLE_LEAD_S before its deadline, so no start's
                # first task shares the worker with 39 others (a clock's timer is started when
                # the task that sets it completes: a slow first task is a late timer).
                await _round(system, start, spaced, lead=IDLE_LEAD_S)
                lateness = _lateness(system.maildir, run, spaced)
                idle[kind].append(percentile(lateness, 0.99))
                detail.append(
                    f"SLA alert ({kind}), idle ({IDLE_DEADLINES} deadlines {IDLE_SPACING_S:g} s "
                    f"apart): p50 {percentile(lateness, 0.5):.0f} ms, p99 {idle[kind][-1]:.0f} "
                    f"ms, max {max(lateness):.0f} ms"
                )
            for kind, start in (("ours", ours), ("bare", bare)):
                await system.settle()
                # Burst: every deadline at one instant, after all of them have started.
                run = uuid.uuid4().hex[:8]
                instant = datetime.now(UTC) + timedelta(seconds=BURST_LEAD_S)
                at_once = {f"SLA-{run}-{n}": instant for n in range(BURST)}
                cores: list[str] = []
                opened = await system.metric("notify", "csd_smtp_sessions_opened_total")
                starting = await _round(system, start, at_once, spent=cores)
                opened = await system.metric("notify", "csd_smtp_sessions_opened_total") - opened
                if starting > BURST_LEAD_S:
                    raise AssertionError(f"{BURST} starts took {starting:.0f} s: raise the lead")
                lateness = _lateness(system.maildir, run, at_once)
                burst[kind].append(max(lateness) / 1000)
                detail.append(
                    f"SLA alert ({kind}), burst of {BURST} at one instant on {WORKERS} worker "
                    f"process(es) (started in {starting:.0f} s of the {BURST_LEAD_S} s lead): "
                    f"p50 {percentile(lateness, 0.5):.0f} ms, p99 "
                    f"{percentile(lateness, 0.99):.0f} ms, all alerted within "
                    f"{burst[kind][-1]:.2f} s; CPU from the instant to the last alert: "
                    f"{cores[0]}"
                    + (f"; notify opened {opened:.0f} SMTP session(s)" if kind == "ours" else "")
                )
    ratios = [o / b for o, b in zip(burst["ours"], burst["bare"], strict=True)]
    return [
        Figure("sla_alert_p99_ms", "ms", idle["ours"], idle["bare"], IDLE_TARGET_MS),
        Figure(
            "sla_burst_ratio", "ratio", ratios, burst["bare"], BURST_TARGET_RATIO, floor_unit="s"
        ),
    ], detail
