"""Scale: many open requirements on one worker, and the RQ-5 status report over them (issue 7).

A dev server with `csd dev`'s flags, the SMTP sink and the staff, finance and notify services run
as `csd dev` runs them, each its own process in a fresh temporary var/; the csd worker too, so its
memory is its own. BENCH_SCALE_WORKFLOWS (default 10,000) requirement workflows are started
directly, IN_FLIGHT at a time; each routes itself (directory look-ups) and mails the senior
support engineer, then waits for the filter decision (an Update). One in ACCEPTED_EVERY is then
accepted through that Update and sleeps on its timer until the next R&D sync. Then:

- scale_start_per_s: requirements started and routed (each one's first mail in the sink) per
  second;
- scale_worker_rss_mib: the worker's resident memory once all of them wait (no floor);
- scale_report_s: from triggering a Temporal Schedule until the RQ-5 digest workflow it starts
  has read the tracking sheet and its email is in the SMTP sink, beside a bare visibility listing
  (client.list_workflows, the sheet's query, memo decoded) over as many workflows.

The production RQ-5 schedule wakes the cadence planner, which starts the digest to sleep until
Friday 16:00; the bench triggers that schedule too (its planning time is a detail line), but
times a schedule whose action is the same digest workflow due at once.

The open workflows are set up once; `rounds` repeats the report and its floor over them. On the
2-core machines the worker routes 2-9 new requirements a second (about 150 ms of its CPU and as
much of the dev server's each), so 10,000 take 20-60 minutes to set up, not the hoped-for few;
BENCH_SCALE_WORKFLOWS sets a smaller count. A digest that fails counts as an infinite time.
"""

from __future__ import annotations

import asyncio
import math
import os
import signal
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleHandle,
    ScheduleSpec,
    ScheduleState,
    WorkflowFailureError,
)

from bench import processes
from bench.measure import Figure, latencies, percentile
from bench.probe_worker import spawned
from bench.workflows import BareActivityWorkflow
from services.cli.dev import Part, parts
from services.cli.health import PartHealth, grpc_health, tcp_health, temporal_health, worker_health
from services.cli.schedules import PREFIX, Plan, schedule_for
from services.cli.seed import seed
from services.runtime.dates import COMPANY_ZONE
from services.runtime.settings import Settings
from services.runtime.temporal_client import data_converter
from services.worker.main import cached_workflows
from workflows import regulation, task_queues
from workflows.cadence_planner import PlanResult
from workflows.requirement import (
    PROCESS,
    TRACKING_MEMO,
    FilterInput,
    RequirementInput,
    RequirementWorkflow,
    workflow_id,
)
from workflows.requirement_digest import (
    WEEKLY,
    DigestInput,
    DigestResult,
    RequirementDigestWorkflow,
)

WORKFLOWS = 10_000
IN_FLIGHT = 50
# Rows the bare listing reads when the report gave no total.
LISTING_LIMIT = 5000
BACKLOG = int(os.environ.get("BENCH_SCALE_BACKLOG", 100))
ACCEPTED_EVERY = 5
RSS_TARGET_MIB = 400.0
START_TARGET_PER_S = 50.0
REPORT_TARGET_S = 60.0
# How long the starts and routing may take in all: generous, for a machine shared with others.
SETTLE_LIMIT_S_EACH = 0.5
REPORT_LIMIT_S = 600.0
STOP_GRACE_S = 15.0
SENIOR_SUPPORT = "gao.lei"  # the demo organisation's senior support engineer
REQUESTERS = (("zhao.lei", "east"), ("liu.yang", "east"), ("sun.hao", "north"),
              ("ma.chao", "central"))  # fmt: skip
RQ5 = "rq5-requirement-status-email"
QUERY = f"CsdProcess = '{PROCESS}'"  # the tracking sheet's query


def workflow_count() -> int:
    return int(os.environ.get("BENCH_SCALE_WORKFLOWS", WORKFLOWS))


class Stack:
    """The parts of `csd dev` this bench needs, each a process of its own."""

    def __init__(self, settings: Settings, env: dict[str, str]) -> None:
        self.settings = settings
        self.env = env
        self.parts = {p.name: p for p in parts(settings)}
        self.started: list[Part] = []
        self._mails = 0
        self._counted_at = -1.0
        logs = settings.var_dir / "log"
        logs.mkdir(parents=True)
        (settings.var_dir / "mail").mkdir()
        s = settings
        self.checks: dict[str, Callable[[], Awaitable[PartHealth]]] = {
            "temporal": lambda: temporal_health(s, None),
            "smtp": lambda: tcp_health("smtp", s.smtp_host, s.smtp_port),
            "staff": lambda: grpc_health("staff", s.staff_address),
            "finance": lambda: grpc_health("finance", s.finance_address),
            "notify": lambda: grpc_health("notify", s.notify_address),
            "worker": lambda: worker_health(s),
        }

    async def start(self, *names: str) -> None:
        for name in names:
            part = self.parts[name]
            with (self.settings.var_dir / "log" / f"{name}.log").open("ab") as log:
                part.process = await asyncio.create_subprocess_exec(
                    *part.argv, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
                    env=self.env, start_new_session=True,
                )  # fmt: skip
            self.started.append(part)
        deadline = time.monotonic() + 60
        for name in names:
            while not (health := await self.checks[name]()).healthy:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} is not healthy: {health.detail}")
                await asyncio.sleep(0.2)

    def pid(self, name: str) -> int:
        process = self.parts[name].process
        assert process is not None
        return process.pid

    def mails(self) -> int:
        """Messages in the sink's maildir, counted at most every 0.1 s (50 lanes ask)."""
        now = time.monotonic()
        if now - self._counted_at > 0.1:
            self._mails = sum(1 for _ in os.scandir(self.settings.var_dir / "mail"))
            self._counted_at = now
        return self._mails

    async def stop(self) -> list[str]:
        """Stop in reverse order, as `csd dev` does (SIGTERM); the names of any killed."""
        killed = []
        for part in reversed(self.started):
            assert part.process is not None
            tree = processes.descendants(part.process.pid)
            if await processes.stop(part.process, tree, grace=STOP_GRACE_S, sig=signal.SIGTERM):
                killed.append(part.name)
        return killed


async def _settle(stack: Stack, *, mails: int, began: float) -> float:
    """Wait until `mails` messages are in the sink and the worker's CPU has gone quiet: every
    workflow has run its tasks so far and waits. Seconds since `began`."""
    worker = stack.pid("worker")
    limit = 300 + mails * SETTLE_LIMIT_S_EACH
    while stack.mails() < mails:
        if time.monotonic() - began > limit:
            raise RuntimeError(f"only {stack.mails()} of {mails} mails after {limit:.0f} s")
        await asyncio.sleep(0.5)
    settled = time.monotonic() - began
    while True:
        before = processes.cpu_seconds(worker)
        await asyncio.sleep(1.0)
        if processes.cpu_seconds(worker) - before < 0.05:
            return settled
        settled = time.monotonic() - began


async def _start_all(
    client: Client, stack: Stack, run: str, count: int, rules: str, mails: int
) -> list[float]:
    """Start `count` requirements, IN_FLIGHT at a time; each start's latency in ms."""
    samples: list[float] = []
    numbers = iter(range(count))

    async def lane() -> None:
        for n in numbers:
            # Started but not yet routed (its first mail not in the sink): at most BACKLOG, so
            # the bench measures a worker keeping up rather than one buried under a start storm.
            while n - (stack.mails() - mails) >= BACKLOG:  # noqa: ASYNC110 - another process
                await asyncio.sleep(0.1)
            requester, region = REQUESTERS[n % len(REQUESTERS)]
            reference = f"B{run}-{n:05d}"
            began = time.perf_counter()
            await client.start_workflow(
                RequirementWorkflow.run,
                RequirementInput(
                    reference=reference, requester_id=requester, region_code=region,
                    hospital=f"Hospital {n % 97}", product_module="LIS", purpose="bench",
                    business_scenario="bench",
                    description="An open requirement for the scale bench.", rule_version=rules,
                ),
                id=workflow_id(reference),
                task_queue=task_queues.MAIN,
                static_summary=f"RQ {reference}: Hospital {n % 97}, LIS",
            )  # fmt: skip
            samples.append((time.perf_counter() - began) * 1000)

    await asyncio.gather(*(lane() for _ in range(IN_FLIGHT)))
    return samples


async def _bare_starts(client: Client, stack: Stack, count: int) -> float:
    """The floor of the start rate: `count` bare one-activity workflows started IN_FLIGHT at a
    time on a bare worker process, per second until every one has finished."""
    task_queue = f"bench-scale-bare-{uuid.uuid4().hex[:8]}"
    run = uuid.uuid4().hex[:6]
    logs = stack.settings.var_dir / "log"
    async with spawned(stack.env, logs, "bare", task_queue):
        began = time.monotonic()

        async def one(n: int) -> object:
            return await client.execute_workflow(
                BareActivityWorkflow.run, n, id=f"bench-scale-bare-{run}-{n}", task_queue=task_queue
            )

        await latencies(one, requests=count, concurrency=IN_FLIGHT)
        return count / (time.monotonic() - began)


async def _accept_some(client: Client, run: str, count: int) -> int:
    chosen = list(range(0, count, ACCEPTED_EVERY))

    async def accept(i: int) -> object:
        handle = client.get_workflow_handle_for(
            RequirementWorkflow.run, workflow_id(f"B{run}-{chosen[i]:05d}")
        )
        return await handle.execute_update(
            RequirementWorkflow.filter, FilterInput(actor_id=SENIOR_SUPPORT, accept=True)
        )

    await latencies(accept, requests=len(chosen), concurrency=IN_FLIGHT)
    return len(chosen)


async def _listing(client: Client, limit: int) -> tuple[float, int]:
    """The floor: the sheet's visibility query, memo decoded, up to `limit` rows."""
    began = time.monotonic()
    rows = 0
    async for execution in client.list_workflows(QUERY, page_size=1000):
        if isinstance(await execution.memo_value(TRACKING_MEMO, default=None), dict):
            rows += 1
        if rows >= limit:
            break
    return time.monotonic() - began, rows


async def _triggered_workflow(handle: ScheduleHandle, seen: set[str]) -> str:
    """The id of the workflow the schedule started since `seen`, once it has."""
    while True:
        info = (await handle.describe()).info
        for action in [*info.running_actions, *(r.action for r in info.recent_actions)]:
            if isinstance(action, ScheduleActionExecutionStartWorkflow) and (
                action.workflow_id not in seen
            ):
                seen.add(action.workflow_id)
                return action.workflow_id
        await asyncio.sleep(0.05)


async def _report(
    client: Client, stack: Stack, handle: ScheduleHandle, seen: set[str]
) -> tuple[float, DigestResult | None, str]:
    """Trigger the digest's schedule; seconds until its mail is in the sink."""
    mails = stack.mails()
    began = time.monotonic()
    await handle.trigger()
    wf_id = await _triggered_workflow(handle, seen)
    try:
        result = await asyncio.wait_for(
            client.get_workflow_handle_for(RequirementDigestWorkflow.run, wf_id).result(),
            REPORT_LIMIT_S,
        )
    except WorkflowFailureError as err:
        cause = err.cause
        return math.inf, None, f"{cause}: {getattr(cause, 'cause', '')}"
    while stack.mails() <= mails:  # noqa: ASYNC110 - the sink is another process
        await asyncio.sleep(0.05)
    return time.monotonic() - began, result, ""


async def _plan_production(client: Client) -> tuple[float, PlanResult]:
    """Trigger the production RQ-5 schedule; seconds until its planner has planned the digest."""
    plan = Plan(f"{PREFIX}{RQ5}", RQ5)
    handle = await client.create_schedule(plan.schedule_id, schedule_for(plan, task_queues.MAIN))
    began = time.monotonic()
    await handle.trigger()
    wf_id = await _triggered_workflow(handle, set())
    result = await client.get_workflow_handle(wf_id, result_type=PlanResult).result()
    return time.monotonic() - began, result


async def _digest_schedule(client: Client, run: str, rules: str) -> ScheduleHandle:
    """A schedule starting the RQ-5 digest due at once (the production one's, at 16:00 Friday)."""
    due = datetime.now(UTC).astimezone(COMPANY_ZONE) - timedelta(minutes=1)
    return await client.create_schedule(
        f"bench-rq5-digest-{run}",
        Schedule(
            action=ScheduleActionStartWorkflow(
                RequirementDigestWorkflow.run,
                DigestInput(kind=WEEKLY, at=due.isoformat(), rule_version=rules),
                id=f"requirement-digest-weekly-bench-{run}",
                task_queue=task_queues.MAIN,
            ),
            spec=ScheduleSpec(),
            state=ScheduleState(paused=True, note="bench: the RQ-5 digest, due at once"),
        ),
    )


async def figures(rounds: int) -> tuple[list[Figure], list[str]]:
    """The worker's memory over the open workflows, and the report's time beside its floor."""
    count = workflow_count()
    run = uuid.uuid4().hex[:6]
    detail: list[str] = []
    with tempfile.TemporaryDirectory(prefix="csd-bench-scale-") as tmp:
        settings, env = processes.isolated(Path(tmp) / "var")
        stack = Stack(settings, env)
        try:
            await stack.start("temporal", "smtp", "staff", "finance", "notify")
            await seed(settings)
            await stack.start("worker")
            client = await Client.connect(
                settings.temporal_address, data_converter=data_converter(settings.payload_keys)
            )
            rules = regulation.in_force(datetime.now(COMPANY_ZONE).date()).version
            mails = stack.mails()

            began = time.monotonic()
            starts = await _start_all(client, stack, run, count, rules, mails)
            started_s = time.monotonic() - began
            routed_s = await _settle(stack, mails=mails + count, began=began)
            accepted = await _accept_some(client, run, count)
            await _settle(stack, mails=mails + count, began=began)
            waiting_s = time.monotonic() - began
            worker_mib = processes.rss_mib(stack.pid("worker"))
            server_mib = processes.rss_mib(stack.pid("temporal"))
            services_mib = {n: processes.rss_mib(stack.pid(n)) for n in ("staff", "notify")}

            bare_per_s = await _bare_starts(client, stack, count)
            planned_s, plan = await _plan_production(client)
            handle = await _digest_schedule(client, run, rules)
            seen: set[str] = set()
            reports: list[float] = []
            floors: list[float] = []
            last: DigestResult | None = None
            failure = ""
            for _ in range(rounds):
                report_s, result, failure = await _report(client, stack, handle, seen)
                last = result or last
                limit = result.total if result else LISTING_LIMIT
                floor_s, listed = await _listing(client, limit)
                reports.append(report_s)
                floors.append(floor_s)
            total = await client.count_workflows(QUERY)
        finally:
            killed = await stack.stop()

    detail += [
        f"scale: {count} requirement workflows started directly, {IN_FLIGHT} in flight and at "
        f"most {BACKLOG} not yet routed, in "
        f"{started_s:.1f} s ({count / started_s:.0f}/s; start p50 "
        f"{statistics.median(starts):.0f} ms, p99 {percentile(starts, 0.99):.0f} ms); routed and "
        f"mailed by {routed_s:.1f} s; {accepted} accepted by the filter Update to sleep until the "
        f"next sync; all {total.count} waiting at {waiting_s:.1f} s",
        f"scale: the worker's RSS {worker_mib:.0f} MiB (it caches at most "
        f"{cached_workflows(stack.settings)} workflows), "
        f"the dev server's {server_mib:.0f} MiB, staff {services_mib['staff']:.0f} MiB, "
        f"notify {services_mib['notify']:.0f} MiB",
        f"scale: the production RQ-5 schedule's planner planned {plan.workflow_id} "
        f"(due {plan.occurrence}) {planned_s:.2f} s after the trigger",
        f"scale: set up once ({waiting_s / 60:.1f} min); {rounds} report(s) over it",
        f"scale: ours {count / routed_s:.1f} started and routed a second beside {bare_per_s:.1f} "
        f"bare one-activity workflows a second, {IN_FLIGHT} in flight",
    ]
    summarised = f"the digest summarised {last.total}" if last else "the digest summarised none"
    detail.append(
        f"scale: {summarised} of {total.count} requirements; the floor listed {listed} in a median "
        f"{statistics.median(floors):.2f} s"
    )
    if failure:
        detail.append(f"scale: the RQ-5 digest FAILED over {total.count} requirements: {failure}")
    if killed:
        detail.append(f"scale: killed after {STOP_GRACE_S:g} s: {', '.join(killed)}")
    result_figures = [
        # Started and routed (each one's first mail in the sink): what a department sees.
        Figure(
            "scale_start_per_s",
            "/s",
            [count / routed_s],
            [bare_per_s],
            START_TARGET_PER_S,
            higher_is_better=True,
        ),
        Figure("scale_worker_rss_mib", "MiB", [worker_mib], None, RSS_TARGET_MIB),
        Figure("scale_report_s", "s", reports, floors, REPORT_TARGET_S),
    ]
    return result_figures, detail


if __name__ == "__main__":
    found, lines = asyncio.run(figures(1))
    for figure in found:
        print(f"{figure.name}: {figure.value:.2f} {figure.unit} (floor {figure.floor}) "
              f"target <= {figure.target:g}")  # fmt: skip
    print("\n".join(lines))
