"""Leave with tiered approval (LV-1..LV-5) on the company's working-day calendar.

A request is counted in working half-days, routed by the staff service to the approver its tier
names (LV-1 the region's technical service manager, LV-3 and LV-4 a department manager), decided
through an Update that only an approver or a department manager may make, recorded by the clerk
on approval, and may be withdrawn by the requester until the leave starts. An undecided request
reminds its approvers after some working hours and escalates to the department managers on the
working day before the leave starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.notify import EmailInput, NotifyActivities
    from activities.staff import (
        CancelLeaveRecordInput,
        Contact,
        ContactInput,
        LeaveActivities,
        LeaveApprovalInput,
        LeaveClockInput,
        LeaveRecordInput,
        LeaveSpanInput,
        StaffActivities,
    )
    from workflows import retry_policies, rulebook, search_attributes, sla
    from workflows.leave_calendar import leave_starts_at
    from workflows.lookups import lookup

PROCESS = "leave"
SUBMITTED = "submitted"
AWAITING_APPROVAL = "awaiting_approval"
APPROVED = "approved"
REJECTED = "rejected"
CANCELLED = "cancelled"
RECORDED = "recorded"
FINISHED = (REJECTED, CANCELLED)

MAX_TEXT = 2000
# workflow.patched: a cancellation announced while another announcement was out ends the wait.
CANCEL_ENDS_THE_WAIT = "leave-cancellation-ends-the-wait"


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


@dataclass
class DecisionInput:
    actor_id: str
    approve: bool
    reason: str = ""


@dataclass
class CancelInput:
    actor_id: str
    reason: str = ""


@dataclass
class LeaveEvent:
    at: str
    actor_id: str
    stage: str
    note: str = ""


@dataclass
class LeaveStatus:
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
    sla_state: str = sla.OK
    reminder_at: str = ""
    escalate_at: str = ""
    history: list[LeaveEvent] = field(default_factory=list)


@workflow.defn
class LeaveWorkflow:
    """One leave request, from submission until the leave starts."""

    def __init__(self) -> None:
        self._status: LeaveStatus | None = None
        self._requester: Contact | None = None
        self._approvers: list[Contact] = []
        self._cc: list[Contact] = []
        self._clerk: Contact | None = None
        self._managers: list[Contact] = []
        self._announced = 0

    @workflow.run
    async def run(self, input: LeaveInput) -> LeaveStatus:
        rules = rulebook.by_version(input.rule_version)
        status = LeaveStatus(
            reference=workflow.info().workflow_id,
            stage=SUBMITTED,
            requester_id=input.requester_id,
            leave_type=input.leave_type,
            start_date=input.start_date,
            start_half=input.start_half,
            end_date=input.end_date,
            end_half=input.end_half,
            rule_version=input.rule_version,
        )
        self._status = status
        workflow.upsert_search_attributes(
            [
                search_attributes.PROCESS.value_set(PROCESS),
                search_attributes.STAGE.value_set(SUBMITTED),
                search_attributes.SLA_STATE.value_set(sla.OK),
                search_attributes.RULE_VERSION.value_set(input.rule_version),
            ]
        )
        self._record(input.requester_id, SUBMITTED, input.reason)

        span = await lookup(
            LeaveActivities.count_leave,
            LeaveSpanInput(input.start_date, input.start_half, input.end_date, input.end_half),
        )
        status.half_days, status.calendar_official = span.half_days, span.official
        self._requester = await lookup(
            StaffActivities.get_contact,
            ContactInput(person_id=input.requester_id),
        )
        workflow.upsert_search_attributes(
            [search_attributes.REGION.value_set(self._requester.region_code or "department")]
        )
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
        clock = await lookup(
            LeaveActivities.leave_clock,
            LeaveClockInput(
                submitted_at=workflow.now().isoformat(),
                reminder_after_minutes=int(rules.leave_reminder_after.total_seconds() // 60),
                escalate_working_days_before=rules.leave_escalate_working_days_before,
                start_date=input.start_date,
            ),
        )
        status.reminder_at, status.escalate_at = clock.reminder_at, clock.escalate_at
        self._move_to(AWAITING_APPROVAL)

        await self._await_decision(
            rules,
            datetime.fromisoformat(clock.reminder_at),
            datetime.fromisoformat(clock.escalate_at),
        )
        if status.stage == APPROVED:
            await self._write_record()
        # The requester may still withdraw until the leave starts.
        starts = leave_starts_at(input.start_date, input.start_half)
        while status.stage not in FINISHED:
            await self._announce_pending()
            remaining = starts - workflow.now()
            if remaining <= timedelta(0):
                break
            # A cancellation that arrived while an announcement was being sent is announced in
            # the same pass; the wait must still end for it, or the leave record stays active
            # until the day the leave would have started.
            wake = (
                (lambda: self._has_unannounced() or status.stage in FINISHED)
                if workflow.patched(CANCEL_ENDS_THE_WAIT)
                else self._has_unannounced
            )
            try:
                await workflow.wait_condition(wake, timeout=remaining)
            except TimeoutError:
                break
        if status.stage == CANCELLED and status.record_id:
            await workflow.execute_activity_method(
                LeaveActivities.cancel_leave_record,
                CancelLeaveRecordInput(
                    idempotency_key=f"{status.reference}:cancel-record",
                    reference=status.reference,
                    reason=status.history[-1].note,
                ),
                start_to_close_timeout=retry_policies.LEDGER_WRITE_TIMEOUT,
                retry_policy=retry_policies.LEDGER_WRITE,
            )
        await self._announce_pending()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return status

    async def _await_decision(
        self, rules: rulebook.RuleSet, reminder_at: datetime, escalate_at: datetime
    ) -> None:
        """The decision promise on the shared SLA clock: the approvers are warned (reminded)
        after the rule's working hours, the department managers alerted (escalation) when the
        leave is about to start undecided."""
        status = self.status()
        # The deadlines come from the calendar (LeaveActivities.leave_clock); a breach alerts the
        # department managers.
        policy = sla.SlaPolicy(
            "decision",
            rules.leave_reminder_after,
            clock=sla.WORKING_HOURS,
            breach_roles=("department_manager",),
        )
        clock = sla.SlaClock(
            policy,
            reference=status.reference,
            subject=f"Leave request {status.reference} from {status.requester_id} is undecided.",
            on_change=lambda: self._set_sla(clock.state),
            warn_to=self._approvers,
        )
        clock.start_between(workflow.now(), reminder_at, escalate_at)
        await self._announce_pending()
        await clock.wait(lambda: status.stage != AWAITING_APPROVAL)

    async def _write_record(self) -> None:
        status = self.status()
        record = await workflow.execute_activity_method(
            LeaveActivities.record_leave,
            LeaveRecordInput(
                idempotency_key=f"{status.reference}:record",
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
        if status.stage == APPROVED:
            self._record(self._clerk.id if self._clerk else "", RECORDED, record.record_id)
            self._move_to(RECORDED)

    @workflow.query
    def status(self) -> LeaveStatus:
        if self._status is None:
            raise ApplicationError("the request has not started yet", type="FAILED_PRECONDITION")
        return self._status

    @workflow.update
    def decide(self, input: DecisionInput) -> LeaveStatus:
        status = self.status()
        status.decided_by = input.actor_id
        status.decision_reason = input.reason.strip()
        stage = APPROVED if input.approve else REJECTED
        self._record(input.actor_id, stage, status.decision_reason)
        self._move_to(stage)
        return status

    @decide.validator
    def _validate_decide(self, input: DecisionInput) -> None:
        status = self.status()
        if input.actor_id == status.requester_id:
            raise ApplicationError("nobody may decide their own leave", type="PERMISSION_DENIED")
        if status.stage != AWAITING_APPROVAL:
            raise ApplicationError(
                f"the request is {status.stage.replace('_', ' ')}; there is nothing to decide",
                type="FAILED_PRECONDITION",
            )
        allowed = {a.id for a in self._approvers} | {m.id for m in self._managers}
        if input.actor_id not in allowed:
            names = ", ".join(sorted(a.id for a in self._approvers))
            raise ApplicationError(
                f"{input.actor_id} may not decide this leave ({status.rule_id}): it is for "
                f"{names} or a department manager",
                type="PERMISSION_DENIED",
            )
        if not input.approve and not input.reason.strip():
            raise ApplicationError("a rejection needs a reason", type="INVALID_ARGUMENT")
        if len(input.reason) > MAX_TEXT:
            raise ApplicationError(f"the reason is longer than {MAX_TEXT}", type="INVALID_ARGUMENT")

    @workflow.update
    def cancel(self, input: CancelInput) -> LeaveStatus:
        status = self.status()
        self._record(input.actor_id, CANCELLED, input.reason.strip())
        self._move_to(CANCELLED)
        return status

    @cancel.validator
    def _validate_cancel(self, input: CancelInput) -> None:
        status = self.status()
        if input.actor_id != status.requester_id:
            raise ApplicationError(
                "only the requester may cancel their leave", type="PERMISSION_DENIED"
            )
        if status.stage in FINISHED:
            raise ApplicationError(
                f"the request is already {status.stage}", type="FAILED_PRECONDITION"
            )
        if workflow.now() >= leave_starts_at(status.start_date, status.start_half):
            raise ApplicationError(
                "the leave has started; it can no longer be cancelled", type="FAILED_PRECONDITION"
            )
        if len(input.reason) > MAX_TEXT:
            raise ApplicationError(f"the reason is longer than {MAX_TEXT}", type="INVALID_ARGUMENT")

    def _record(self, actor_id: str, stage: str, note: str) -> None:
        self.status().history.append(
            LeaveEvent(at=workflow.now().isoformat(), actor_id=actor_id, stage=stage, note=note)
        )

    def _set_sla(self, state: str) -> None:
        self.status().sla_state = state
        sla.show(state)

    def _move_to(self, stage: str) -> None:
        status = self.status()
        status.stage = stage
        workflow.upsert_search_attributes([search_attributes.STAGE.value_set(stage)])
        days = f"{status.half_days / 2:g} working day(s)"
        calendar = "" if status.calendar_official else " (no official holiday schedule yet)"
        approvers = ", ".join(a.name for a in self._approvers) or "the approver"
        details = {
            AWAITING_APPROVAL: f"{days}{calendar} of {status.leave_type} leave from "
            f"{status.start_date} {status.start_half}; waiting for {approvers} ({status.rule_id}).",
            APPROVED: f"Approved by {status.decided_by}; the clerk is recording it.",
            RECORDED: f"Approved by {status.decided_by} and recorded ({status.record_id}).",
            REJECTED: f"Rejected by {status.decided_by}: {status.decision_reason}",
            CANCELLED: "Cancelled by the requester.",
        }
        workflow.set_current_details(details.get(stage, stage))

    def _has_unannounced(self) -> bool:
        return self._status is not None and self._announced < len(self._status.history)

    async def _announce_pending(self) -> None:
        status = self.status()
        while self._announced < len(status.history):
            event = status.history[self._announced]
            to, cc, body = self._announcement(event)
            if to:
                await self._email(f"{self._announced}-{event.stage}", event.stage, to, cc, body)
            self._announced += 1

    def _announcement(self, event: LeaveEvent) -> tuple[list[Contact], list[Contact], str]:
        status = self.status()
        requester = self._requester
        if requester is None:
            return [], [], ""
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
        if event.stage == SUBMITTED:
            return (
                self._approvers,
                self._cc,
                f"Leave request ({status.rule_id}) to decide:\n\n{summary}\n\nReason: {event.note}",
            )
        if event.stage == RECORDED:
            return [requester], clerk, f"Approved and recorded.\n\n{summary}"
        if event.stage == REJECTED:
            return [requester], [], f"Rejected: {event.note}\n\n{summary}"
        if event.stage == CANCELLED:
            return [*self._approvers, *clerk], [requester], f"Cancelled.\n\n{summary}"
        return [], [], ""

    async def _email(
        self, step: str, stage: str, to: list[Contact], cc: list[Contact], body: str
    ) -> None:
        status = self.status()
        await workflow.execute_activity_method(
            NotifyActivities.send_email,
            EmailInput(
                idempotency_key=f"{status.reference}:{step}",
                to=[c.email for c in to],
                cc=[c.email for c in cc if c.email not in {t.email for t in to}],
                subject=(
                    f"[{status.rule_id or 'LV'} {status.reference}] leave — "
                    f"{stage.replace('_', ' ')}"
                ),
                body=body,
                reference=status.reference,
            ),
            start_to_close_timeout=retry_policies.NOTIFICATION_TIMEOUT,
            retry_policy=retry_policies.NOTIFICATION,
        )
