"""The department's cases as gauges (issue 15): open cases, and SLA clocks at warning or
breached, per process and region, read from Temporal's visibility store (the same search
attributes the Web UI filters by) every `interval`.

Every worker process keeps them; dashboards take `max by (process, region)` across processes.
A process and region seen once and empty since reads 0, not a stale count.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import structlog
from temporalio.client import Client
from temporalio.common import MetricMeter

from workflows import search_attributes, sla

log = structlog.get_logger("csd.worker.gauges")

OPEN_CASES_QUERY = 'ExecutionStatus = "Running" AND CsdProcess IS NOT NULL'
DEFAULT_INTERVAL = timedelta(seconds=30)
SLA_STATES = (sla.WARNING, sla.BREACHED)


class CaseGauges:
    """`csd_open_cases{process,region}` and `csd_sla_clocks{process,region,state}`."""

    def __init__(self, meter: MetricMeter) -> None:
        self._open = meter.create_gauge(
            "csd_open_cases", "Cases running now, by process and region"
        )
        self._clocks = meter.create_gauge(
            "csd_sla_clocks",
            "Running cases whose worst SLA clock is at warning or breached, by process and region",
        )
        self._seen: set[tuple[str, str]] = set()

    async def refresh(self, client: Client) -> int:
        """Count the open cases now; returns how many there are."""
        open_cases: Counter[tuple[str, str]] = Counter()
        clocks: Counter[tuple[str, str, str]] = Counter()
        async for execution in client.list_workflows(OPEN_CASES_QUERY, page_size=1000):
            attributes = execution.typed_search_attributes
            process = attributes.get(search_attributes.PROCESS) or ""
            region = attributes.get(search_attributes.REGION) or "none"
            open_cases[process, region] += 1
            state = attributes.get(search_attributes.SLA_STATE) or ""
            if state in SLA_STATES:
                clocks[process, region, state] += 1
        self._seen |= set(open_cases)
        for process, region in sorted(self._seen):
            where = {"process": process, "region": region}
            self._open.set(open_cases[process, region], where)
            for state in SLA_STATES:
                self._clocks.set(clocks[process, region, state], {**where, "state": state})
        return sum(open_cases.values())

    async def run(self, client: Client, interval: timedelta = DEFAULT_INTERVAL) -> None:
        """Refresh until cancelled; a visibility outage is logged and tried again next time."""
        while True:
            try:
                await self.refresh(client)
            except Exception as err:  # the gauges wait; the worker's cases do not
                log.warning("case gauges not refreshed", error=str(err))
            await asyncio.sleep(interval.total_seconds())
