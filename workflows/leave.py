"""Leave with tiered approval (LV-1..LV-5) on the company's working-day calendar.

A request is counted in working half-days, routed by the staff service to the approver its tier
names (LV-1 the region's technical service manager, LV-3 and LV-4 a department manager), decided
through an Update that only an approver or a department manager may make, recorded by the clerk
on approval, and may be withdrawn by the requester until the leave starts. The decision promise
is on the SLA clock: the approvers are reminded after the rule set's working hours, and the
department managers alerted at the start of the working day before the leave; the staff
calendar gives both instants, and the instant the leave starts (LV-2 refuses any later request).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.staff import (
        CalendarActivities,
        CancelLeaveRecordInput,
        Contact,
        ContactInput,
        LeaveActivities,
        LeaveApprovalInput,
        LeaveDeadlinesInput,
        LeaveRecordInput,
        LeaveSpanInput,
        StaffActivities,
    )
    from workflows import regulation, retry_policies, sla
    from workflows.case_file import CaseEvent, CaseFile, CaseRecord, Mail, opened, rule_refusals
    from workflows.lookups import lookup
    from workflows.regulation import InvalidInput, NotAllowed, NotNow, dates, texts
    from workflows.regulation.readers import Reader

PROCESS = "leave"

SUBMITTED = "submitted"
AWAITING_APPROVAL = "awaiting_approval"
APPROVED = "approved"
REJECTED = "rejected"
CANCELLED = "cancelled"
RECORDED = "recorded"
FINISHED = (REJECTED, CANCELLED)

HALVES = ("am", "pm")


def workflow_id(person_id: str, start_date: str, start_half: str) -> str:
    """The business key: one request per person and starting half-day."""
    return f"leave-{person_id}-{start_date}-{start_half}"


@dataclass
class LeaveInput:
    requester_id: str
    leave_type: str
    start_date: str  # YYYY-MM-DD, Asia/Shanghai
    start_half: str  # "am" | "pm"
    end_date: str
    end_half: str
    reason: str
    rule_version: str


def _half(value: str, field: str) -> str:
    if value not in HALVES:
        raise InvalidInput(f"{field} {value!r} is neither 'am' nor 'pm'")
    return value


def validate(input: LeaveInput, rules: regulation.RuleSet) -> None:
    """A leave request as LV-1..LV-5 take it; the gateway refuses early with the same words.

    LV-2 needs the instant the leave starts, which only the calendar knows: see
    `validate_in_advance`.
    """
    texts.required(input.requester_id, "requester_id", limit=texts.LINE)
    if input.leave_type not in rules.leave_types:
        raise InvalidInput(
            f"leave_type {input.leave_type!r} is not one of {', '.join(rules.leave_types)} (LV-5)"
        )
    start = (dates.day(input.start_date, "start_date"), _half(input.start_half, "start_half"))
    end = (dates.day(input.end_date, "end_date"), _half(input.end_half, "end_half"))
    if end < start:  # "am" sorts before "pm"
        raise InvalidInput("the leave ends before it starts")
    texts.required(input.reason, "reason", why="say what the leave is for")


def validate_in_advance(input: LeaveInput, *, starts_at: datetime, now: datetime) -> None:
    """LV-2: leave is requested before its first half-day begins (`starts_at`, from the
    calendar), never once it has."""
    if starts_at <= now:
        raise NotNow(
            f"leave starting {input.start_date} {input.start_half} has already begun: "
            "leave must be requested in advance, never afterwards (LV-2)"
        )


def validate_span(half_days: int) -> None:
    """A leave takes at least one working half-day."""
    if half_days <= 0:
        raise InvalidInput("that span has no working time: nothing to take leave from")


@dataclass
class DecisionInput:
    actor_id: str
    approve: bool
    reason: str = ""


def validate_decision(input: DecisionInput) -> None:
    if input.approve:
        texts.bounded(input.reason, "reason")
    else:
        texts.required(input.reason, "reason", why="a rejection needs a reason")


@dataclass
class CancelInput:
    actor_id: str
    reason: str = ""


def validate_cancel(input: CancelInput) -> None:
    texts.bounded(input.reason, "reason")


@dataclass
class LeaveStatus(CaseRecord):
    reference: str
    stage: str
    requester_id: str
    leave_type: str
    start_date: str
    start_half: str
    end_date: str
    end_half: str
    rule_version: str
    half_days: int = 0
    # False where a year of the span has no official holiday schedule yet (statutory only).
    calendar_official: bool = True
    rule_id: str = ""
    approver_ids: list[str] = field(default_factory=list)
    cc_ids: list[str] = field(default_factory=list)
    decided_by: str = ""
    decision_reason: str = ""
    record_id: str = ""
    # The calendar's instants, Asia/Shanghai: the approvers' reminder, the escalation to the
    # department managers, and the start of the leave's first half-day.
    reminder_at: str = ""
    escalate_at: str = ""
    starts_at: str = ""


# Who decides or records leave, and so reads its type and reason, beside its own approvers.
DECIDERS_BY_ROLE = ("department_manager", "department_clerk")


def may_read(status: LeaveStatus, reader: Reader) -> bool:
    """The requester, the approvers, those copied (LV-1), whoever decided; managers, clerk."""
    named = {status.requester_id, *status.approver_ids, *status.cc_ids, status.decided_by}
    return reader.id in named or reader.role in DECIDERS_BY_ROLE


def may_read_reason(status: LeaveStatus, reader: Reader) -> bool:
    """The leave's type and reason: only the requester and those who decide or record it."""
    named = {status.requester_id, *status.approver_ids, status.decided_by}
    return reader.id in named or reader.role in DECIDERS_BY_ROLE


def decision_promise(rules: regulation.RuleSet) -> str:
    """The decision promise in the rule set's own terms; the clock's instants are its reading
    on the company calendar."""
    hours = rules.leave_reminder_after.total_seconds() / 3600
    days = rules.leave_escalate_working_days_before
    before = (
        "the working day before the leave begins"
        if days == 1
        else f"the working day {days} working days before the leave begins"
    )
    return (
        f"a decision within {hours:g} working hours of the request (approvers reminded), "
        f"and by the start of {before} (department managers alerted) (LV-1..LV-4)"
    )


@workflow.defn
class LeaveWorkflow:
    """One leave request, from submission until the leave starts."""

    def __init__(self) -> None:
        self._case: CaseFile[LeaveStatus] | None = None
        self._decision: sla.SlaClock | None = None
        self._requester: Contact | None = None
        self._approvers: list[Contact] = []
        self._cc: list[Contact] = []
        self._clerk: Contact | None = None
        self._managers: list[Contact] = []
        self._starts_at: datetime | None = None

    @workflow.run
    async def run(self, input: LeaveInput) -> LeaveStatus:
        with rule_refusals():
            rules = regulation.by_version(input.rule_version)
            validate(input, rules)
        reference = workflow.info().workflow_id
        status = LeaveStatus(
            reference=reference,
            stage=SUBMITTED,
            requester_id=input.requester_id,
            leave_type=input.leave_type,
            start_date=input.start_date,
            start_half=input.start_half,
            end_date=input.end_date,
            end_half=input.end_half,
            rule_version=input.rule_version,
        )
        case = CaseFile(
            status,
            process=PROCESS,
            reference=reference,
            summary=(
                f"Leave {reference}: {input.requester_id}, {input.leave_type} leave from "
                f"{input.start_date} {input.start_half} to {input.end_date} {input.end_half}"
            ),
            subject=lambda what: f"[{status.rule_id or 'LV'} {reference}] leave — {what}",
            words=self._words,
            announcements=self._announcements,
        )
        self._case = case
        case.open(region="", rule_version=input.rule_version)

        submitted_at = workflow.now()
        deadlines = await lookup(
            CalendarActivities.leave_deadlines,
            LeaveDeadlinesInput(
                submitted_at=submitted_at.isoformat(),
                start_date=input.start_date,
                start_half=input.start_half,
                rule_version=input.rule_version,
            ),
        )
        starts_at = datetime.fromisoformat(deadlines.starts_at)
        # LV-2 here as well as at the gateway: a start from the CLI or a Schedule skips the
        # gateway, and nothing is written or sent for a leave requested after it began.
        with rule_refusals():
            validate_in_advance(input, starts_at=starts_at, now=workflow.now())
        span = await lookup(
            LeaveActivities.count_leave,
            LeaveSpanInput(input.start_date, input.start_half, input.end_date, input.end_half),
        )
        with rule_refusals():
            validate_span(span.half_days)
        self._starts_at = starts_at
        status.half_days, status.calendar_official = span.half_days, span.official
        status.reminder_at, status.escalate_at = deadlines.reminder_at, deadlines.escalate_at
        status.starts_at = deadlines.starts_at

        self._requester = await lookup(
            StaffActivities.get_contact, ContactInput(person_id=input.requester_id)
        )
        case.place(self._requester.region_code or "department")
        approval = await lookup(
            LeaveActivities.resolve_leave_approval,
            LeaveApprovalInput(
                person_id=input.requester_id,
                half_days=span.half_days,
                department_from_half_days=rules.leave_department_from_half_days,
            ),
        )
        self._approvers, self._cc = approval.approvers, approval.cc
        self._clerk, self._managers = approval.clerk, approval.department_managers
        status.rule_id = approval.rule_id
        status.approver_ids = [a.id for a in approval.approvers]
        status.cc_ids = [c.id for c in approval.cc]
        case.record(input.requester_id, SUBMITTED, input.reason.strip())
        case.move_to(AWAITING_APPROVAL)

        self._decision = decision = case.clock(
            "decision",
            promise=decision_promise(rules),
            started_at=submitted_at,
            warn_at=datetime.fromisoformat(deadlines.reminder_at),
            breach_at=datetime.fromisoformat(deadlines.escalate_at),
            warn_to=self._approvers,
            breach_to=self._managers,
        )

        def decided() -> bool:
            return status.stage != AWAITING_APPROVAL

        timed = asyncio.create_task(decision.wait(decided))
        await self._send_until(decided)
        await timed
        if status.stage == APPROVED:
            await self._write_record()
        # The requester may still withdraw until the leave starts.
        await self._send_until(lambda: status.stage in FINISHED, until=starts_at)
        if status.stage == CANCELLED and status.record_id:
            await workflow.execute_activity_method(
                LeaveActivities.cancel_leave_record,
                CancelLeaveRecordInput(
                    idempotency_key=case.key("cancel-record"),
                    reference=reference,
                    # The cancellation's own note: a refused mail may have been noted since.
                    reason=next(e.note for e in reversed(status.history) if e.kind == CANCELLED),
                ),
                start_to_close_timeout=retry_policies.LEDGER_WRITE_TIMEOUT,
                retry_policy=retry_policies.LEDGER_WRITE,
            )
        await case.send_queued()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return status

    async def _send_until(self, done: Callable[[], bool], until: datetime | None = None) -> None:
        """Send each step's mails as it is recorded, until `done()` or the instant `until`.

        A step recorded while a mail was out (the mail server down, a cancellation meanwhile)
        is sent in the same pass, and the wait still ends for `done()`.
        """
        case = self._cases()[0]
        while True:
            await case.send_queued()
            if done():
                return
            remaining = None if until is None else until - workflow.now()
            if remaining is not None and remaining <= timedelta(0):
                return
            try:
                await workflow.wait_condition(
                    lambda: case.has_unsent() or done(), timeout=remaining
                )
            except TimeoutError:
                return

    async def _write_record(self) -> None:
        case, status = self._cases()
        record = await workflow.execute_activity_method(
            LeaveActivities.record_leave,
            LeaveRecordInput(
                idempotency_key=case.key("record"),
                reference=status.reference,
                person_id=status.requester_id,
                leave_type=status.leave_type,
                start_date=status.start_date,
                start_half=status.start_half,
                end_date=status.end_date,
                end_half=status.end_half,
                half_days=status.half_days,
                approved_by=status.decided_by,
                rule_id=status.rule_id,
            ),
            start_to_close_timeout=retry_policies.LEDGER_WRITE_TIMEOUT,
            retry_policy=retry_policies.LEDGER_WRITE,
        )
        status.record_id = record.record_id
        # Withdrawn while the clerk was recording it: the record is cancelled at the end.
        if status.stage == APPROVED:
            case.record(self._clerk.id if self._clerk else "", RECORDED, record.record_id)
            case.move_to(RECORDED)

    def _cases(self) -> tuple[CaseFile[LeaveStatus], LeaveStatus]:
        case = opened(self._case, "the request")
        return case, case.status

    def _decided(self) -> None:
        """The decision promise is kept (or withdrawn with the request): the reply shows it
        at once, not only the next look at the case."""
        if self._decision:
            self._decision.met()

    @workflow.query
    def status(self) -> LeaveStatus:
        return self._cases()[1]

    @workflow.update
    def decide(self, input: DecisionInput) -> LeaveStatus:
        case, status = self._cases()
        status.decided_by = input.actor_id
        status.decision_reason = input.reason.strip()
        stage = APPROVED if input.approve else REJECTED
        case.record(input.actor_id, stage, status.decision_reason)
        case.move_to(stage)
        self._decided()
        return status

    @decide.validator
    def _validate_decide(self, input: DecisionInput) -> None:
        with rule_refusals():
            status = self._cases()[1]
            if input.actor_id == status.requester_id:
                raise NotAllowed("nobody may decide their own leave (LV-3)")
            if status.stage == SUBMITTED:
                raise NotNow("the request is still being routed to its approver; try again")
            if status.stage != AWAITING_APPROVAL:
                raise NotNow(
                    f"the request is {status.stage.replace('_', ' ')}; there is nothing to decide"
                )
            allowed = {a.id for a in self._approvers} | {m.id for m in self._managers}
            if input.actor_id not in allowed:
                names = ", ".join(sorted(a.id for a in self._approvers))
                raise NotAllowed(
                    f"{input.actor_id} may not decide this leave ({status.rule_id}): it is for "
                    f"{names} or a department manager"
                )
            validate_decision(input)

    @workflow.update
    def cancel(self, input: CancelInput) -> LeaveStatus:
        case, status = self._cases()
        case.record(input.actor_id, CANCELLED, input.reason.strip())
        case.move_to(CANCELLED)
        self._decided()
        return status

    @cancel.validator
    def _validate_cancel(self, input: CancelInput) -> None:
        with rule_refusals():
            status = self._cases()[1]
            if input.actor_id != status.requester_id:
                raise NotAllowed("only the requester may cancel their leave")
            if status.stage in FINISHED:
                raise NotNow(f"the request is already {status.stage}")
            if status.stage == SUBMITTED or self._starts_at is None:
                raise NotNow("the request is still being routed to its approver; try again")
            if workflow.now() >= self._starts_at:
                raise NotNow("the leave has started; it can no longer be cancelled (LV-2)")
            validate_cancel(input)

    def _words(self, stage: str) -> str:
        """Each stage in plain words, for the Web UI."""
        status = self._cases()[1]
        days = f"{status.half_days / 2:g} working day(s)"
        calendar = "" if status.calendar_official else " (no official holiday schedule yet)"
        approvers = ", ".join(a.name for a in self._approvers) or "the approver"
        return {
            SUBMITTED: "Counting the leave and routing it to its approver.",
            AWAITING_APPROVAL: f"{days}{calendar} of {status.leave_type} leave from "
            f"{status.start_date} {status.start_half}; waiting for {approvers} "
            f"({status.rule_id}).",
            APPROVED: f"Approved by {status.decided_by}; the clerk is recording it.",
            RECORDED: f"Approved by {status.decided_by} and recorded ({status.record_id}).",
            REJECTED: f"Rejected by {status.decided_by}: {status.decision_reason}",
            CANCELLED: "Cancelled by the requester.",
        }.get(stage, stage)

    def _announcements(self, event: CaseEvent) -> Sequence[Mail]:
        """Who hears of each step."""
        status = self._cases()[1]
        requester = self._requester
        if requester is None:
            return ()
        summary = (
            f"{requester.name}: {status.leave_type} leave from {status.start_date} "
            f"{status.start_half} to {status.end_date} {status.end_half}, "
            f"{status.half_days / 2:g} working day(s)"
            + (
                ""
                if status.calendar_official
                else " (statutory holidays only: no official schedule for that year yet)"
            )
        )
        clerk = [self._clerk] if self._clerk else []
        if event.kind == SUBMITTED:
            return [
                Mail(
                    self._approvers,
                    self._cc,
                    SUBMITTED,
                    f"Leave request ({status.rule_id}) to decide, submitted {event.at}:\n\n"
                    f"{summary}\n\nReason: {event.note}\n\n"
                    f"Please decide by {status.reminder_at}; still undecided at "
                    f"{status.escalate_at}, it goes to the department managers. "
                    f"The leave starts at {status.starts_at}.",
                )
            ]
        if event.kind == RECORDED:
            return [
                Mail(
                    [requester],
                    clerk,
                    RECORDED,
                    f"Approved by {status.decided_by} and recorded by the clerk at "
                    f"{event.at} ({event.note}).\n\n{summary}",
                )
            ]
        if event.kind == REJECTED:
            return [
                Mail(
                    [requester],
                    (),
                    REJECTED,
                    f"Rejected by {status.decided_by} at {event.at}: {event.note}\n\n{summary}",
                )
            ]
        if event.kind == CANCELLED:
            return [
                Mail(
                    [*self._approvers, *clerk],
                    [requester],
                    CANCELLED,
                    f"Cancelled by the requester at {event.at}."
                    + (f" Reason: {event.note}" if event.note else "")
                    + f"\n\n{summary}",
                )
            ]
        return ()
