"""Workflows the benchmarks run beside csd-ops's own.

The bare ones are the floors: the least a Temporal workflow can do on the same server. The SLA
probe holds one real `SlaClock` (workflows/sla.py, the clock every process uses) whose deadline
the benchmark chooses, so alert lateness can be measured at an instant of its choosing instead
of hours after a real process starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from workflows import sla


@activity.defn
async def bare_activity(n: int) -> int:
    return n


@workflow.defn
class BareActivityWorkflow:
    """One activity that does nothing: the floor for activity throughput."""

    @workflow.run
    async def run(self, n: int) -> int:
        return await workflow.execute_activity(
            bare_activity, n, start_to_close_timeout=timedelta(seconds=30)
        )


@workflow.defn
class BareApprovalWorkflow:
    """Waits for one decision by Update: the floor for decision latency (and for starts)."""

    def __init__(self) -> None:
        self._decided = False

    @workflow.run
    async def run(self) -> bool:
        await workflow.wait_condition(lambda: self._decided)
        return True

    @workflow.update
    def decide(self, approve: bool) -> bool:
        self._decided = True
        return approve


@dataclass
class SlaProbeInput:
    reference: str
    # ISO 8601 with offset: when the promise breaks and the managers must hear of it.
    deadline: str


@workflow.defn
class SlaProbeWorkflow:
    """A promise nobody keeps: its breach alert goes to the department managers at `deadline`."""

    @workflow.run
    async def run(self, input: SlaProbeInput) -> str:
        deadline = datetime.fromisoformat(input.deadline)
        clock = sla.SlaClock(
            sla.SlaPolicy("bench", timedelta(0), breach_roles=("department_manager",)),
            reference=input.reference,
            subject=f"Benchmark promise {input.reference} is not kept.",
        )
        clock.start_between(workflow.now(), deadline, deadline)
        await clock.wait(lambda: clock.state == sla.BREACHED)
        return clock.state
