"""A request before spending (RB-5, PAY-4, PAY-7), decided by a department manager.

- Hospitality (RB-5): which customer, who, how much and why, approved beforehand.
- Business expenses (PAY-7): "requested beforehand by email and phone": the department
  managers are mailed and called at once, as a major problem is reported (MI-2).
- A lodging cap uplift (PAY-4): a nightly cap above the table's, approved by a department
  manager.

Approved, it has its reference and an approved amount (at most what was asked), recorded in the
finance service where the claim audit finds it for the claimant's lines that name it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from types import MappingProxyType

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.finance import FinanceActivities, PreApprovalInput
    from activities.staff import ContactInput, StaffActivities
    from workflows import regulation, retry_policies
    from workflows.case_file import CaseFile, CaseRecord, Mail, opened, rule_refusals
    from workflows.lookups import lookup, people_in_role
    from workflows.regulation import InvalidInput, NotAllowed, NotNow, money, texts
    from workflows.regulation.money import yuan as _yuan
    from workflows.regulation.readers import Reader

PROCESS = "pre_approval"
HOSPITALITY, BUSINESS, LODGING_UPLIFT = "hospitality", "business", "lodging_uplift"
CATEGORIES = (HOSPITALITY, BUSINESS, LODGING_UPLIFT)
RULES = MappingProxyType({HOSPITALITY: "RB-5", BUSINESS: "PAY-7", LODGING_UPLIFT: "PAY-4"})
AWAITING_DECISION, APPROVED, REFUSED = "awaiting_decision", "approved", "refused"
DECIDERS = "department_manager"


def workflow_id(reference: str) -> str:
    return f"pre-approval-{reference}"


@dataclass
class PreApprovalRequest:
    reference: str
    person_id: str
    region_code: str
    category: str
    amount_fen: int  # for a lodging uplift: the nightly cap asked for
    why: str
    customer: str = ""  # hospitality: which customer
    who: str = ""  # hospitality: who is entertained
    rule_version: str = ""


def validate(input: PreApprovalRequest) -> None:
    texts.reference(input.reference)
    if input.category not in CATEGORIES:
        raise InvalidInput(f"category {input.category!r}: use {', '.join(CATEGORIES)}")
    money.whole_fen(input.amount_fen, "amount_fen")
    texts.required(input.why, "why", why="say what the money is for")
    if input.category == HOSPITALITY:
        texts.required(input.customer, "customer", why="RB-5 records which customer")
        texts.required(input.who, "who", why="RB-5 records who is entertained")


@dataclass
class DecisionInput:
    actor_id: str
    approve: bool
    approved_fen: int = 0  # 0: what was asked
    note: str = ""


@dataclass
class PreApprovalStatus(CaseRecord):
    reference: str
    person_id: str
    category: str
    amount_fen: int
    rule_version: str
    approved_fen: int = 0
    decided_by: str = ""
    note: str = ""
    deciders: list[str] = field(default_factory=list)
    stage: str = AWAITING_DECISION


def may_read(status: PreApprovalStatus, reader: Reader) -> bool:
    return reader.id == status.person_id or reader.role in (DECIDERS, "department_clerk")


@workflow.defn
class PreApprovalWorkflow:
    def __init__(self) -> None:
        self._case: CaseFile[PreApprovalStatus] | None = None

    @workflow.run
    async def run(self, input: PreApprovalRequest) -> PreApprovalStatus:
        with rule_refusals():
            regulation.by_version(input.rule_version)
            validate(input)
        rule = RULES[input.category]
        status = PreApprovalStatus(
            input.reference, input.person_id, input.category, input.amount_fen, input.rule_version
        )
        what = input.category.replace("_", " ")
        case = CaseFile(
            status,
            process=PROCESS,
            reference=input.reference,
            summary=f"{rule} pre-approval {input.reference}: {what}, "
            f"{_yuan(input.amount_fen)} yuan for {input.person_id}",
            subject=lambda subject: f"[{rule} {input.reference}] {subject}",
            words=lambda stage: {
                AWAITING_DECISION: f"{what} of {_yuan(input.amount_fen)} yuan asked; a "
                "department manager decides.",
                APPROVED: f"Approved by {status.decided_by}: {_yuan(status.approved_fen)} yuan.",
                REFUSED: f"Refused by {status.decided_by}: {status.note}",
            }.get(stage, stage),
        )
        self._case = case
        case.open(region=input.region_code, rule_version=input.rule_version)
        managers = await people_in_role(DECIDERS)
        status.deciders = [m.id for m in managers if m.id != input.person_id]
        person = await lookup(StaffActivities.get_contact, ContactInput(input.person_id))
        detail = "\n".join(
            line
            for line in (
                f"What: {what} ({rule})",
                f"Amount: {_yuan(input.amount_fen)} yuan"
                + (" per night" if input.category == LODGING_UPLIFT else ""),
                f"Customer: {input.customer}" if input.customer else "",
                f"Who: {input.who}" if input.who else "",
                f"Why: {input.why}",
            )
            if line
        )
        mail = case.email(
            "asked",
            Mail(
                to=[m for m in managers if m.id in status.deciders],
                cc=[],
                what="A pre-approval to decide",
                body=f"{person.name} asks beforehand, reference {input.reference}:\n\n{detail}",
            ),
        )
        if input.category == BUSINESS:
            # PAY-7: business expenses are asked for by email and phone, both at once.
            calls = [
                case.call(
                    f"asked-call-{m.id}",
                    m,
                    f"{person.name} asks for a business expense of {_yuan(input.amount_fen)} "
                    f"yuan, reference {input.reference}. Details are in your mail.",
                )
                for m in managers
                if m.id in status.deciders
            ]
            await asyncio.gather(mail, *calls)
        else:
            await mail
        await workflow.wait_condition(lambda: status.stage != AWAITING_DECISION)
        if status.stage == APPROVED:
            await workflow.execute_activity_method(
                FinanceActivities.record_pre_approval,
                PreApprovalInput(
                    idempotency_key=case.key("recorded"),
                    reference=input.reference,
                    person_id=input.person_id,
                    category=input.category,
                    approved_fen=status.approved_fen,
                    approved_by=status.decided_by,
                ),
                start_to_close_timeout=retry_policies.LEDGER_WRITE_TIMEOUT,
                retry_policy=retry_policies.LEDGER_WRITE,
            )
        await case.email(
            "decided",
            Mail(
                to=[person],
                cc=[],
                what="Pre-approval approved"
                if status.stage == APPROVED
                else "Pre-approval refused",
                body=(
                    f"{person.name}, {input.reference} ({what}) is "
                    + (
                        f"approved for {_yuan(status.approved_fen)} yuan: name it on the claim "
                        "lines it covers."
                        if status.stage == APPROVED
                        else f"refused: {status.note}"
                    )
                ),
            ),
        )
        return status

    @workflow.update
    def decide(self, input: DecisionInput) -> PreApprovalStatus:
        case, status = self._cases()
        status.decided_by, status.note = input.actor_id, input.note.strip()
        if input.approve:
            status.approved_fen = input.approved_fen or status.amount_fen
            case.record(input.actor_id, APPROVED, f"{_yuan(status.approved_fen)} yuan")
            case.move_to(APPROVED)
        else:
            case.record(input.actor_id, REFUSED, status.note)
            case.move_to(REFUSED)
        return status

    @decide.validator
    def _validate_decide(self, input: DecisionInput) -> None:
        with rule_refusals():
            status = self._cases()[1]
            if not status.deciders:
                raise NotNow("the request is still being sent; try again in a moment")
            if input.actor_id not in status.deciders:
                raise NotAllowed(
                    f"{input.actor_id} may not decide this: a department manager does, and "
                    f"nobody their own ({RULES[status.category]})"
                )
            if status.stage != AWAITING_DECISION:
                raise NotNow(f"already decided by {status.decided_by}")
            if input.approve and not 0 <= input.approved_fen <= status.amount_fen:
                raise InvalidInput(
                    f"approved_fen: at most the {_yuan(status.amount_fen)} yuan asked"
                )
            if not input.approve:
                texts.required(input.note, "note", why="say why it is refused")

    @workflow.query
    def status(self) -> PreApprovalStatus:
        return opened(self._case, "the pre-approval").status

    def _cases(self) -> tuple[CaseFile[PreApprovalStatus], PreApprovalStatus]:
        case = opened(self._case, "the pre-approval")
        return case, case.status
