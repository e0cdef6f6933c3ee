"""A customer requirement's lifecycle (RQ-1..RQ-4, RQ-7, G-2).

The senior support engineer filters it (RQ-1); accepted, it waits for the next Monday or
Thursday sync with R&D and testing (RQ-2, on the company calendar); at the sync R&D's solution,
a deferral or a refusal is recorded. From the solution the field must be told by email AND phone
within two hours, on the shared SLA clock. The hospital signs three confirmations (RQ-4) before it
may close; one week after the update ships the assistant revisits the customer (RQ-7), and an
unsatisfied revisit reopens the requirement for the next sync.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.notify import CallInput, NotifyActivities
    from activities.staff import (
        Contact,
        ContactInput,
        NextSyncInput,
        StaffActivities,
        SyncActivities,
    )
    from services.runtime.dates import COMPANY_ZONE
    from workflows import retry_policies, rulebook, search_attributes, sla
    from workflows.directory import people_in_role
    from workflows.lookups import lookup
    from workflows.mail import send_email

PROCESS = "requirement"
SUBMITTED = "submitted"
AWAITING_SYNC = "awaiting_sync"
AT_SYNC = "at_sync"
SOLUTION = "solution_fed_back"
RELEASED = "released"
REVISIT_DUE = "revisit_due"
REVISITED = "revisited"
CLOSED = "closed"
REFUSED = "refused"
DECLINED = "declined"
FINISHED = (CLOSED, REFUSED, DECLINED)

SENIOR_SUPPORT = "senior_support_engineer"
ASSISTANT = "department_assistant"
CONFIRMATIONS = ("application", "solution", "verification")
MAX_TEXT = 4000


def workflow_id(reference: str) -> str:
    return f"requirement-{reference}"


@dataclass
class FilterInput:
    actor_id: str
    accept: bool
    reason: str = ""


@dataclass
class SyncOutcomeInput:
    actor_id: str
    outcome: str  # "solution", "deferred", "declined"
    text: str


@dataclass
class ConfirmationInput:
    actor_id: str
    kind: str  # application, solution, verification
    file_reference: str
    signer: str
    signed_on: str  # YYYY-MM-DD


@dataclass
class ReleaseInput:
    actor_id: str
    version: str


@dataclass
class RevisitInput:
    actor_id: str
    satisfied: bool
    note: str = ""


@dataclass
class CloseInput:
    actor_id: str


@dataclass
class ReceiptInput:
    actor_id: str


@dataclass
class Confirmation:
    kind: str
    file_reference: str
    signer: str
    signed_on: str
    registered_by: str


@dataclass
class RequirementEvent:
    at: str
    actor_id: str
    kind: str
    note: str = ""


@dataclass
class RequirementStatus:
    reference: str
    stage: str
    requester_id: str
    region_code: str
    hospital: str
    product_module: str
    purpose: str
    business_scenario: str
    rule_version: str
    submitted_at: str = ""
    next_sync: str = ""
    syncs_deferred: int = 0
    solution: str = ""
    decision_reason: str = ""
    released_version: str = ""
    revisit_due_at: str = ""
    revisit_satisfied: bool | None = None
    # RQ-2: set when the field confirms it heard of the solution, needed where the phone
    # provider cannot confirm the call itself.
    receipt_confirmed_by: str = ""
    awaiting_receipt: bool = False
    # The field has the current solution (both channels, and receipt where needed).
    fed_back: bool = False
    confirmations: list[Confirmation] = field(default_factory=list)
    feedback_sla: sla.SlaView | None = None
    history: list[RequirementEvent] = field(default_factory=list)

    @property
    def missing_confirmations(self) -> list[str]:
        have = {c.kind for c in self.confirmations}
        return [k for k in CONFIRMATIONS if k not in have]


@dataclass
class RequirementInput:
    reference: str
    requester_id: str
    region_code: str
    hospital: str
    product_module: str
    purpose: str
    business_scenario: str
    description: str
    rule_version: str
    # The record so far, when a long-lived requirement continues as a new run.
    carried: RequirementStatus | None = None


TRACKING_MEMO = "tracking"


def tracking_row(status: RequirementStatus) -> dict[str, object]:
    """The requirement's line in the tracking sheet (RQ-3), kept in the workflow's memo so the
    sheet is read from Temporal's visibility store without querying every workflow."""
    return {
        "reference": status.reference,
        "hospital": status.hospital,
        "product_module": status.product_module,
        "region": status.region_code,
        "requester": status.requester_id,
        "stage": status.stage,
        "submitted_at": status.submitted_at,
        "next_sync": status.next_sync,
        "syncs_deferred": status.syncs_deferred,
        "feedback_sla": status.feedback_sla.state if status.feedback_sla else "",
        "released_version": status.released_version,
        "missing_confirmations": status.missing_confirmations,
        "risk": completion_risk(status),
    }


def completion_risk(status: RequirementStatus) -> str:
    """RQ-5's risk of completion: high, medium or low, from the requirement's own record."""
    feedback = status.feedback_sla.state if status.feedback_sla else sla.OK
    if status.stage in FINISHED:
        return "none"
    if feedback == sla.BREACHED or status.syncs_deferred >= 2 or status.revisit_satisfied is False:
        return "high"
    if feedback == sla.WARNING or status.syncs_deferred == 1:
        return "medium"
    return "low"


@workflow.defn
class RequirementWorkflow:
    """One customer requirement, from the field's submission to the revisit after release."""

    def __init__(self) -> None:
        self._status: RequirementStatus | None = None
        self._requester: Contact | None = None
        self._support: list[Contact] = []
        self._assistants: list[Contact] = []
        self._rules: rulebook.RuleSet | None = None
        self._routed = False

    @workflow.run
    async def run(self, input: RequirementInput) -> RequirementStatus:
        rules = rulebook.by_version(input.rule_version)
        self._rules = rules
        status = input.carried or RequirementStatus(
            reference=input.reference,
            stage=SUBMITTED,
            requester_id=input.requester_id,
            region_code=input.region_code,
            hospital=input.hospital,
            product_module=input.product_module,
            purpose=input.purpose,
            business_scenario=input.business_scenario,
            rule_version=input.rule_version,
            submitted_at=workflow.now().isoformat(),
        )
        self._status = status
        workflow.upsert_search_attributes(
            [
                search_attributes.PROCESS.value_set(PROCESS),
                search_attributes.REGION.value_set(input.region_code),
                search_attributes.STAGE.value_set(status.stage),
                search_attributes.SLA_STATE.value_set(
                    status.feedback_sla.state if status.feedback_sla else sla.OK
                ),
                search_attributes.RULE_VERSION.value_set(input.rule_version),
            ]
        )
        if input.carried is None:
            self._record(input.requester_id, SUBMITTED, input.description)
        self._requester = await lookup(
            StaffActivities.get_contact,
            ContactInput(person_id=input.requester_id),
        )
        self._support = await self._role(SENIOR_SUPPORT)
        self._assistants = await self._role(ASSISTANT)
        self._routed = True
        if input.carried is None:
            self._move_to(SUBMITTED, "Waiting for the senior support engineer's filter (RQ-1).")
            await self._email(
                "submitted", self._support, [self._requester], "to filter",
                f"New requirement from {self._requester.name} at {input.hospital} "
                f"({input.product_module}).\n\nPurpose: {input.purpose}\n"
                f"Business scenario: {input.business_scenario}\n\n{input.description}",
            )  # fmt: skip
        await workflow.wait_condition(lambda: status.stage != SUBMITTED)

        syncs_this_run = 0
        while status.stage not in FINISHED:
            if status.stage == AWAITING_SYNC:
                if syncs_this_run >= rules.requirement_syncs_per_run or (
                    workflow.info().is_continue_as_new_suggested()
                ):
                    await workflow.wait_condition(workflow.all_handlers_finished)
                    workflow.continue_as_new(dataclasses.replace(input, carried=status))
                syncs_this_run += 1
                await self._wait_for_sync()
            elif status.stage == AT_SYNC:
                await workflow.wait_condition(lambda: status.stage != AT_SYNC)
                if status.stage == SOLUTION:
                    await self._feed_back_solution()
            elif status.stage == RELEASED:
                await self._revisit()
            else:
                await workflow.wait_condition(
                    lambda: status.stage not in (SOLUTION, REVISIT_DUE, REVISITED)
                )
        await self._announce_closing()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return status

    async def _role(self, role: str) -> list[Contact]:
        return await people_in_role(role)

    async def _wait_for_sync(self) -> None:
        status, rules = self.status(), self._rules
        assert rules is not None
        today = workflow.now().astimezone(COMPANY_ZONE).date()
        nxt = await lookup(
            SyncActivities.next_sync_day,
            NextSyncInput(after=today.isoformat(), weekdays=list(rules.requirement_sync_weekdays)),
        )
        sync_at = datetime.combine(
            date.fromisoformat(nxt.date), rules.requirement_sync_time, tzinfo=COMPANY_ZONE
        )
        status.next_sync = sync_at.isoformat()
        self._move_to(AWAITING_SYNC, f"Waiting for the R&D and testing sync on {nxt.date}.")
        if sync_at > workflow.now():
            await workflow.sleep(sync_at - workflow.now())
        self._move_to(AT_SYNC, f"At the sync of {nxt.date}: record R&D's outcome.")

    async def _feed_back_solution(self) -> None:
        """RQ-2: the field hears of R&D's solution by email AND phone within the budget."""
        status, rules = self.status(), self._rules
        assert rules is not None and self._requester is not None
        policy = sla.SlaPolicy(
            "feedback",
            rules.requirement_feedback_budget,
            warn_roles=(SENIOR_SUPPORT,),
            breach_roles=("technical_service_team_lead", "department_manager"),
        )
        clock = sla.SlaClock(
            policy,
            reference=status.reference,
            subject=f"Requirement {status.reference} ({status.hospital}): R&D's solution "
            "has not reached the field by email and phone.",
            on_change=self._sla_changed,
        )
        status.feedback_sla = clock.view
        await clock.start(workflow.now())
        step = f"solution-{len([e for e in status.history if e.kind == SOLUTION])}"
        requester = self._requester
        email = self._email(
            step, [requester], self._support, "R&D's solution",
            f"R&D's solution for your requirement at {status.hospital}:\n\n{status.solution}\n\n"
            "Please explain it to the customer (RQ-2).",
        )  # fmt: skip
        call = workflow.execute_activity_method(
            NotifyActivities.place_call,
            CallInput(
                idempotency_key=f"{status.reference}:{step}:call",
                phone=requester.phone,
                message=f"R&D has a solution for requirement {status.reference}; see your email.",
                reference=workflow.info().workflow_id,
            ),
            start_to_close_timeout=retry_policies.NOTIFICATION_TIMEOUT,
            retry_policy=retry_policies.NOTIFICATION,
        )
        both = asyncio.gather(email, call)
        status.receipt_confirmed_by = ""
        status.fed_back = False

        def kept() -> bool:
            if not both.done() or both.exception() is not None:
                return False
            call_confirmed = both.result()[1].confirmed
            return call_confirmed or bool(status.receipt_confirmed_by)

        clock_done = asyncio.create_task(clock.wait(kept))
        _, call_delivery = await both
        if not call_delivery.confirmed and not status.receipt_confirmed_by:
            status.awaiting_receipt = True
            workflow.set_current_details(
                "Email and phone delivered; the phone provider cannot confirm the call, so the "
                "field must confirm receipt."
            )
        await clock_done
        status.awaiting_receipt = False
        status.fed_back = True
        self._record("", "fed_back", "email and phone delivered")
        workflow.set_current_details("The field has R&D's solution; waiting for the release.")

    async def _revisit(self) -> None:
        status, rules = self.status(), self._rules
        assert rules is not None
        due = workflow.now() + rules.requirement_revisit_after
        status.revisit_due_at = due.isoformat()
        workflow.set_current_details(f"Released; the revisit is due {due.date().isoformat()}.")
        await workflow.sleep(rules.requirement_revisit_after)
        if status.stage != RELEASED:
            return
        self._move_to(REVISIT_DUE, "Revisit the customer and record whether they are satisfied.")
        await self._email(
            "revisit", self._assistants, [], "revisit due",
            f"Revisit {status.hospital} about requirement {status.reference} "
            f"(released in {status.released_version}) and record the outcome (RQ-7).",
        )  # fmt: skip
        await workflow.wait_condition(lambda: status.stage != REVISIT_DUE)

    async def _announce_closing(self) -> None:
        status = self.status()
        if self._requester is None:
            return
        note = status.decision_reason or "closed"
        await self._email(
            status.stage, [self._requester], self._support, status.stage,
            f"Requirement {status.reference} at {status.hospital} is {status.stage}: {note}",
        )  # fmt: skip

    @workflow.query
    def status(self) -> RequirementStatus:
        if self._status is None:
            raise ApplicationError("the requirement has not started", type="FAILED_PRECONDITION")
        return self._status

    @workflow.query
    def risk(self) -> str:
        return completion_risk(self.status())

    @workflow.update
    def filter(self, input: FilterInput) -> RequirementStatus:
        status = self.status()
        if input.accept:
            self._record(input.actor_id, "accepted", input.reason.strip())
            self._move_to(AWAITING_SYNC, "Accepted; waiting for the next sync.")
        else:
            status.decision_reason = input.reason.strip()
            self._record(input.actor_id, REFUSED, status.decision_reason)
            self._move_to(REFUSED, f"Refused: {status.decision_reason}")
        return status

    @filter.validator
    def _validate_filter(self, input: FilterInput) -> None:
        self._require_role(input.actor_id, self._support, "the senior support engineer")
        self._require_stage(SUBMITTED)
        if not input.accept and not input.reason.strip():
            raise ApplicationError("a refusal needs its reason", type="INVALID_ARGUMENT")
        _bounded(input.reason, "reason")

    @workflow.update
    def record_sync(self, input: SyncOutcomeInput) -> RequirementStatus:
        status = self.status()
        text = input.text.strip()
        status.next_sync = ""
        if input.outcome == "solution":
            status.solution = text
            self._record(input.actor_id, SOLUTION, text)
            self._move_to(SOLUTION, "R&D gave a solution: telling the field by email and phone.")
        elif input.outcome == "deferred":
            status.syncs_deferred += 1
            self._record(input.actor_id, "deferred", text)
            self._move_to(AWAITING_SYNC, "Deferred to the next sync.")
        else:
            status.decision_reason = text
            self._record(input.actor_id, DECLINED, text)
            self._move_to(DECLINED, f"Declined by R&D: {text}")
        return status

    @record_sync.validator
    def _validate_record_sync(self, input: SyncOutcomeInput) -> None:
        self._require_role(input.actor_id, self._support, "the senior support engineer")
        self._require_stage(AT_SYNC)
        if input.outcome not in ("solution", "deferred", "declined"):
            raise ApplicationError(
                "outcome is solution, deferred or declined", type="INVALID_ARGUMENT"
            )
        if not input.text.strip():
            raise ApplicationError("say what R&D decided", type="INVALID_ARGUMENT")
        _bounded(input.text, "text")

    @workflow.update
    def register_confirmation(self, input: ConfirmationInput) -> RequirementStatus:
        status = self.status()
        status.confirmations = [c for c in status.confirmations if c.kind != input.kind]
        status.confirmations.append(
            Confirmation(
                input.kind, input.file_reference, input.signer, input.signed_on, input.actor_id
            )
        )
        self._record(input.actor_id, "confirmation", f"{input.kind}: {input.file_reference}")
        return status

    @register_confirmation.validator
    def _validate_confirmation(self, input: ConfirmationInput) -> None:
        status = self.status()
        allowed = [*self._assistants, *self._support]
        if input.actor_id != status.requester_id:
            self._require_role(input.actor_id, allowed, "the field, the assistant or support")
        if input.kind not in CONFIRMATIONS:
            raise ApplicationError(
                f"kind is one of {', '.join(CONFIRMATIONS)} (RQ-4)", type="INVALID_ARGUMENT"
            )
        if not input.file_reference.strip() or not input.signer.strip():
            raise ApplicationError(
                "a signed confirmation needs its file reference and signer", type="INVALID_ARGUMENT"
            )
        try:
            date.fromisoformat(input.signed_on)
        except ValueError:
            raise ApplicationError(
                "signed_on is a date (YYYY-MM-DD)", type="INVALID_ARGUMENT"
            ) from None
        if status.stage in FINISHED:
            raise ApplicationError(f"the requirement is {status.stage}", type="FAILED_PRECONDITION")

    @workflow.update
    def confirm_receipt(self, input: ReceiptInput) -> RequirementStatus:
        status = self.status()
        status.receipt_confirmed_by = input.actor_id
        self._record(input.actor_id, "receipt_confirmed", "")
        return status

    @confirm_receipt.validator
    def _validate_receipt(self, input: ReceiptInput) -> None:
        status = self.status()
        if input.actor_id != status.requester_id:
            raise ApplicationError(
                "only the field that asked may confirm it heard of the solution",
                type="PERMISSION_DENIED",
            )
        self._require_stage(SOLUTION)

    @workflow.update
    def release(self, input: ReleaseInput) -> RequirementStatus:
        status = self.status()
        status.released_version = input.version.strip()
        status.revisit_satisfied = None
        self._record(input.actor_id, RELEASED, status.released_version)
        self._move_to(RELEASED, f"Released in {status.released_version}.")
        return status

    @release.validator
    def _validate_release(self, input: ReleaseInput) -> None:
        self._require_role(input.actor_id, self._support, "the senior support engineer")
        self._require_stage(SOLUTION)
        if not self.status().fed_back:
            raise ApplicationError(
                "the field has not had R&D's solution by email and phone yet (RQ-2); "
                "release after it has",
                type="FAILED_PRECONDITION",
            )
        if not input.version.strip():
            raise ApplicationError("name the version that ships it", type="INVALID_ARGUMENT")

    @workflow.update
    def record_revisit(self, input: RevisitInput) -> RequirementStatus:
        status = self.status()
        status.revisit_satisfied = input.satisfied
        if input.satisfied:
            self._record(input.actor_id, REVISITED, input.note.strip())
            self._move_to(REVISITED, "The customer is satisfied; close it once all is signed.")
        else:
            self._record(input.actor_id, "reopened", input.note.strip())
            self._move_to(AWAITING_SYNC, "The customer is not satisfied: reopened (RQ-7).")
        return status

    @record_revisit.validator
    def _validate_revisit(self, input: RevisitInput) -> None:
        self._require_role(input.actor_id, self._assistants, "the department assistant")
        self._require_stage(REVISIT_DUE)
        _bounded(input.note, "note")

    @workflow.update
    def close(self, input: CloseInput) -> RequirementStatus:
        status = self.status()
        self._record(input.actor_id, CLOSED, "")
        self._move_to(CLOSED, "Closed with all three signed confirmations.")
        return status

    @close.validator
    def _validate_close(self, input: CloseInput) -> None:
        status = self.status()
        self._require_role(
            input.actor_id, [*self._support, *self._assistants], "support or the assistant"
        )
        self._require_stage(REVISITED)
        if status.missing_confirmations:
            raise ApplicationError(
                "the requirement cannot close without the hospital's signed "
                f"{', '.join(status.missing_confirmations)} confirmation(s) (RQ-4)",
                type="FAILED_PRECONDITION",
            )

    def _require_role(self, actor_id: str, people: list[Contact], who: str) -> None:
        if not self._routed:
            raise ApplicationError(
                "the requirement is still being routed; try again in a moment",
                type="FAILED_PRECONDITION",
            )
        if actor_id not in {p.id for p in people}:
            raise ApplicationError(f"only {who} may do this", type="PERMISSION_DENIED")

    def _require_stage(self, *stages: str) -> None:
        stage = self.status().stage
        if stage not in stages:
            raise ApplicationError(
                f"the requirement is {stage.replace('_', ' ')}; this needs it "
                f"{' or '.join(s.replace('_', ' ') for s in stages)}",
                type="FAILED_PRECONDITION",
            )

    def _record(self, actor_id: str, kind: str, note: str) -> None:
        self.status().history.append(
            RequirementEvent(at=workflow.now().isoformat(), actor_id=actor_id, kind=kind, note=note)
        )

    def _sla_changed(self) -> None:
        status = self.status()
        sla.show(status.feedback_sla.state if status.feedback_sla else sla.OK)
        workflow.upsert_memo({TRACKING_MEMO: tracking_row(status)})

    def _move_to(self, stage: str, details: str) -> None:
        status = self.status()
        status.stage = stage
        workflow.upsert_search_attributes([search_attributes.STAGE.value_set(stage)])
        workflow.upsert_memo({TRACKING_MEMO: tracking_row(status)})
        workflow.set_current_details(details)

    async def _email(
        self, step: str, to: list[Contact], cc: list[Contact], what: str, body: str
    ) -> None:
        status = self.status()
        await send_email(
            key=f"{status.reference}:{step}:{len(status.history)}",
            to=to,
            cc=cc,
            subject=f"[RQ {status.reference}] {status.hospital} — {what}",
            body=body,
        )


def _bounded(text: str, what: str) -> None:
    if len(text) > MAX_TEXT:
        raise ApplicationError(f"{what} is longer than {MAX_TEXT}", type="INVALID_ARGUMENT")
