"""A customer requirement's lifecycle (RQ-1..RQ-4, RQ-7, G-2).

The senior support engineer filters it (RQ-1); accepted, it waits for the next R&D and testing
sync (RQ-2), whose instant the staff calendar gives (cadence `rq2-requirement-sync`: Monday and
Thursday 10:00, moved off holidays); at the sync R&D's solution, a deferral or a refusal is
recorded. From the solution the field must be told by email AND phone within the rule set's
budget, on an SLA clock of the case file. The hospital signs three confirmations (RQ-4) before
it may close; one week after the update ships the assistant revisits the customer (RQ-7), and an
unsatisfied revisit reopens the requirement for the next sync.

The requirement's line in the tracking sheet (RQ-3) is the workflow's memo, refreshed on every
change of the case, so the sheet never disagrees with the case.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.notify import DeliveryResult
    from activities.staff import (
        CalendarActivities,
        Contact,
        ContactInput,
        NextOccurrenceInput,
        StaffActivities,
    )
    from workflows import regulation, sla
    from workflows.case_file import CaseEvent, CaseFile, CaseRecord, Mail, opened, rule_refusals
    from workflows.lookups import lookup, people_in_role
    from workflows.regulation import InvalidInput, NotAllowed, NotNow, dates, texts
    from workflows.regulation.cadences import RQ2_SYNC
    from workflows.regulation.readers import Reader

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
STAGES = (
    SUBMITTED, AWAITING_SYNC, AT_SYNC, SOLUTION, RELEASED, REVISIT_DUE, REVISITED,
    *FINISHED,
)  # fmt: skip
# Recorded steps besides the stages.
ACCEPTED, DEFERRED, REOPENED = "accepted", "deferred", "reopened"
CONFIRMATION, RECEIPT, FED_BACK = "confirmation", "receipt_confirmed", "fed_back"

SENIOR_SUPPORT = "senior_support_engineer"
ASSISTANT = "department_assistant"
TEAM_LEAD = "technical_service_team_lead"
DEPARTMENT_MANAGER = "department_manager"
CONFIRMATIONS = ("application", "solution", "verification")
OUTCOMES = ("solution", "deferred", "declined")
# The hospital is in the subject of every email about the requirement, "[RQ <reference>]
# <hospital> — <step>": with an 80-character reference this stays within the 300 characters the
# notify service takes.
MAX_HOSPITAL = 120

TRACKING_MEMO = "tracking"
# The tracking sheet's query: every requirement's current run (a run that continued as new
# hands its record on, so its memo is out of date by design).
TRACKING_QUERY = f"CsdProcess = '{PROCESS}' AND ExecutionStatus != 'ContinuedAsNew'"


def workflow_id(reference: str) -> str:
    return f"requirement-{reference}"


@dataclass
class FilterInput:
    actor_id: str
    accept: bool
    reason: str = ""


def validate_filter(input: FilterInput) -> None:
    if not input.accept:
        texts.required(input.reason, "reason", why="a refusal goes back to the field with it")
    texts.bounded(input.reason, "reason")


@dataclass
class SyncOutcomeInput:
    actor_id: str
    outcome: str  # "solution", "deferred", "declined"
    text: str


def validate_sync_outcome(input: SyncOutcomeInput) -> None:
    if input.outcome not in OUTCOMES:
        raise InvalidInput(f"outcome is one of {', '.join(OUTCOMES)}")
    texts.required(input.text, "text", why="say what R&D decided")


@dataclass
class ConfirmationInput:
    actor_id: str
    kind: str  # application, solution, verification
    file_reference: str
    signer: str
    signed_on: str  # YYYY-MM-DD


def validate_confirmation(input: ConfirmationInput) -> None:
    if input.kind not in CONFIRMATIONS:
        raise InvalidInput(f"kind is one of {', '.join(CONFIRMATIONS)} (RQ-4)")
    why = "a signed confirmation is filed with its file reference and signer (RQ-4)"
    texts.required(input.file_reference, "file_reference", limit=texts.LINE, why=why)
    texts.required(input.signer, "signer", limit=texts.LINE, why=why)
    dates.day(input.signed_on, "signed_on")


@dataclass
class ReleaseInput:
    actor_id: str
    version: str


def validate_release(input: ReleaseInput) -> None:
    texts.required(input.version, "version", limit=texts.LINE, why="name the version that ships it")


@dataclass
class RevisitInput:
    actor_id: str
    satisfied: bool
    note: str = ""


def validate_revisit(input: RevisitInput) -> None:
    texts.bounded(input.note, "note")


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
class RequirementStatus(CaseRecord):
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
    # RQ-2: set when the field confirms it heard of the solution, needed where a channel cannot
    # confirm delivery itself (the phone provider, a refused email).
    receipt_confirmed_by: str = ""
    awaiting_receipt: bool = False
    # The field has the current solution (both channels, or its receipt confirmed).
    fed_back: bool = False
    confirmations: list[Confirmation] = field(default_factory=list)

    @property
    def missing_confirmations(self) -> list[str]:
        have = {c.kind for c in self.confirmations}
        return [k for k in CONFIRMATIONS if k not in have]

    @property
    def feedback_sla(self) -> sla.SlaView | None:
        """The clock of the current solution's feedback (RQ-2), once there is one."""
        return self.slas[-1] if self.slas else None


# Who keeps the tracking sheet (RQ-3, RQ-5, RQ-6) and reads every requirement.
SHEET_KEEPERS = (
    "senior_support_engineer",
    "department_assistant",
    "department_manager",
    "technical_service_team_lead",
)
# Who reads the requirements of their own region.
REGION_READERS = ("technical_service_manager", "customer_service_manager")


def may_read(status: RequirementStatus, reader: Reader) -> bool:
    """The field that asked, the sheet's keepers, the region's managers."""
    if reader.id == status.requester_id or reader.role in SHEET_KEEPERS:
        return True
    return reader.role in REGION_READERS and reader.region_code == status.region_code


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


def validate(input: RequirementInput, rules: regulation.RuleSet) -> None:
    """RQ-1's submission as the rule takes it; the gateway refuses early with the same words."""
    hospital = texts.required(input.hospital, "hospital", limit=MAX_HOSPITAL)
    if "\n" in hospital or "\r" in hospital:
        raise InvalidInput("hospital must be one line: it is in the subject of every email")
    texts.required(input.product_module, "product_module", limit=texts.LINE)
    why = "a requirement without its purpose and business scenario is refused (RQ-1)"
    texts.required(input.purpose, "purpose", why=why)
    texts.required(input.business_scenario, "business_scenario", why=why)
    texts.required(input.description, "description", why="say what the customer asks for")


def tracking_row(status: RequirementStatus) -> dict[str, object]:
    """The requirement's line in the tracking sheet (RQ-3), kept in the workflow's memo so the
    sheet is read from Temporal's visibility store without querying every workflow."""
    feedback = status.feedback_sla
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
        "feedback_sla": feedback.state if feedback else "",
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
        self._case: CaseFile[RequirementStatus] | None = None
        self._rules: regulation.RuleSet | None = None
        self._requester: Contact | None = None
        self._support: list[Contact] = []
        self._assistants: list[Contact] = []
        self._escalation: list[Contact] = []
        self._routed = False
        self._memo: dict[str, object] | None = None

    @workflow.run
    async def run(self, input: RequirementInput) -> RequirementStatus:
        with rule_refusals():
            rules = regulation.by_version(input.rule_version)
            if input.carried is None:
                validate(input, rules)
        self._rules = rules
        status = input.carried or RequirementStatus(
            reference=input.reference,
            stage=SUBMITTED,
            requester_id=input.requester_id,
            region_code=input.region_code,
            hospital=input.hospital.strip(),
            product_module=input.product_module.strip(),
            purpose=input.purpose.strip(),
            business_scenario=input.business_scenario.strip(),
            rule_version=input.rule_version,
            submitted_at=regulation.shown(workflow.now()),
        )
        case = CaseFile(
            status,
            process=PROCESS,
            reference=input.reference,
            summary=f"RQ {input.reference}: {status.hospital}, {status.product_module}",
            subject=lambda what: f"[RQ {input.reference}] {status.hospital} — {what}",
            words=self._words,
            announcements=self._announcements,
            changed=self._refresh_memo,
        )
        self._case = case
        case.open(region=input.region_code, rule_version=input.rule_version)
        # A new run's memo is written afresh, whatever the run before it left.
        self._refresh_memo()
        self._requester = await lookup(
            StaffActivities.get_contact, ContactInput(person_id=input.requester_id)
        )
        self._support = await people_in_role(SENIOR_SUPPORT)
        self._assistants = await people_in_role(ASSISTANT)
        self._escalation = [
            *await people_in_role(TEAM_LEAD),
            *await people_in_role(DEPARTMENT_MANAGER),
        ]
        self._routed = True
        if input.carried is None:
            case.record(input.requester_id, SUBMITTED, input.description.strip())
        await self._until(lambda: status.stage != SUBMITTED)

        syncs_this_run = 0
        while status.stage not in FINISHED:
            if status.stage == AWAITING_SYNC:
                if syncs_this_run >= rules.requirement_syncs_per_run or (
                    workflow.info().is_continue_as_new_suggested()
                ):
                    await case.send_queued()
                    await workflow.wait_condition(workflow.all_handlers_finished)
                    workflow.continue_as_new(dataclasses.replace(input, carried=status))
                syncs_this_run += 1
                await self._wait_for_sync()
            elif status.stage == AT_SYNC:
                await self._until(lambda: status.stage != AT_SYNC)
                if status.stage == SOLUTION:
                    await self._feed_back_solution()
            elif status.stage == RELEASED:
                await self._revisit()
            else:
                await self._until(_left(status, status.stage))
        await case.send_queued()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return status

    async def _until(self, done: Callable[[], bool], *, at: datetime | None = None) -> bool:
        """Send every queued announcement until `done()` (True) or the instant `at` (False)."""
        case, _ = self._cases()
        while True:
            await case.send_queued()
            if done():
                return True
            timeout = None
            if at is not None:
                timeout = at - workflow.now()
                if timeout <= timedelta(0):
                    return False
            try:
                await workflow.wait_condition(lambda: case.has_unsent() or done(), timeout=timeout)
            except TimeoutError:
                await case.send_queued()
                return done()

    async def _wait_for_sync(self) -> None:
        case, status = self._cases()
        # The decision that made the requirement wait looks up its sync before it answers.
        await self._until(lambda: bool(status.next_sync))
        await self._until(lambda: False, at=datetime.fromisoformat(status.next_sync))
        case.move_to(AT_SYNC)

    async def _schedule_next_sync(self) -> None:
        """RQ-2: the next sync after now, from the company calendar."""
        case, status = self._cases()
        status.next_sync = ""
        occurrence = await lookup(
            CalendarActivities.next_occurrence,
            NextOccurrenceInput(
                cadence=RQ2_SYNC, after=case.now(), rule_version=status.rule_version
            ),
        )
        status.next_sync = occurrence.at
        words = self._words(AWAITING_SYNC)
        if not occurrence.official:
            words += (
                " The company has published no holiday schedule for that year: statutory "
                "holidays only."
            )
        case.say(words)

    async def _feed_back_solution(self) -> None:
        """RQ-2: the field hears of R&D's solution by email AND phone, sent at once, within the
        rule set's budget."""
        case, status = self._cases()
        rules, requester = self._rules, self._requester
        assert rules is not None and requester is not None
        started = workflow.now()
        step = f"solution-{sum(e.kind == SOLUTION for e in status.history)}"
        status.receipt_confirmed_by = ""
        status.fed_back = False
        budget, warning = rules.requirement_feedback_budget, rules.requirement_feedback_warning
        clock = case.clock(
            "feedback",
            promise=(
                f"the field hears of R&D's solution by email and phone within "
                f"{_duration(budget)} of it (24x7), the senior support engineer warned after "
                f"{_duration(warning)} (RQ-2)"
            ),
            started_at=started,
            warn_at=started + warning,
            breach_at=started + budget,
            warn_to=self._support,
            breach_to=self._escalation,
        )
        emailed: list[bool] = []
        called: list[DeliveryResult | None] = []

        async def by_email() -> None:
            mail = Mail(
                to=[requester],
                cc=self._support,
                what="R&D's solution",
                body=(
                    f"R&D's solution for your requirement at {status.hospital}:\n\n"
                    f"{status.solution}\n\nPlease explain it to the customer (RQ-2)."
                ),
            )
            emailed.append(await case.email(step, mail))

        async def by_phone() -> None:
            called.append(
                await case.call(
                    f"{step}:call",
                    requester,
                    f"R&D has a solution for requirement {status.reference}; see your email.",
                )
            )

        def delivered() -> bool:
            return bool(emailed and emailed[0] and called and called[0] and called[0].confirmed)

        def kept() -> bool:
            return bool(status.receipt_confirmed_by) or delivered()

        timed = asyncio.create_task(clock.wait(kept))
        await asyncio.gather(by_email(), by_phone())
        if not kept():
            status.awaiting_receipt = True
            case.say(
                "Sent by email and phone; "
                + (
                    "the phone provider cannot confirm the call"
                    if emailed[0] and called[0]
                    else "a channel was refused (see the notices)"
                )
                + ", so the field must confirm it heard of the solution (RQ-2)."
            )
        await timed
        status.awaiting_receipt = False
        status.fed_back = True
        case.record("", FED_BACK, "the field has R&D's solution")
        case.say("The field has R&D's solution; waiting for the release.")

    async def _revisit(self) -> None:
        case, status = self._cases()
        rules = self._rules
        assert rules is not None
        due = workflow.now() + rules.requirement_revisit_after
        status.revisit_due_at = regulation.shown(due)
        case.say(self._words(RELEASED))
        if await self._until(lambda: status.stage != RELEASED, at=due):
            return
        case.record("", REVISIT_DUE, f"released in {status.released_version}")
        case.move_to(REVISIT_DUE)
        await self._until(lambda: status.stage != REVISIT_DUE)

    def _cases(self) -> tuple[CaseFile[RequirementStatus], RequirementStatus]:
        case = opened(self._case, "the requirement")
        return case, case.status

    def _refresh_memo(self) -> None:
        """The tracking row, written whenever the case changed and the row with it."""
        if self._case is None:
            return
        row = tracking_row(self._cases()[1])
        if row != self._memo:
            workflow.upsert_memo({TRACKING_MEMO: row})
            self._memo = row

    @workflow.query
    def status(self) -> RequirementStatus:
        return self._cases()[1]

    @workflow.query
    def risk(self) -> str:
        return completion_risk(self._cases()[1])

    @workflow.update
    async def filter(self, input: FilterInput) -> RequirementStatus:
        case, status = self._cases()
        if input.accept:
            case.record(input.actor_id, ACCEPTED, input.reason.strip())
            case.move_to(AWAITING_SYNC)
            # The reply carries the sync the acceptance leads to.
            await self._schedule_next_sync()
        else:
            status.decision_reason = input.reason.strip()
            case.record(input.actor_id, REFUSED, status.decision_reason)
            case.move_to(REFUSED)
        return status

    @filter.validator
    def _validate_filter(self, input: FilterInput) -> None:
        with rule_refusals():
            self._require_role(input.actor_id, self._support, "the senior support engineer")
            self._require_stage(SUBMITTED)
            validate_filter(input)

    @workflow.update
    async def record_sync(self, input: SyncOutcomeInput) -> RequirementStatus:
        case, status = self._cases()
        text = input.text.strip()
        status.next_sync = ""
        if input.outcome == "solution":
            status.solution = text
            case.record(input.actor_id, SOLUTION, text)
            case.move_to(SOLUTION)
        elif input.outcome == "deferred":
            status.syncs_deferred += 1
            case.record(input.actor_id, DEFERRED, text)
            case.move_to(AWAITING_SYNC)
            await self._schedule_next_sync()
        else:
            status.decision_reason = text
            case.record(input.actor_id, DECLINED, text)
            case.move_to(DECLINED)
        return status

    @record_sync.validator
    def _validate_record_sync(self, input: SyncOutcomeInput) -> None:
        with rule_refusals():
            self._require_role(input.actor_id, self._support, "the senior support engineer")
            self._require_stage(AT_SYNC)
            validate_sync_outcome(input)

    @workflow.update
    def register_confirmation(self, input: ConfirmationInput) -> RequirementStatus:
        case, status = self._cases()
        status.confirmations = [c for c in status.confirmations if c.kind != input.kind]
        status.confirmations.append(
            Confirmation(
                kind=input.kind,
                file_reference=input.file_reference.strip(),
                signer=input.signer.strip(),
                signed_on=input.signed_on,
                registered_by=input.actor_id,
            )
        )
        # Recorded after the change, so the tracking row written with it lists it as filed.
        case.record(input.actor_id, CONFIRMATION, f"{input.kind}: {input.file_reference.strip()}")
        return status

    @register_confirmation.validator
    def _validate_confirmation(self, input: ConfirmationInput) -> None:
        with rule_refusals():
            status = self._cases()[1]
            if input.actor_id != status.requester_id:
                self._require_role(
                    input.actor_id,
                    [*self._assistants, *self._support],
                    "the field that asked, the assistant or support",
                )
            validate_confirmation(input)
            if status.stage in FINISHED:
                raise NotNow(f"the requirement is {status.stage}")

    @workflow.update
    def confirm_receipt(self, input: ReceiptInput) -> RequirementStatus:
        case, status = self._cases()
        status.receipt_confirmed_by = input.actor_id
        case.record(input.actor_id, RECEIPT, "")
        return status

    @confirm_receipt.validator
    def _validate_receipt(self, input: ReceiptInput) -> None:
        with rule_refusals():
            status = self._cases()[1]
            if input.actor_id != status.requester_id:
                raise NotAllowed("only the field that asked may confirm it heard of the solution")
            self._require_stage(SOLUTION)

    @workflow.update
    def release(self, input: ReleaseInput) -> RequirementStatus:
        case, status = self._cases()
        status.released_version = input.version.strip()
        status.revisit_satisfied = None
        case.record(input.actor_id, RELEASED, status.released_version)
        case.move_to(RELEASED)
        return status

    @release.validator
    def _validate_release(self, input: ReleaseInput) -> None:
        with rule_refusals():
            self._require_role(input.actor_id, self._support, "the senior support engineer")
            self._require_stage(SOLUTION)
            if not self._cases()[1].fed_back:
                raise NotNow(
                    "the field has not had R&D's solution by email and phone yet (RQ-2); "
                    "release after it has"
                )
            validate_release(input)

    @workflow.update
    async def record_revisit(self, input: RevisitInput) -> RequirementStatus:
        case, status = self._cases()
        status.revisit_satisfied = input.satisfied
        if input.satisfied:
            case.record(input.actor_id, REVISITED, input.note.strip())
            case.move_to(REVISITED)
        else:
            case.record(input.actor_id, REOPENED, input.note.strip())
            case.move_to(AWAITING_SYNC, "The customer is not satisfied: reopened (RQ-7).")
            await self._schedule_next_sync()
        return status

    @record_revisit.validator
    def _validate_revisit(self, input: RevisitInput) -> None:
        with rule_refusals():
            self._require_role(input.actor_id, self._assistants, "the department assistant")
            self._require_stage(REVISIT_DUE)
            validate_revisit(input)

    @workflow.update
    def close(self, input: CloseInput) -> RequirementStatus:
        case, status = self._cases()
        case.record(input.actor_id, CLOSED, "")
        case.move_to(CLOSED)
        return status

    @close.validator
    def _validate_close(self, input: CloseInput) -> None:
        with rule_refusals():
            status = self._cases()[1]
            self._require_role(
                input.actor_id, [*self._support, *self._assistants], "support or the assistant"
            )
            self._require_stage(REVISITED)
            if status.missing_confirmations:
                raise NotNow(
                    "the requirement cannot close without the hospital's signed "
                    f"{', '.join(status.missing_confirmations)} confirmation(s) (RQ-4)"
                )

    def _require_role(self, actor_id: str, people: Sequence[Contact], who: str) -> None:
        if not self._routed:
            raise NotNow("the requirement is still being routed; try again in a moment")
        if actor_id not in {p.id for p in people}:
            raise NotAllowed(f"only {who} may do this")

    def _require_stage(self, *stages: str) -> None:
        stage = self._cases()[1].stage
        if stage not in stages:
            raise NotNow(
                f"the requirement is {stage.replace('_', ' ')}; this needs it "
                f"{' or '.join(s.replace('_', ' ') for s in stages)}"
            )

    def _words(self, stage: str) -> str:
        """Each stage in plain words, for the Web UI."""
        status = self._cases()[1]
        sync = (
            f"the R&D and testing sync of {status.next_sync}"
            if status.next_sync
            else "the next R&D and testing sync"
        )
        return {
            SUBMITTED: "Waiting for the senior support engineer's filter (RQ-1).",
            AWAITING_SYNC: f"Accepted; waiting for {sync} (RQ-2).",
            AT_SYNC: f"At {sync}: record R&D's outcome.",
            SOLUTION: "R&D gave a solution: telling the field by email and phone (RQ-2).",
            RELEASED: (
                f"Released in {status.released_version}"
                + (
                    f"; the revisit is due {status.revisit_due_at} (RQ-7)."
                    if status.revisit_due_at
                    else "."
                )
            ),
            REVISIT_DUE: "Revisit the customer and record whether they are satisfied (RQ-7).",
            REVISITED: (
                "The customer is satisfied; close it once all three confirmations are signed "
                "(RQ-4)."
            ),
            CLOSED: "Closed with all three signed confirmations.",
            REFUSED: f"Refused: {status.decision_reason}",
            DECLINED: f"Declined by R&D: {status.decision_reason}",
        }.get(stage, stage)

    def _announcements(self, event: CaseEvent) -> Sequence[Mail]:
        """Who hears of each step (R&D's solution goes by email and phone at once, on its
        clock, so it is not here)."""
        requester, support = self._requester, self._support
        status = self._cases()[1]
        if requester is None:
            return ()
        if event.kind == SUBMITTED:
            return [
                Mail(
                    support,
                    [requester],
                    "to filter",
                    f"New requirement from {requester.name} at {status.hospital} "
                    f"({status.product_module}).\n\nPurpose: {status.purpose}\n"
                    f"Business scenario: {status.business_scenario}\n\n{event.note}",
                )
            ]
        if event.kind == REVISIT_DUE:
            return [
                Mail(
                    self._assistants,
                    (),
                    "revisit due",
                    f"Revisit {status.hospital} about requirement {status.reference} "
                    f"(released in {status.released_version}) and record the outcome (RQ-7).",
                )
            ]
        if event.kind in FINISHED:
            note = event.note or event.kind
            return [
                Mail(
                    [requester],
                    support,
                    event.kind,
                    f"Requirement {status.reference} at {status.hospital} is {event.kind}: {note}",
                )
            ]
        return ()


def _left(status: RequirementStatus, stage: str) -> Callable[[], bool]:
    """Whether the requirement has left `stage`."""
    return lambda: status.stage != stage


def _duration(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes % 60:
        return f"{minutes} minutes"
    return f"{minutes // 60} hour" + ("s" if minutes != 60 else "")
