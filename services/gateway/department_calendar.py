"""Gateway handling of the department calendar's processes: meeting minutes (MT-1..MT-3) and
weekly reports (WR-1..WR-4). The schedules start them; people act on them here."""

from __future__ import annotations

import re
from collections.abc import Awaitable

from csd.gateway.v1 import gateway_pb2
from temporalio.client import WorkflowHandle

from services.gateway.case_messages import case_events, case_fields
from services.gateway.identity import Caller
from services.gateway.process import ProcessGateway
from services.gateway.workflow_errors import workflow_call
from services.runtime.errors import InvalidArgument
from workflows.meeting import MeetingStatus, MeetingWorkflow, MinutesInput, validate_minutes
from workflows.meeting import may_read as may_read_meeting
from workflows.weekly_report import (
    SubmissionInput,
    WeeklyReportStatus,
    WeeklyReportWorkflow,
    validate_submission,
    validate_week,
)
from workflows.weekly_report import may_read as may_read_week
from workflows.weekly_report import workflow_id as weekly_report_id

# The meeting's workflow id names the workflow to ask; the minutes themselves are the
# workflow's to judge (validate_minutes, run here only to refuse early in the same words).
_MEETING_ID = re.compile(r"^meeting-MT-[123](-[a-z0-9._-]{1,40})?-\d{4}-\d{2}-\d{2}$")


def meeting_message(meeting_id: str, status: MeetingStatus) -> gateway_pb2.Meeting:
    return gateway_pb2.Meeting(
        meeting_id=meeting_id,
        rule_id=status.rule_id,
        title=status.title,
        region_code=status.region_code,
        starts_at=status.starts_at,
        stage=status.stage,
        chair_id=status.chair_id,
        minutes_taker_id=status.minutes_taker_id,
        required_ids=status.required_ids,
        notified_ids=status.notified_ids,
        agenda=status.agenda,
        minutes_due_at=status.minutes_due_at,
        minutes=status.minutes,
        present_ids=status.present_ids,
        absent_ids=status.absent_ids,
        history=case_events(status.history),
        **case_fields(status),
    )


def weekly_report_message(status: WeeklyReportStatus) -> gateway_pb2.WeeklyReport:
    submitted = {(s.kind, s.person_id): s for s in status.submissions}
    tallied = {(t.kind, t.person_id): t for t in status.tally}
    lines = []
    for expected in status.expected:
        key = (expected.kind, expected.person_id)
        if key in tallied:
            outcome, fine = tallied[key].outcome, tallied[key].fine_fen
        else:
            sub = submitted.get(key)
            outcome, fine = ("missing" if sub is None else "late" if sub.late else "submitted"), 0
        lines.append(
            gateway_pb2.WeeklyReportLine(
                kind=expected.kind, person_id=expected.person_id, outcome=outcome, fine_fen=fine
            )
        )
    return gateway_pb2.WeeklyReport(
        region_code=status.region_code,
        week_ending=status.week_ending,
        stage=status.stage,
        due_at=status.due_at,
        tally_at=status.tally_at,
        lines=lines,
        history=case_events(status.history),
        **case_fields(status),
    )


class DepartmentCalendarGateway(ProcessGateway):
    """Minutes of the routine meetings and the weekly reports."""

    def _meeting(self, meeting_id: str) -> str:
        if not _MEETING_ID.match(meeting_id):
            raise InvalidArgument(
                "meeting_id is the meeting's workflow id, e.g. meeting-MT-3-2026-12-02 or "
                "meeting-MT-1-east-2026-12-31"
            )
        return meeting_id

    def _meeting_handle(self, meeting_id: str) -> WorkflowHandle[MeetingWorkflow, MeetingStatus]:
        return self._client.get_workflow_handle_for(MeetingWorkflow.run, meeting_id)

    async def _answer_meeting(
        self,
        handle: WorkflowHandle[MeetingWorkflow, MeetingStatus],
        call: Awaitable[MeetingStatus],
    ) -> gateway_pb2.Meeting:
        status = await workflow_call(
            call, what=f"meeting {handle.id}", give_up_after=self._timeout, handle=handle
        )
        return meeting_message(handle.id, status)

    async def record_minutes(
        self, request: gateway_pb2.RecordMeetingMinutesRequest, caller: Caller
    ) -> gateway_pb2.Meeting:
        meeting_id = self._meeting(request.meeting_id)
        minutes = MinutesInput(
            actor_id=caller.id, text=request.minutes, present=list(request.present)
        )
        validate_minutes(minutes)
        handle = self._meeting_handle(meeting_id)
        return await self._answer_meeting(
            handle,
            handle.execute_update(
                MeetingWorkflow.record_minutes, minutes, rpc_timeout=self._timeout
            ),
        )

    async def get_meeting(
        self, request: gateway_pb2.GetMeetingRequest, caller: Caller
    ) -> gateway_pb2.Meeting:
        meeting_id = self._meeting(request.meeting_id)
        status = await self._read(
            self._meeting_handle(meeting_id),
            MeetingWorkflow.status,
            caller,
            what=f"meeting {meeting_id}",
            may_read=may_read_meeting,
            readers="a meeting is read by those it invites or tells (MT-1..MT-3)",
        )
        return meeting_message(meeting_id, status)

    def _weekly_report(self, region_code: str, week_ending: str) -> str:
        validate_week(region_code, week_ending)
        return weekly_report_id(region_code, week_ending)

    async def submit_weekly_report(
        self, request: gateway_pb2.SubmitWeeklyReportRequest, caller: Caller
    ) -> gateway_pb2.WeeklyReport:
        wf_id = self._weekly_report(request.region_code, request.week_ending)
        submission = SubmissionInput(
            actor_id=caller.id,
            kind=request.kind,
            file_reference=request.file_reference,
            sections=dict(request.sections),
            text=request.text,
        )
        validate_submission(submission)
        handle = self._client.get_workflow_handle_for(WeeklyReportWorkflow.run, wf_id)
        status = await workflow_call(
            handle.execute_update(
                WeeklyReportWorkflow.submit, submission, rpc_timeout=self._timeout
            ),
            what=f"the weekly reports {wf_id}",
            give_up_after=self._timeout,
            handle=handle,
        )
        return weekly_report_message(status)

    async def get_weekly_report(
        self, request: gateway_pb2.GetWeeklyReportRequest, caller: Caller
    ) -> gateway_pb2.WeeklyReport:
        wf_id = self._weekly_report(request.region_code, request.week_ending)
        status = await self._read(
            self._client.get_workflow_handle_for(WeeklyReportWorkflow.run, wf_id),
            WeeklyReportWorkflow.status,
            caller,
            what=f"the weekly reports {wf_id}",
            may_read=may_read_week,
            readers="the week is read by those who owe a report and those who receive and "
            "tally them (WR-1..WR-4)",
        )
        return weekly_report_message(status)
