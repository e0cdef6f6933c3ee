"""A fine imposed under a rule: recorded once in the finance ledger, announced to the person.

Used for XA-1 (going around the cross-department assistance process); later rules that fine
(WR-4, AT-2, AT-3, MI-3) start the same workflow with their own rule id.
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.finance import FinanceActivities, LedgerEntryInput
    from activities.notify import EmailInput, NotifyActivities
    from activities.staff import Contact, ContactInput, StaffActivities
    from workflows import retry_policies, rulebook, search_attributes
    from workflows.lookups import lookup

PROCESS = "penalty"
RECORDED = "recorded"
ANNOUNCED = "announced"


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


@dataclass
class PenaltyResult:
    entry_id: str
    amount_fen: int
    stage: str


@workflow.defn
class PenaltyWorkflow:
    """Record a fine exactly once and tell the person, copying the recorder."""

    def __init__(self) -> None:
        self._stage = "submitted"

    @workflow.run
    async def run(self, input: PenaltyInput) -> PenaltyResult:
        amount = rulebook.by_version(input.rule_version).fine_fen(input.rule_id)
        workflow.upsert_search_attributes(
            [
                search_attributes.PROCESS.value_set(PROCESS),
                search_attributes.REGION.value_set(input.region_code),
                search_attributes.STAGE.value_set(self._stage),
                search_attributes.RULE_VERSION.value_set(input.rule_version),
            ]
        )
        yuan = f"{amount // 100}.{amount % 100:02d}"
        workflow.set_current_details(
            f"Fining {input.person_id} {yuan} yuan under {input.rule_id}: {input.reason}"
        )
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
        self._move_to(RECORDED, f"Recorded as ledger entry {entry.entry_id}.")

        person = await self._contact(input.person_id)
        recorder = await self._contact(input.recorded_by)
        await workflow.execute_activity_method(
            NotifyActivities.send_email,
            EmailInput(
                idempotency_key=f"{workflow.info().workflow_id}:announced",
                to=[person.email],
                cc=[recorder.email] if recorder.id != person.id else [],
                subject=f"[{input.rule_id} {input.reference}] Fine of {yuan} yuan",
                body=(
                    f"{person.name}, a fine of {yuan} yuan is recorded against you for "
                    f"{input.month} under rule {input.rule_id} (rule set {input.rule_version}).\n\n"
                    f"Reason: {input.reason}\nRecorded by: {recorder.name}"
                ),
                reference=workflow.info().workflow_id,
            ),
            start_to_close_timeout=retry_policies.NOTIFICATION_TIMEOUT,
            retry_policy=retry_policies.NOTIFICATION,
        )
        self._move_to(ANNOUNCED, f"Fine of {yuan} yuan recorded and announced to {person.name}.")
        return PenaltyResult(entry_id=entry.entry_id, amount_fen=amount, stage=self._stage)

    @workflow.query
    def stage(self) -> str:
        return self._stage

    async def _contact(self, person_id: str) -> Contact:
        return await lookup(
            StaffActivities.get_contact,
            ContactInput(person_id=person_id),
        )

    def _move_to(self, stage: str, details: str) -> None:
        self._stage = stage
        workflow.upsert_search_attributes([search_attributes.STAGE.value_set(stage)])
        workflow.set_current_details(details)
