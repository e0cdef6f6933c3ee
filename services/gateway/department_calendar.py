"""Gateway handling of the department calendar's processes: meeting minutes (MT-1..MT-3) and
weekly reports (WR-1..WR-4). The schedules start them; people act on them here."""

from __future__ import annotations

import re
from collections.abc import Awaitable

from csd.gateway.v1 import gateway_pb2

from services.gateway.identity import Caller
from services.gateway.process import ProcessGateway
from services.gateway.workflow_errors import workflow_call
from services.runtime.dates import parse_date
from services.runtime.errors import InvalidArgument
from services.runtime.validation import limit_text, require_id, require_text
from workflows.meeting import MAX_MINUTES, MeetingStatus, MeetingWorkflow, MinutesInput
from workflows.weekly_report import (
    MAX_TEXT,
    SubmissionInput,
    WeeklyReportStatus,
    WeeklyReportWorkflow,
)
from workflows.weekly_report import workflow_id as weekly_report_id

_MEETING_ID = re.compile(r"^meeting-MT-[123](-[a-z0-9._-]{1,40})?-\d{4}-\d{2}-\d{2}$")
MAX_PRESENT = 200


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

    async def _answer_meeting(
        self, meeting_id: str, call: Awaitable[MeetingStatus]
    ) -> gateway_pb2.Meeting:
        status = await workflow_call(
            call, what=f"meeting {meeting_id}", give_up_after=self._timeout
        )
        return meeting_message(meeting_id, status)

    async def record_minutes(
        self, request: gateway_pb2.RecordMeetingMinutesRequest, caller: Caller
    ) -> gateway_pb2.Meeting:
        meeting_id = self._meeting(request.meeting_id)
        minutes = require_text(request.minutes, "minutes", limit=MAX_MINUTES)
        if len(request.present) > MAX_PRESENT:
            raise InvalidArgument(f"at most {MAX_PRESENT} attendees")
        present = [require_id(p, "present") for p in request.present]
        handle = self._client.get_workflow_handle_for(MeetingWorkflow.run, meeting_id)
        return await self._answer_meeting(
            meeting_id,
            handle.execute_update(
                MeetingWorkflow.record_minutes,
                MinutesInput(actor_id=caller.id, text=minutes, present=present),
            ),
        )

    async def get_meeting(
        self, request: gateway_pb2.GetMeetingRequest, caller: Caller
    ) -> gateway_pb2.Meeting:
        meeting_id = self._meeting(request.meeting_id)
        handle = self._client.get_workflow_handle_for(MeetingWorkflow.run, meeting_id)
        return await self._answer_meeting(meeting_id, handle.query(MeetingWorkflow.status))

    def _weekly_report(self, region_code: str, week_ending: str) -> str:
        require_id(region_code, "region_code", length=40)
        sunday = parse_date(week_ending, "week_ending")
        if sunday.weekday() != 6:
            raise InvalidArgument(f"week_ending {week_ending} is not a Sunday")
        return weekly_report_id(region_code, sunday.isoformat())

    async def submit_weekly_report(
        self, request: gateway_pb2.SubmitWeeklyReportRequest, caller: Caller
    ) -> gateway_pb2.WeeklyReport:
        wf_id = self._weekly_report(request.region_code, request.week_ending)
        sections = {
            limit_text(k, "section name", limit=40): limit_text(v, "section", limit=MAX_TEXT)
            for k, v in request.sections.items()
        }
        submission = SubmissionInput(
            actor_id=caller.id,
            kind=require_text(request.kind, "kind", limit=40),
            file_reference=limit_text(request.file_reference.strip(), "file_reference", limit=500),
            sections=sections,
            text=limit_text(request.text, "text", limit=MAX_TEXT),
        )
        handle = self._client.get_workflow_handle_for(WeeklyReportWorkflow.run, wf_id)
        status = await workflow_call(
            handle.execute_update(WeeklyReportWorkflow.submit, submission),
            what=f"the weekly reports {wf_id}",
            give_up_after=self._timeout,
        )
        return weekly_report_message(status)

    async def get_weekly_report(
        self, request: gateway_pb2.GetWeeklyReportRequest, caller: Caller
    ) -> gateway_pb2.WeeklyReport:
        wf_id = self._weekly_report(request.region_code, request.week_ending)
        handle = self._client.get_workflow_handle_for(WeeklyReportWorkflow.run, wf_id)
        status = await workflow_call(
            handle.query(WeeklyReportWorkflow.status),
            what=f"the weekly reports {wf_id}",
            give_up_after=self._timeout,
        )
        return weekly_report_message(status)
