"""Workflows the benchmarks run beside csd-ops's own.

The bare ones are the floors: the least a Temporal workflow can do on the same server. The SLA
probe holds one real `SlaClock` (workflows/sla.py, the clock every process uses) whose deadline
the benchmark chooses, so alert lateness can be measured at an instant of its choosing instead
of hours after a real process starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    import aiosmtplib

    from workflows import sla
    from workflows.case_file import CaseFile, CaseRecord
    from workflows.lookups import people_in_role


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


@dataclass(kw_only=True)
class SlaProbeStatus(CaseRecord):
    stage: str = "open"


@workflow.defn
class SlaProbeWorkflow:
    """A promise nobody keeps, on a real case file: its breach alert goes to the department
    managers at `deadline`, by the path every process's alert takes (the clock's timer, the
    case's alert activity, notify's delivery record, SMTP)."""

    @workflow.run
    async def run(self, input: SlaProbeInput) -> str:
        deadline = datetime.fromisoformat(input.deadline)
        case = CaseFile(
            SlaProbeStatus(),
            process="bench",
            reference=input.reference,
            summary=f"Benchmark promise {input.reference} is not kept.",
            subject=lambda what: f"{input.reference}: {what}",
            words=lambda stage: stage,
        )
        case.open(region="department", rule_version="2024-v1")
        # As a process does at its start: who the clock alerts is known before it runs.
        managers = await people_in_role("department_manager")
        clock = case.clock(
            "bench",
            promise="a bench SLA breach is alerted at once",
            started_at=workflow.now(),
            warn_at=deadline,
            breach_at=deadline,
            breach_to=managers,
        )
        await clock.wait(lambda: clock.state == sla.BREACHED)
        return clock.state


@dataclass
class BareMailInput:
    host: str
    port: int
    subject: str


@activity.defn
async def bare_mail(input: BareMailInput) -> None:
    """One mail over one new SMTP connection, and nothing else: no delivery record, no
    idempotency, no directory."""
    message = EmailMessage()
    message["From"] = "bench@csd.example"
    message["To"] = "floor@csd.example"
    message["Subject"] = input.subject
    message.set_content("bench floor")
    await aiosmtplib.send(message, hostname=input.host, port=input.port, timeout=30)


@dataclass
class BareTimerMailInput:
    deadline: str
    mail: BareMailInput


@workflow.defn
class BareTimerMailWorkflow:
    """A timer to `deadline`, then one bare mail: the floor of an SLA alert."""

    @workflow.run
    async def run(self, input: BareTimerMailInput) -> None:
        remaining = datetime.fromisoformat(input.deadline) - workflow.now()
        if remaining > timedelta(0):
            await workflow.sleep(remaining)
        await workflow.execute_activity(
            bare_mail, input.mail, start_to_close_timeout=timedelta(seconds=60)
        )
