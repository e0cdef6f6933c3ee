"""PAY-1: a salary change is proposed by a department manager, reviewed and approved by the
executive (general manager) team, then executed by finance.

One change per reference (workflow id `salary-<reference>`). The executives are mailed the
proposal (cc the proposer); one of them decides (an Update; a refusal says why); approved, the
new base salary is recorded in finance from its effective date, which the monthly statement
(PAY-2) then uses. Every step is in the case's history and mailed to those it concerns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.finance import FinanceActivities, SalaryInput
    from activities.staff import ContactInput, StaffActivities
    from workflows import regulation, retry_policies
    from workflows.case_file import CaseFile, CaseRecord, Mail, opened, rule_refusals
    from workflows.decision import DecisionInput, DecisionRule
    from workflows.lookups import lookup, people_in_role
    from workflows.regulation import NotAllowed, dates, money, texts
    from workflows.regulation.money import yuan as _yuan
    from workflows.regulation.readers import Reader

PROCESS = "salary_change"
AWAITING_APPROVAL, APPROVED, REFUSED, EXECUTED = (
    "awaiting_approval",
    "approved",
    "refused",
    "executed",
)
PROPOSERS, APPROVERS = "department_manager", "executive"
DECISION = DecisionRule(AWAITING_APPROVAL, APPROVED, REFUSED, "the executive team", "PAY-1")


def workflow_id(reference: str) -> str:
    return f"salary-{reference}"


@dataclass
class SalaryChangeInput:
    reference: str
    person_id: str
    proposed_by: str
    base_fen: int
    effective_from: str  # YYYY-MM-DD
    why: str
    rule_version: str


def validate(input: SalaryChangeInput) -> None:
    texts.reference(input.reference)
    money.whole_fen(input.base_fen, "base_fen")
    dates.day(input.effective_from, "effective_from")
    texts.required(input.why, "why", why="say why the salary changes")
    if input.person_id == input.proposed_by:
        raise NotAllowed("nobody proposes their own salary change (PAY-1)")


@dataclass
class SalaryChangeStatus(CaseRecord):
    reference: str
    person_id: str
    proposed_by: str
    base_fen: int
    effective_from: str
    rule_version: str
    deciders: list[str] = field(default_factory=list)  # the executives, not the person
    decided_by: str = ""
    note: str = ""
    stage: str = AWAITING_APPROVAL


def may_read(status: SalaryChangeStatus, reader: Reader) -> bool:
    return (
        reader.id in (status.person_id, status.proposed_by)
        or reader.id in status.deciders
        or reader.role == PROPOSERS
    )


@workflow.defn
class SalaryChangeWorkflow:
    def __init__(self) -> None:
        self._case: CaseFile[SalaryChangeStatus] | None = None

    @workflow.run
    async def run(self, input: SalaryChangeInput) -> SalaryChangeStatus:
        with rule_refusals():
            regulation.by_version(input.rule_version)
            validate(input)
        status = SalaryChangeStatus(
            input.reference,
            input.person_id,
            input.proposed_by,
            input.base_fen,
            input.effective_from,
            input.rule_version,
        )
        case = CaseFile(
            status,
            process=PROCESS,
            reference=input.reference,
            summary=f"PAY-1 salary change {input.reference} for {input.person_id}",
            subject=lambda what: f"[PAY-1 {input.reference}] {what}",
            words=lambda stage: {
                AWAITING_APPROVAL: f"Proposed by {input.proposed_by}: base salary "
                f"{_yuan(input.base_fen)} from {input.effective_from}; the executive team "
                "decides.",
                APPROVED: f"Approved by {status.decided_by}; finance executes it.",
                REFUSED: f"Refused by {status.decided_by}: {status.note}",
                EXECUTED: f"Executed: base salary {_yuan(input.base_fen)} from "
                f"{input.effective_from}.",
            }.get(stage, stage),
        )
        self._case = case
        person = await lookup(StaffActivities.get_contact, ContactInput(input.person_id))
        case.open(region=person.region_code, rule_version=input.rule_version)
        proposers = await people_in_role(PROPOSERS)
        if input.proposed_by not in {p.id for p in proposers}:
            with rule_refusals():
                raise NotAllowed(
                    f"{input.proposed_by} may not propose a salary change: a department manager "
                    "does (PAY-1)"
                )
        proposer = next(p for p in proposers if p.id == input.proposed_by)
        executives = await people_in_role(APPROVERS)
        status.deciders = [e.id for e in executives if e.id != input.person_id]
        case.record(input.proposed_by, "proposed", input.why.strip())
        await case.email(
            "proposed",
            Mail(
                to=[e for e in executives if e.id in status.deciders],
                cc=[proposer],
                what="A salary change to approve",
                body=(
                    f"{proposer.name} proposes for {person.name}: base salary "
                    f"{_yuan(input.base_fen)} yuan from {input.effective_from}.\n\n"
                    f"Why: {input.why.strip()}"
                ),
            ),
        )
        await DECISION.awaited(status)
        if status.stage == APPROVED:
            await workflow.execute_activity_method(
                FinanceActivities.record_salary,
                SalaryInput(
                    idempotency_key=case.key("executed"),
                    person_id=input.person_id,
                    effective_from=input.effective_from,
                    base_fen=input.base_fen,
                    reference=workflow.info().workflow_id,
                    recorded_by=status.decided_by,
                ),
                start_to_close_timeout=retry_policies.LEDGER_WRITE_TIMEOUT,
                retry_policy=retry_policies.LEDGER_WRITE,
            )
            case.record("", EXECUTED, f"from {input.effective_from}")
            case.move_to(EXECUTED)
        clerks = await people_in_role("department_clerk")
        await case.email(
            "decided",
            Mail(
                to=[person],
                cc=[proposer, *clerks],
                what=f"Salary change {status.stage}",
                body=(
                    f"{person.name}, your base salary is {_yuan(input.base_fen)} yuan from "
                    f"{input.effective_from} (approved by {status.decided_by})."
                    if status.stage == EXECUTED
                    else f"{person.name}, the proposed salary change was refused by "
                    f"{status.decided_by}: {status.note}"
                ),
            ),
        )
        return status

    @workflow.update
    def decide(self, input: DecisionInput) -> SalaryChangeStatus:
        case, status = self._cases()
        DECISION.take(case, input)
        return status

    @decide.validator
    def _validate_decide(self, input: DecisionInput) -> None:
        with rule_refusals():
            DECISION.check(self._cases()[1], input)

    @workflow.query
    def status(self) -> SalaryChangeStatus:
        return opened(self._case, "the salary change").status

    def _cases(self) -> tuple[CaseFile[SalaryChangeStatus], SalaryChangeStatus]:
        case = opened(self._case, "the salary change")
        return case, case.status
