"""Gateway handling of leave requests (LV-1..LV-5)."""

from __future__ import annotations

from datetime import datetime

from csd.gateway.v1 import gateway_pb2
from csd.staff.v1 import staff_pb2
from temporalio.client import WorkflowHandle

from services.gateway.directory import LOOKUP_DEADLINE_SECONDS, ask_staff
from services.gateway.identity import Caller
from services.gateway.process import ProcessGateway
from services.gateway.workflow_errors import workflow_call
from services.gateway.workflow_starts import start_once
from services.runtime.dates import parse_date, today
from services.runtime.errors import FailedPrecondition, InvalidArgument
from services.runtime.validation import limit_text, require_known, require_text
from workflows import rulebook
from workflows.leave import (
    CancelInput,
    DecisionInput,
    LeaveInput,
    LeaveStatus,
    LeaveWorkflow,
    workflow_id,
)
from workflows.leave_calendar import leave_starts_at

MAX_TEXT = 2000
_HALVES: dict[gateway_pb2.DayHalf.ValueType, str] = {
    gateway_pb2.DAY_HALF_AM: "am",
    gateway_pb2.DAY_HALF_PM: "pm",
}
_DAY_HALF = {"am": gateway_pb2.DAY_HALF_AM, "pm": gateway_pb2.DAY_HALF_PM}


def _half(value: gateway_pb2.DayHalf.ValueType, what: str, default: str) -> str:
    require_known(value, gateway_pb2.DayHalf.values(), what)
    return _HALVES.get(value, default)


def _same_request(input: LeaveInput) -> tuple[str, ...]:
    return (
        input.requester_id,
        input.leave_type,
        input.start_date,
        input.start_half,
        input.end_date,
        input.end_half,
        input.reason,
    )


def leave_message(status: LeaveStatus) -> gateway_pb2.Leave:
    return gateway_pb2.Leave(
        leave_id=status.reference,
        stage=status.stage,
        requester_id=status.requester_id,
        leave_type=status.leave_type,
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
        sla_state=status.sla_state,
        reminder_at=status.reminder_at,
        escalate_at=status.escalate_at,
        history=[
            gateway_pb2.LeaveEvent(at=e.at, actor_id=e.actor_id, stage=e.stage, note=e.note)
            for e in status.history
        ],
        rule_version=status.rule_version,
    )


class LeaveGateway(ProcessGateway):
    """Request, decide, cancel and read leave."""

    async def request(
        self, request: gateway_pb2.RequestLeaveRequest, caller: Caller
    ) -> gateway_pb2.LeaveRef:
        requester = caller.require_self(request.requester_id, "leave request")
        try:
            rules = rulebook.in_force(today())
        except rulebook.NoRuleSetInForce as err:
            raise FailedPrecondition(f"{err}: the leave rules are not in force yet") from None
        leave_type = request.leave_type.strip().lower()
        if leave_type not in rules.leave_types:
            raise InvalidArgument(
                f"leave_type {request.leave_type!r} is not one of {', '.join(rules.leave_types)}"
            )
        start_date = parse_date(request.start_date, "start_date")
        end_date = parse_date(request.end_date, "end_date")
        start_half = _half(request.start_half, "start_half", "am")
        end_half = _half(request.end_half, "end_half", "pm")
        if (end_date, end_half) < (start_date, start_half):
            raise InvalidArgument("the leave ends before it starts")
        reason = require_text(request.reason, "reason", limit=MAX_TEXT)
        starts = leave_starts_at(start_date.isoformat(), start_half)
        if starts <= datetime.now(starts.tzinfo):
            raise FailedPrecondition(
                f"leave starting {start_date} {start_half} has already begun: leave must be "
                "requested in advance, never afterwards (LV-2)"
            )
        span = await self._count(start_date.isoformat(), start_half, end_date.isoformat(), end_half)
        if span.half_days == 0:
            raise InvalidArgument("that span has no working time: nothing to take leave from")
        wf_id = workflow_id(requester, start_date.isoformat(), start_half)
        started = await start_once(
            self._client,
            LeaveWorkflow.run,
            LeaveInput(
                requester_id=requester,
                leave_type=leave_type,
                start_date=start_date.isoformat(),
                start_half=start_half,
                end_date=end_date.isoformat(),
                end_half=end_half,
                reason=reason,
                rule_version=rules.version,
            ),
            id=wf_id,
            task_queue=self._task_queue,
            summary=(
                f"Leave: {caller.name}, {leave_type}, {start_date} {start_half} to "
                f"{end_date} {end_half} ({span.half_days / 2:g} working days)"
            ),
            details=reason,
            request_key=_same_request,
            conflict=(
                f"you already requested leave starting {start_date} {start_half} ({wf_id}) "
                "with different details; cancel it and request again"
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

    async def _count(
        self, start: str, start_half: str, end: str, end_half: str
    ) -> staff_pb2.WorkingTime:
        halves = {"am": staff_pb2.HALF_OF_DAY_AM, "pm": staff_pb2.HALF_OF_DAY_PM}
        span: staff_pb2.WorkingTime = await ask_staff(
            self._staff.CountWorkingTime(
                staff_pb2.CountWorkingTimeRequest(
                    start=staff_pb2.HalfDay(date=start, half=halves[start_half]),
                    end=staff_pb2.HalfDay(date=end, half=halves[end_half]),
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
        reason = limit_text(request.reason.strip(), "reason", limit=MAX_TEXT)
        status = await workflow_call(
            handle.execute_update(
                LeaveWorkflow.decide,
                DecisionInput(actor_id=caller.id, approve=request.approve, reason=reason),
            ),
            what=f"leave request {request.leave_id}",
            give_up_after=self._timeout,
        )
        return leave_message(status)

    async def cancel(
        self, request: gateway_pb2.CancelLeaveRequest, caller: Caller
    ) -> gateway_pb2.Leave:
        handle = self._handle(request.leave_id)
        reason = limit_text(request.reason.strip(), "reason", limit=MAX_TEXT)
        status = await workflow_call(
            handle.execute_update(
                LeaveWorkflow.cancel, CancelInput(actor_id=caller.id, reason=reason)
            ),
            what=f"leave request {request.leave_id}",
            give_up_after=self._timeout,
        )
        return leave_message(status)

    async def get(self, request: gateway_pb2.GetLeaveRequest, caller: Caller) -> gateway_pb2.Leave:
        handle = self._handle(request.leave_id)
        status = await workflow_call(
            handle.query(LeaveWorkflow.status),
            what=f"leave request {request.leave_id}",
            give_up_after=self._timeout,
        )
        return leave_message(status)
