"""Activities asking the staff service about attendance (AT-1, AT-2)."""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc
from csd.staff.v1 import staff_pb2, staff_pb2_grpc
from temporalio import activity

from activities.grpc_status import CALL_DEADLINE_SECONDS, call


@dataclass
class OpenMissingReportsInput:
    region_code: str
    as_of: str  # YYYY-MM-DD (Asia/Shanghai): days before it are due
    more_than: int


@dataclass
class MissingReports:
    """One AT-2 occurrence: a run of working days without a report."""

    id: str
    person_id: str
    region_code: str
    first_day: str
    last_day: str
    days: list[str] = field(default_factory=list)
    still_missing: list[str] = field(default_factory=list)


@dataclass
class OccurrenceInput:
    id: str


def _occurrence(message: staff_pb2.MissingReportOccurrence) -> MissingReports:
    return MissingReports(
        id=message.id,
        person_id=message.person_id,
        region_code=message.region_code,
        first_day=message.first_day,
        last_day=message.last_day,
        days=list(message.days),
        still_missing=list(message.still_missing),
    )


class AttendanceActivities:
    """The occurrences of missing reports: found (and kept) by the staff service."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = staff_pb2_grpc.StaffServiceStub(channel)

    @activity.defn(name="attendance.open_missing_reports")
    async def open_missing_reports(self, input: OpenMissingReportsInput) -> list[MissingReports]:
        answer = await call(
            self._stub.OpenMissingReports(
                staff_pb2.OpenMissingReportsRequest(
                    region_code=input.region_code, as_of=input.as_of, more_than=input.more_than
                ),
                timeout=CALL_DEADLINE_SECONDS,
            )
        )
        return [_occurrence(o) for o in answer.occurrences]

    @activity.defn(name="attendance.missing_reports")
    async def missing_reports(self, input: OccurrenceInput) -> MissingReports:
        answer = await call(
            self._stub.GetMissingReportOccurrence(
                staff_pb2.GetMissingReportOccurrenceRequest(id=input.id),
                timeout=CALL_DEADLINE_SECONDS,
            )
        )
        return _occurrence(answer)
