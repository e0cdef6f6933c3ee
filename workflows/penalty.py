"""A fine imposed under a rule: recorded once in the finance ledger, announced to the person.

Used for XA-1 (going around the cross-department assistance process) and MI-3 (a major problem
handled without a direct report); later rules that fine (AT-2, AT-3) start the same workflow with
their own rule id. The amount is the rule set's, never the caller's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.finance import FinanceActivities, LedgerEntryInput
    from activities.staff import ContactInput, StaffActivities
    from workflows import regulation, retry_policies
    from workflows.case_file import CaseFile, CaseRecord, Mail, opened, rule_refusals
    from workflows.lookups import lookup
    from workflows.regulation import InvalidInput, texts
    from workflows.regulation.money import yuan

PROCESS = "penalty"
SUBMITTED = "submitted"
RECORDED = "recorded"
ANNOUNCED = "announced"
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def workflow_id(rule_id: str, reference: str) -> str:
    """One fine per rule and reference: the same case reported twice is one fine."""
    return f"penalty-{rule_id}-{reference}"


@dataclass
class PenaltyInput:
    reference: str
    rule_id: str
    person_id: str
    region_code: str
    month: str  # YYYY-MM (Asia/Shanghai) the fine belongs to
    reason: str
    recorded_by: str
    rule_version: str


def validate(input: PenaltyInput, rules: regulation.RuleSet) -> None:
    """A fine the rule set imposes, for a real month, with the reason in words."""
    rules.fine_fen(input.rule_id)
    if not _MONTH.match(input.month):
        raise InvalidInput(f"month {input.month!r} is not a month: use YYYY-MM, e.g. 2024-04")
    texts.required(input.reason, "description", why="say what happened")


@dataclass
class PenaltyStatus(CaseRecord):
    reference: str
    rule_id: str
    person_id: str
    month: str
    rule_version: str
    amount_fen: int = 0
    entry_id: str = ""
    stage: str = SUBMITTED


@workflow.defn
class PenaltyWorkflow:
    """Record a fine exactly once and tell the person, copying the recorder."""

    def __init__(self) -> None:
        self._case: CaseFile[PenaltyStatus] | None = None

    @workflow.run
    async def run(self, input: PenaltyInput) -> PenaltyStatus:
        with rule_refusals():
            rules = regulation.by_version(input.rule_version)
            validate(input, rules)
        amount = rules.fine_fen(input.rule_id)
        status = PenaltyStatus(
            input.reference, input.rule_id, input.person_id, input.month, input.rule_version
        )
        status.amount_fen = amount
        case = CaseFile(
            status,
            process=PROCESS,
            reference=input.reference,
            summary=f"{input.rule_id} fine of {yuan(amount)} yuan: {input.person_id}",
            subject=lambda what: f"[{input.rule_id} {input.reference}] {what}",
            words=lambda stage: {
                SUBMITTED: f"Fining {input.person_id} {yuan(amount)} yuan under {input.rule_id}: "
                f"{input.reason}",
                RECORDED: f"Recorded as ledger entry {status.entry_id}.",
                ANNOUNCED: f"Fine of {yuan(amount)} yuan recorded and announced.",
            }.get(stage, stage),
        )
        self._case = case
        case.open(region=input.region_code, rule_version=input.rule_version)
        entry = await workflow.execute_activity_method(
            FinanceActivities.record_entry,
            LedgerEntryInput(
                idempotency_key=workflow.info().workflow_id,
                kind="fine",
                region_code=input.region_code,
                month=input.month,
                amount_fen=amount,
                rule_id=input.rule_id,
                reason=input.reason,
                person_id=input.person_id,
                reference=input.reference,
                recorded_by=input.recorded_by,
            ),
            start_to_close_timeout=retry_policies.LEDGER_WRITE_TIMEOUT,
            retry_policy=retry_policies.LEDGER_WRITE,
        )
        status.entry_id = entry.entry_id
        case.record(input.recorded_by, RECORDED, entry.entry_id)
        case.move_to(RECORDED)

        person = await lookup(StaffActivities.get_contact, ContactInput(input.person_id))
        recorder = await lookup(StaffActivities.get_contact, ContactInput(input.recorded_by))
        await case.email(
            "announced",
            Mail(
                to=[person],
                cc=[recorder],
                what=f"Fine of {yuan(amount)} yuan",
                body=(
                    f"{person.name}, a fine of {yuan(amount)} yuan is recorded against you for "
                    f"{input.month} under rule {input.rule_id} (rule set {input.rule_version}).\n\n"
                    f"Reason: {input.reason}\nRecorded by: {recorder.name}"
                ),
            ),
        )
        case.record("", ANNOUNCED, person.id)
        case.move_to(ANNOUNCED)
        return status

    @workflow.query
    def status(self) -> PenaltyStatus:
        return opened(self._case, "the fine").status
