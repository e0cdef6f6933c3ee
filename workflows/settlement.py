"""PAY-2's monthly settlement: on the settlement day of the company calendar (cadence
`pay2-monthly-settlement`, planned by workflows/cadence_planner.py) every active person's
previous month is settled by the finance service, once.

Finance keeps each person's statement as settled and books its allowances to the person's region
(ACC-1); from then on a claim for that month is refused. The run is one workflow per month
(`pay2-settlement-<month>`); each person's settlement carries the key `<workflow id>:<person>`, so
a retried activity or a replayed task settles nobody twice. A person finance cannot settle (no
policy in force, someone already settled by hand) is listed with the reason and the others go on;
the clerk and the department managers receive the month's summary.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.finance import FinanceActivities, SettleMonthInput, SettleMonthResult
    from activities.staff import Payee, PayrollInput, StaffActivities
    from workflows import regulation, retry_policies
    from workflows.case_file import (
        CaseFile,
        CaseRecord,
        Mail,
        opened,
        refusal_of,
        rule_refusals,
    )
    from workflows.lookups import lookup, people_in_role
    from workflows.regulation import dates
    from workflows.regulation.money import yuan

PROCESS = "settlement"
SCHEDULED, SETTLING, SETTLED = "scheduled", "settling", "settled"
# Settled side by side, this many at a time: a department's month in seconds, without a burst
# of hundreds of activities on the finance service.
BATCH = 10
# The part that settles, as the ledger's recorded_by names it.
SETTLED_BY = "csd-settlement"
SUMMARY_TO, SUMMARY_CC = "department_clerk", "department_manager"


def workflow_id(month: str) -> str:
    return f"pay2-settlement-{month}"


def month_before(day: str) -> str:
    """2026-07-06 -> 2026-06: the month a settlement day closes."""
    year, month = int(day[:4]), int(day[5:7])
    year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return f"{year:04d}-{month:02d}"


@dataclass
class SettlementInput:
    month: str  # YYYY-MM, the month settled
    at: str  # RFC 3339: when the settlement runs
    rule_version: str


@dataclass
class PersonSettled:
    person_id: str
    region_code: str
    total_fen: int = 0
    allowances: int = 0
    refusal: str = ""  # why finance could not settle the month, in its words


@dataclass
class SettlementStatus(CaseRecord):
    month: str
    at: str
    people: int = 0  # to be settled
    settled: list[PersonSettled] = field(default_factory=list)
    refused: list[PersonSettled] = field(default_factory=list)
    total_fen: int = 0
    stage: str = SCHEDULED


def render(status: SettlementStatus) -> str:
    lines = [
        f"Monthly settlement of {status.month} (PAY-2): {len(status.settled)} of "
        f"{status.people} settled, {yuan(status.total_fen)} yuan in all.",
        "",
    ]
    if status.refused:
        lines += ["Not settled, and why:"]
        lines += [f"  {p.person_id}: {p.refusal}" for p in status.refused]
        lines.append("")
    lines.append("Each statement reads with GetPayStatement; the allowances are in the ledger.")
    return "\n".join(lines) + "\n"


@workflow.defn
class MonthlySettlementWorkflow:
    def __init__(self) -> None:
        self._case: CaseFile[SettlementStatus] | None = None

    @workflow.run
    async def run(self, input: SettlementInput) -> SettlementStatus:
        with rule_refusals():
            dates.day(f"{input.month}-01", "month")
            regulation.by_version(input.rule_version)
        status = SettlementStatus(input.month, input.at)
        case = CaseFile(
            status,
            process=PROCESS,
            reference=input.month,
            summary=f"PAY-2 monthly settlement of {input.month}",
            subject=lambda what: f"[PAY-2 settlement {input.month}] {what}",
            words=lambda stage: {
                SCHEDULED: f"Settles {input.month} on {input.at}.",
                SETTLING: f"Settling: {len(status.settled) + len(status.refused)} of "
                f"{status.people}.",
                SETTLED: f"Settled: {len(status.settled)} of {status.people}, "
                f"{yuan(status.total_fen)} yuan"
                + (f"; {len(status.refused)} not settled." if status.refused else "."),
            }.get(stage, stage),
        )
        self._case = case
        case.open(region="department", rule_version=input.rule_version)
        at = datetime.fromisoformat(input.at)
        if at > workflow.now():
            await workflow.sleep(at - workflow.now())

        payees = await lookup(StaffActivities.payroll, PayrollInput())
        status.people = len(payees)
        case.move_to(SETTLING)
        for start in range(0, len(payees), BATCH):
            batch = payees[start : start + BATCH]
            outcomes = await asyncio.gather(*(self._settle(input.month, p) for p in batch))
            for payee, outcome in zip(batch, outcomes, strict=True):
                if isinstance(outcome, str):
                    status.refused.append(PersonSettled(payee.person_id, payee.region_code,
                                                        refusal=outcome))  # fmt: skip
                else:
                    status.settled.append(
                        PersonSettled(
                            payee.person_id,
                            payee.region_code,
                            outcome.total_fen,
                            outcome.allowances,
                        )
                    )
                    status.total_fen += outcome.total_fen
            done = len(status.settled) + len(status.refused)
            case.say(f"Settling: {done} of {status.people}.")

        await case.email(
            "summary",
            Mail(
                to=await people_in_role(SUMMARY_TO),
                cc=await people_in_role(SUMMARY_CC),
                what=f"{len(status.settled)} of {status.people} settled",
                body=render(status),
            ),
        )
        case.record(SETTLED_BY, SETTLED, f"{len(status.settled)} of {status.people}")
        case.move_to(SETTLED)
        return status

    async def _settle(self, month: str, payee: Payee) -> SettleMonthResult | str:
        """The person's settlement, or finance's reason for refusing it."""
        try:
            return await workflow.execute_activity_method(
                FinanceActivities.settle_month,
                SettleMonthInput(
                    idempotency_key=f"{workflow.info().workflow_id}:{payee.person_id}",
                    person_id=payee.person_id,
                    month=month,
                    region_code=payee.region_code,
                    settled_by=SETTLED_BY,
                    reference=workflow.info().workflow_id,
                ),
                start_to_close_timeout=retry_policies.LEDGER_WRITE_TIMEOUT,
                retry_policy=retry_policies.LEDGER_WRITE,
            )
        except ActivityError as err:
            refusal = refusal_of(err)
            if refusal is None:
                raise
            return refusal.message

    @workflow.query
    def status(self) -> SettlementStatus:
        return opened(self._case, "the settlement").status
