"""PAY-3: "a disputed rate may be adjusted on the department manager's request, with the
vice-president in charge approving".

One adjustment per reference (workflow id `rate-adjustment-<reference>`): a department manager
asks for a daily travel allowance rate for one person's month at one tier of place, saying why;
the vice-presidents are mailed (cc the requester) and one of them decides (an Update; a refusal
says why). Approved, finance records it and the month's statement pays that rate for the days at
that tier (services/finance/settlement.py). A month settled before the approval cannot change:
the case says so instead of failing. Every step is mailed to the person, the requester and the
clerk.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.finance import FinanceActivities, RateAdjustmentInput
    from activities.staff import ContactInput, StaffActivities
    from workflows import regulation, retry_policies
    from workflows.case_file import (
        CaseFile,
        CaseRecord,
        Mail,
        opened,
        refusal_of,
        rule_refusals,
    )
    from workflows.decision import DecisionInput, DecisionRule
    from workflows.lookups import lookup, people_in_role
    from workflows.regulation import InvalidInput, NotAllowed, dates, money, texts
    from workflows.regulation.allowances import PLACE_TIERS
    from workflows.regulation.money import yuan
    from workflows.regulation.readers import Reader

PROCESS = "rate_adjustment"
AWAITING_APPROVAL, REFUSED, APPROVED = "awaiting_approval", "refused", "approved"
APPLIED, NOT_APPLIED = "applied", "not_applied"
REQUESTERS, APPROVERS = "department_manager", "vice_president"
DECISION = DecisionRule(
    AWAITING_APPROVAL, APPROVED, REFUSED, "the vice-president in charge", "PAY-3"
)


def workflow_id(reference: str) -> str:
    return f"rate-adjustment-{reference}"


@dataclass
class RateAdjustmentRequest:
    reference: str
    person_id: str
    month: str  # YYYY-MM
    tier: str  # of the places the days were spent at: 1, 2, other, head_office
    daily_fen: int
    requested_by: str
    why: str
    rule_version: str


def validate(input: RateAdjustmentRequest) -> None:
    texts.reference(input.reference)
    dates.day(f"{input.month}-01", "month")
    if input.tier not in PLACE_TIERS:
        raise InvalidInput(f"tier {input.tier!r}: use {', '.join(PLACE_TIERS)}")
    money.whole_fen(input.daily_fen, "daily_fen")
    texts.required(input.why, "why", why="say what is disputed")
    if input.person_id == input.requested_by:
        raise NotAllowed("nobody asks for their own rate to be adjusted (PAY-3)")


@dataclass
class RateAdjustmentStatus(CaseRecord):
    reference: str
    person_id: str
    month: str
    tier: str
    daily_fen: int
    requested_by: str
    rule_version: str
    deciders: list[str] = field(default_factory=list)  # the vice-presidents, not the person
    decided_by: str = ""
    note: str = ""
    outcome: str = ""  # why an approved adjustment was not applied
    stage: str = AWAITING_APPROVAL


def may_read(status: RateAdjustmentStatus, reader: Reader) -> bool:
    return (
        reader.id in (status.person_id, status.requested_by)
        or reader.id in status.deciders
        or reader.role in (REQUESTERS, "department_clerk")
    )


@workflow.defn
class RateAdjustmentWorkflow:
    def __init__(self) -> None:
        self._case: CaseFile[RateAdjustmentStatus] | None = None

    @workflow.run
    async def run(self, input: RateAdjustmentRequest) -> RateAdjustmentStatus:
        with rule_refusals():
            regulation.by_version(input.rule_version)
            validate(input)
        status = RateAdjustmentStatus(
            input.reference,
            input.person_id,
            input.month,
            input.tier,
            input.daily_fen,
            input.requested_by,
            input.rule_version,
        )
        asked = f"{yuan(input.daily_fen)} a day at tier {input.tier} for {input.month}"
        case = CaseFile(
            status,
            process=PROCESS,
            reference=input.reference,
            summary=f"PAY-3 disputed rate {input.reference} for {input.person_id}",
            subject=lambda what: f"[PAY-3 {input.reference}] {what}",
            words=lambda stage: {
                AWAITING_APPROVAL: f"Asked by {input.requested_by}: {asked}; the "
                "vice-president in charge decides.",
                APPROVED: f"Approved by {status.decided_by}; finance records it.",
                REFUSED: f"Refused by {status.decided_by}: {status.note}",
                APPLIED: f"Applied: {asked}.",
                NOT_APPLIED: f"Approved by {status.decided_by} but not applied: {status.outcome}",
            }.get(stage, stage),
        )
        self._case = case
        person = await lookup(StaffActivities.get_contact, ContactInput(input.person_id))
        case.open(region=person.region_code, rule_version=input.rule_version)
        requesters = await people_in_role(REQUESTERS)
        requester = next((p for p in requesters if p.id == input.requested_by), None)
        if requester is None:
            with rule_refusals():
                raise NotAllowed(
                    f"{input.requested_by} may not ask for a rate adjustment: a department "
                    "manager does (PAY-3)"
                )
        vice_presidents = await people_in_role(APPROVERS)
        status.deciders = [v.id for v in vice_presidents if v.id != input.person_id]
        case.record(input.requested_by, "requested", input.why.strip())
        await case.email(
            "requested",
            Mail(
                to=[v for v in vice_presidents if v.id in status.deciders],
                cc=[requester],
                what="A disputed rate to approve",
                body=(
                    f"{requester.name} asks for {person.name}'s travel allowance: {asked} "
                    f"yuan, reference {input.reference}.\n\nWhy: {input.why.strip()}"
                ),
            ),
        )
        await DECISION.awaited(status)
        if status.stage == APPROVED:
            await self._apply(case, input)
        clerks = await people_in_role("department_clerk")
        await case.email(
            "decided",
            Mail(
                to=[person],
                cc=[requester, *clerks],
                what=f"Disputed rate {status.stage.replace('_', ' ')}",
                body=f"{person.name}, {input.reference} ({asked} yuan): "
                + {
                    APPLIED: f"approved by {status.decided_by}; your statement for "
                    f"{input.month} pays it.",
                    NOT_APPLIED: f"approved by {status.decided_by}, but {status.outcome}",
                    REFUSED: f"refused by {status.decided_by}: {status.note}",
                }[status.stage],
            ),
        )
        return status

    async def _apply(
        self, case: CaseFile[RateAdjustmentStatus], input: RateAdjustmentRequest
    ) -> None:
        status = case.status
        try:
            await workflow.execute_activity_method(
                FinanceActivities.record_rate_adjustment,
                RateAdjustmentInput(
                    idempotency_key=case.key("applied"),
                    person_id=input.person_id,
                    month=input.month,
                    tier=input.tier,
                    daily_fen=input.daily_fen,
                    reference=workflow.info().workflow_id,
                    approved_by=status.decided_by,
                ),
                start_to_close_timeout=retry_policies.LEDGER_WRITE_TIMEOUT,
                retry_policy=retry_policies.LEDGER_WRITE,
            )
        except ActivityError as err:
            refusal = refusal_of(err)
            if refusal is None:
                raise
            # Finance's refusal (the month settled meanwhile, the tier already adjusted).
            status.outcome = refusal.message
            case.record("", NOT_APPLIED, status.outcome)
            case.move_to(NOT_APPLIED)
            return
        case.record("", APPLIED, f"{yuan(input.daily_fen)} a day at tier {input.tier}")
        case.move_to(APPLIED)

    @workflow.update
    def decide(self, input: DecisionInput) -> RateAdjustmentStatus:
        case, status = self._cases()
        DECISION.take(case, input)
        return status

    @decide.validator
    def _validate_decide(self, input: DecisionInput) -> None:
        with rule_refusals():
            DECISION.check(self._cases()[1], input)

    @workflow.query
    def status(self) -> RateAdjustmentStatus:
        return opened(self._case, "the rate adjustment").status

    def _cases(self) -> tuple[CaseFile[RateAdjustmentStatus], RateAdjustmentStatus]:
        case = opened(self._case, "the rate adjustment")
        return case, case.status
