"""Gateway handling of leave requests (LV-1..LV-5).

The workflow owns the contract: a request is checked here with the workflow's own `validate`,
LV-2 against the instant the staff calendar says the leave starts, and the span counted, only to
refuse early with the same words the workflow would use.
"""

from __future__ import annotations

from datetime import UTC, datetime

from csd.gateway.v1 import gateway_pb2
from csd.staff.v1 import staff_pb2
from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.client import WorkflowHandle

from services.gateway.case_messages import case_fields
from services.gateway.directory import LOOKUP_DEADLINE_SECONDS, ask_staff
from services.gateway.identity import Caller
from services.gateway.process import ProcessGateway
from services.gateway.workflow_errors import workflow_call
from services.gateway.workflow_starts import start_once
from services.runtime.dates import today
from services.runtime.errors import FailedPrecondition, InvalidArgument
from services.runtime.validation import require_known
from workflows import regulation
from workflows.leave import (
    SUBMITTED,
    CancelInput,
    DecisionInput,
    LeaveInput,
    LeaveStatus,
    LeaveWorkflow,
    may_read,
    may_read_reason,
    validate,
    validate_cancel,
    validate_decision,
    validate_in_advance,
    validate_span,
    workflow_id,
)

_HALVES: dict[gateway_pb2.DayHalf.ValueType, str] = {
    gateway_pb2.DAY_HALF_AM: "am",
    gateway_pb2.DAY_HALF_PM: "pm",
}
_DAY_HALF = {"am": gateway_pb2.DAY_HALF_AM, "pm": gateway_pb2.DAY_HALF_PM}
_HALF_OF_DAY = {"am": staff_pb2.HALF_OF_DAY_AM, "pm": staff_pb2.HALF_OF_DAY_PM}


def _half(value: gateway_pb2.DayHalf.ValueType, what: str, default: str) -> str:
    require_known(value, gateway_pb2.DayHalf.values(), what)
    return _HALVES.get(value, default)


def _same_request(input: LeaveInput) -> tuple[str, ...]:
    # Not the rule version: a retry on a later day may find a newer rule set in force.
    return (
        input.requester_id,
        input.leave_type,
        input.start_date,
        input.start_half,
        input.end_date,
        input.end_half,
        input.reason,
    )


def leave_message(status: LeaveStatus, *, with_reason: bool = True) -> gateway_pb2.Leave:
    """The status as the gateway replies with it. Its instants are the workflow's, every one
    in Asia/Shanghai; an event's kind is the message's `stage`. Without `with_reason` the leave's
    type and the requester's reason are left out (who may see them: leave.may_read_reason)."""
    return gateway_pb2.Leave(
        leave_id=status.reference,
        stage=status.stage,
        requester_id=status.requester_id,
        leave_type=status.leave_type if with_reason else "",
        start_date=status.start_date,
        start_half=_DAY_HALF[status.start_half],
        end_date=status.end_date,
        end_half=_DAY_HALF[status.end_half],
        half_days=status.half_days,
        calendar_official=status.calendar_official,
        rule_id=status.rule_id,
        approver_ids=status.approver_ids,
        cc_ids=status.cc_ids,
        decided_by=status.decided_by,
        decision_reason=status.decision_reason,
        record_id=status.record_id,
        reminder_at=status.reminder_at,
        escalate_at=status.escalate_at,
        history=[
            gateway_pb2.LeaveEvent(
                at=e.at,
                actor_id=e.actor_id,
                stage=e.kind,
                note=e.note if with_reason or e.kind != SUBMITTED else "",
            )
            for e in status.history
        ],
        rule_version=status.rule_version,
        **case_fields(status),
    )


def _stamp(at: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(at.astimezone(UTC))
    return stamp


class LeaveGateway(ProcessGateway):
    """Request, decide, cancel and read leave."""

    async def request(
        self, request: gateway_pb2.RequestLeaveRequest, caller: Caller
    ) -> gateway_pb2.LeaveRef:
        requester = caller.require_self(request.requester_id, "leave request")
        try:
            rules = regulation.in_force(today())
        except regulation.NoRuleSetInForce as err:
            raise FailedPrecondition(f"{err}: the leave rules are not in force yet") from None
        input = LeaveInput(
            requester_id=requester,
            leave_type=request.leave_type.strip().lower(),
            start_date=request.start_date,
            start_half=_half(request.start_half, "start_half", "am"),
            end_date=request.end_date,
            end_half=_half(request.end_half, "end_half", "pm"),
            reason=request.reason.strip(),
            rule_version=rules.version,
        )
        validate(input, rules)
        now = datetime.now(UTC)
        validate_in_advance(input, starts_at=await self._starts_at(input, now), now=now)
        span = await self._count(input)
        validate_span(span.half_days)
        wf_id = workflow_id(requester, input.start_date, input.start_half)
        started = await start_once(
            self._client,
            LeaveWorkflow.run,
            input,
            id=wf_id,
            task_queue=self._task_queue,
            summary=(
                f"Leave: {caller.name}, {input.leave_type}, {input.start_date} "
                f"{input.start_half} to {input.end_date} {input.end_half} "
                f"({span.half_days / 2:g} working days)"
            ),
            details=input.reason,
            request_key=_same_request,
            conflict=(
                f"you already requested leave starting {input.start_date} {input.start_half} "
                f"({wf_id}) with different details; cancel it and request again"
            ),
            give_up_after=self._timeout,
        )
        return gateway_pb2.LeaveRef(
            leave_id=wf_id,
            run_id=started.run_id,
            half_days=span.half_days,
            calendar_official=span.official,
            rule_version=rules.version,
        )

    async def _starts_at(self, input: LeaveInput, now: datetime) -> datetime:
        """The instant the leave's first half-day begins, as the staff calendar (and so the
        workflow) places it."""
        deadlines: staff_pb2.LeaveDeadlines = await ask_staff(
            self._staff.GetLeaveDeadlines(
                staff_pb2.GetLeaveDeadlinesRequest(
                    submitted_at=_stamp(now),
                    start=staff_pb2.HalfDay(
                        date=input.start_date, half=_HALF_OF_DAY[input.start_half]
                    ),
                    rule_version=input.rule_version,
                ),
                timeout=LOOKUP_DEADLINE_SECONDS,
            ),
            purpose="place the leave on the calendar",
            missing=InvalidArgument(
                f"the calendar cannot place a leave starting {input.start_date}"
            ),
        )
        return deadlines.starts_at.ToDatetime(tzinfo=UTC)

    async def _count(self, input: LeaveInput) -> staff_pb2.WorkingTime:
        span: staff_pb2.WorkingTime = await ask_staff(
            self._staff.CountWorkingTime(
                staff_pb2.CountWorkingTimeRequest(
                    start=staff_pb2.HalfDay(
                        date=input.start_date, half=_HALF_OF_DAY[input.start_half]
                    ),
                    end=staff_pb2.HalfDay(date=input.end_date, half=_HALF_OF_DAY[input.end_half]),
                ),
                timeout=LOOKUP_DEADLINE_SECONDS,
            ),
            purpose="count the working days of the leave",
            missing=InvalidArgument("the calendar cannot count that span (at most three years)"),
        )
        return span

    def _handle(self, leave_id: str) -> WorkflowHandle[LeaveWorkflow, LeaveStatus]:
        if not leave_id.startswith("leave-") or len(leave_id) > 120:
            raise InvalidArgument(
                "leave_id is the id RequestLeave returned (leave-<person>-<date>-<half>)"
            )
        return self._client.get_workflow_handle_for(LeaveWorkflow.run, leave_id)

    async def decide(
        self, request: gateway_pb2.DecideLeaveRequest, caller: Caller
    ) -> gateway_pb2.Leave:
        handle = self._handle(request.leave_id)
        decision = DecisionInput(
            actor_id=caller.id, approve=request.approve, reason=request.reason.strip()
        )
        validate_decision(decision)
        status = await workflow_call(
            handle.execute_update(LeaveWorkflow.decide, decision, rpc_timeout=self._timeout),
            what=f"leave request {request.leave_id}",
            give_up_after=self._timeout,
        )
        return leave_message(status, with_reason=may_read_reason(status, caller))

    async def cancel(
        self, request: gateway_pb2.CancelLeaveRequest, caller: Caller
    ) -> gateway_pb2.Leave:
        handle = self._handle(request.leave_id)
        cancellation = CancelInput(actor_id=caller.id, reason=request.reason.strip())
        validate_cancel(cancellation)
        status = await workflow_call(
            handle.execute_update(LeaveWorkflow.cancel, cancellation, rpc_timeout=self._timeout),
            what=f"leave request {request.leave_id}",
            give_up_after=self._timeout,
        )
        return leave_message(status, with_reason=may_read_reason(status, caller))

    async def get(self, request: gateway_pb2.GetLeaveRequest, caller: Caller) -> gateway_pb2.Leave:
        status = await self._read(
            self._handle(request.leave_id),
            LeaveWorkflow.status,
            caller,
            what=f"leave request {request.leave_id}",
            may_read=may_read,
            readers="a leave is read by its requester, its approvers and those it is copied to "
            "(LV-1)",
        )
        return leave_message(status, with_reason=may_read_reason(status, caller))
