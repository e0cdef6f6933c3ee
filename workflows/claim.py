"""A monthly expense claim (RB-1, RB-2): audited line by line by the finance service against
attendance and the policy (RB-3..RB-5, PAY-3..PAY-7), reviewed on the route RB-2 gives, and the
approved amount recorded in the ledger exactly once.

One claim per person and month (workflow id `claim-<person>-<month>`). RB-2: a regional
technical or customer service manager's claim is reviewed by a department manager personally;
anyone else's by the clerk first, then a department manager. Each review is an Update; a
rejection says why and closes the claim. What is approved is the audit's sanctioned amount:
the lines' refused parts are never paid, and the claimant reads every line's outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import MappingProxyType

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.finance import (
        AuditClaimInput,
        AuditedLineView,
        ClaimActivities,
        ClaimLineInput,
        ClaimUsageInput,
        FinanceActivities,
        LedgerEntryInput,
    )
    from activities.staff import ContactInput, StaffActivities
    from workflows import regulation, retry_policies
    from workflows.case_file import CaseFile, CaseRecord, Mail, opened, rule_refusals
    from workflows.lookups import lookup, people_in_role
    from workflows.regulation import InvalidInput, NotAllowed, NotNow, texts
    from workflows.regulation.money import yuan as _yuan
    from workflows.regulation.readers import Reader

PROCESS = "claim"
AUDITED = "audited"
AWAITING_CLERK = "awaiting_clerk"
AWAITING_DEPARTMENT_MANAGER = "awaiting_department_manager"
APPROVED = "approved"
REJECTED = "rejected"
MAX_LINES = 500
# RB-2: these roles' claims go to a department manager personally.
REVIEWED_BY_MANAGER_ONLY = ("technical_service_manager", "customer_service_manager")
STEP_ROLE = MappingProxyType(
    {AWAITING_CLERK: "department_clerk", AWAITING_DEPARTMENT_MANAGER: "department_manager"}
)
# Patch (README: patches and their retirement): approved claims record the rooms and
# pre-approvals they used, so that neither is paid twice across claims.
RECORDS_USAGE = "claim-records-usage"


def workflow_id(person_id: str, month: str) -> str:
    return f"claim-{person_id}-{month}"


@dataclass
class ClaimInput:
    person_id: str
    role: str
    region_code: str
    month: str
    lines: list[ClaimLineInput]
    rule_version: str


def validate(input: ClaimInput) -> None:
    """Well-formed money and dates; what each line deserves is the audit's to say."""
    if not 1 <= len(input.lines) <= MAX_LINES:
        raise InvalidInput(f"a claim has 1 to {MAX_LINES} lines")
    for line in input.lines:
        # A float (or a bool) is never money: fen are whole.
        if type(line.amount_fen) is not int or line.amount_fen <= 0:
            raise InvalidInput(f"line {line.number}: amount_fen must be whole positive fen")
        if not line.date.startswith(f"{input.month}-"):
            raise InvalidInput(f"line {line.number}: {line.date} is not in {input.month}")


@dataclass
class ReviewInput:
    actor_id: str
    approve: bool
    note: str = ""


def validate_review(input: ReviewInput) -> None:
    if not input.approve:
        texts.required(input.note, "note", why="say why the claim is rejected")
    texts.bounded(input.note, "note")


@dataclass
class ClaimStatus(CaseRecord):
    person_id: str
    region_code: str
    month: str
    rule_version: str
    lines: list[AuditedLineView] = field(default_factory=list)
    claimed_fen: int = 0
    sanctioned_fen: int = 0
    route: list[str] = field(default_factory=list)  # the steps still ahead, in order
    reviewers: dict[str, list[str]] = field(default_factory=dict)  # step -> who may take it
    reviewed_by: list[str] = field(default_factory=list)
    approved_fen: int = 0
    entry_id: str = ""
    rejection: str = ""
    stage: str = AUDITED


def may_read(status: ClaimStatus, reader: Reader) -> bool:
    """The claimant, those on its route, and the department managers."""
    on_route = any(reader.id in ids for ids in status.reviewers.values())
    return reader.id == status.person_id or on_route or reader.role == "department_manager"


def _outcomes(lines: list[AuditedLineView]) -> str:
    rows = []
    for line in lines:
        rows.append(
            f"  line {line.number} {line.category}: claimed {_yuan(line.claimed_fen)}, "
            f"sanctioned {_yuan(line.sanctioned_fen)}"
        )
        rows += [f"    {e.rule} ({e.level}): {e.words}" for e in line.exceptions]
    return "\n".join(rows)


def _reviewed(status: ClaimStatus, step: str) -> Callable[[], bool]:
    return lambda: status.stage == REJECTED or status.route[:1] != [step]


@workflow.defn
class ClaimWorkflow:
    def __init__(self) -> None:
        self._case: CaseFile[ClaimStatus] | None = None

    @workflow.run
    async def run(self, input: ClaimInput) -> ClaimStatus:
        with rule_refusals():
            regulation.by_version(input.rule_version)
            validate(input)
        status = ClaimStatus(input.person_id, input.region_code, input.month, input.rule_version)
        case = CaseFile(
            status,
            process=PROCESS,
            reference=f"{input.person_id}-{input.month}",
            summary=f"Expense claim of {input.person_id} for {input.month}",
            subject=lambda what: f"[Claim {input.person_id} {input.month}] {what}",
            words=lambda stage: {
                AUDITED: f"Audited: {_yuan(status.sanctioned_fen)} of "
                f"{_yuan(status.claimed_fen)} yuan sanctioned.",
                AWAITING_CLERK: "With the clerk for review (RB-2).",
                AWAITING_DEPARTMENT_MANAGER: "With a department manager for review (RB-2).",
                APPROVED: f"Approved: {_yuan(status.approved_fen)} yuan, ledger entry "
                f"{status.entry_id}.",
                REJECTED: f"Rejected: {status.rejection}",
            }.get(stage, stage),
        )
        self._case = case
        case.open(region=input.region_code, rule_version=input.rule_version)
        # Since claims record what they used (rooms, pre-approvals), the audit is told which
        # claim it audits, so that its own usage is not held against it.
        records_usage = workflow.patched(RECORDS_USAGE)
        audit = await workflow.execute_activity_method(
            ClaimActivities.audit_claim,
            AuditClaimInput(
                input.person_id,
                input.month,
                input.lines,
                claim=workflow.info().workflow_id if records_usage else "",
            ),
            start_to_close_timeout=retry_policies.DIRECTORY_LOOKUP_TIMEOUT,
            retry_policy=retry_policies.DIRECTORY_LOOKUP,
        )
        status.lines = audit.lines
        status.claimed_fen, status.sanctioned_fen = audit.claimed_fen, audit.sanctioned_fen
        case.record(input.person_id, AUDITED, f"{_yuan(audit.sanctioned_fen)} sanctioned")
        case.move_to(AUDITED)

        steps = (
            [AWAITING_DEPARTMENT_MANAGER]
            if input.role in REVIEWED_BY_MANAGER_ONLY
            else [AWAITING_CLERK, AWAITING_DEPARTMENT_MANAGER]
        )
        for step in steps:
            people = await people_in_role(STEP_ROLE[step])
            # Nobody reviews their own claim.
            status.reviewers[step] = [p.id for p in people if p.id != input.person_id]
        status.route = list(steps)
        person = await lookup(StaffActivities.get_contact, ContactInput(input.person_id))
        while status.route and status.stage != REJECTED:
            step = status.route[0]
            case.move_to(step)
            reviewers = [p for p in await people_in_role(STEP_ROLE[step])
                         if p.id in status.reviewers[step]]  # fmt: skip
            await case.email(
                f"review-{step}",
                Mail(
                    to=reviewers,
                    cc=[],
                    what="An expense claim to review",
                    body=(
                        f"{person.name}'s claim for {input.month}: claimed "
                        f"{_yuan(status.claimed_fen)}, sanctioned by the audit "
                        f"{_yuan(status.sanctioned_fen)} yuan.\n\n{_outcomes(status.lines)}"
                    ),
                ),
            )
            await workflow.wait_condition(_reviewed(status, step))

        if status.stage != REJECTED:
            status.approved_fen = status.sanctioned_fen
            if records_usage:
                await self._record_usage(case, input, status)
            if status.approved_fen:
                entry = await workflow.execute_activity_method(
                    FinanceActivities.record_entry,
                    LedgerEntryInput(
                        idempotency_key=case.key("reimbursement"),
                        kind="reimbursement",
                        region_code=input.region_code,
                        month=input.month,
                        amount_fen=status.approved_fen,
                        rule_id="RB-1",
                        reason=f"expense claim for {input.month}, approved by "
                        f"{', '.join(status.reviewed_by)}",
                        person_id=input.person_id,
                        reference=workflow.info().workflow_id,
                        recorded_by=status.reviewed_by[-1],
                    ),
                    start_to_close_timeout=retry_policies.LEDGER_WRITE_TIMEOUT,
                    retry_policy=retry_policies.LEDGER_WRITE,
                )
                status.entry_id = entry.entry_id
            case.record(status.reviewed_by[-1], APPROVED, status.entry_id)
            case.move_to(APPROVED)
        await case.email(
            "decided",
            Mail(
                to=[person],
                cc=[],
                what="Claim approved" if status.stage == APPROVED else "Claim rejected",
                body=(
                    f"{person.name}, your expense claim for {input.month} is "
                    + (
                        f"approved: {_yuan(status.approved_fen)} yuan will be reimbursed."
                        if status.stage == APPROVED
                        else f"rejected: {status.rejection}"
                    )
                    + f"\n\n{_outcomes(status.lines)}"
                ),
            ),
        )
        return status

    async def _record_usage(
        self, case: CaseFile[ClaimStatus], input: ClaimInput, status: ClaimStatus
    ) -> None:
        """The rooms and pre-approvals this claim is paid for: never paid again elsewhere."""
        paid = {line.number for line in status.lines if line.sanctioned_fen > 0}
        lodging = [li for li in input.lines if li.category == "lodging" and li.number in paid]
        spent = sorted(
            {
                li.pre_approval
                for li in input.lines
                if li.pre_approval and li.number in paid and li.category != "lodging"
            }
        )
        if not lodging and not spent:
            return
        await workflow.execute_activity_method(
            ClaimActivities.record_claim_usage,
            ClaimUsageInput(
                case.key("usage"), workflow.info().workflow_id, input.person_id, lodging, spent
            ),
            start_to_close_timeout=retry_policies.LEDGER_WRITE_TIMEOUT,
            retry_policy=retry_policies.LEDGER_WRITE,
        )

    @workflow.update
    def review(self, input: ReviewInput) -> ClaimStatus:
        case, status = self._cases()
        step = status.route.pop(0)
        status.reviewed_by.append(input.actor_id)
        if input.approve:
            case.record(input.actor_id, f"approved_{STEP_ROLE[step]}", input.note.strip())
            if status.route:
                # The reply says where the claim went; the run moves it there in the Web UI.
                status.stage = status.route[0]
        else:
            status.rejection = input.note.strip()
            status.route = []
            case.record(input.actor_id, REJECTED, status.rejection)
            case.move_to(REJECTED)
        return status

    @review.validator
    def _validate_review(self, input: ReviewInput) -> None:
        with rule_refusals():
            status = self._cases()[1]
            if not status.route or status.stage not in STEP_ROLE:
                raise NotNow(f"the claim is {status.stage.replace('_', ' ')}: nothing to review")
            step = status.route[0]
            if input.actor_id not in status.reviewers.get(step, []):
                who = STEP_ROLE[step].replace("_", " ")
                raise NotAllowed(
                    f"{input.actor_id} may not review this claim now: it is with the {who} "
                    "(RB-2), and nobody reviews their own claim"
                )
            validate_review(input)

    @workflow.query
    def status(self) -> ClaimStatus:
        return opened(self._case, "the claim").status

    def _cases(self) -> tuple[CaseFile[ClaimStatus], ClaimStatus]:
        case = opened(self._case, "the claim")
        return case, case.status
