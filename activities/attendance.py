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


@dataclass
class AbsenceInput:
    idempotency_key: str
    person_id: str
    days: list[str]
    reference: str
    recorded_by: str


@dataclass
class AbsenceCountInput:
    person_id: str
    as_of: str
    window_months: int


@dataclass
class AbsenceTotal:
    person_id: str
    days: int
    window_from: str
    absent_days: list[str] = field(default_factory=list)


def _total(message: staff_pb2.AbsenceCount) -> AbsenceTotal:
    return AbsenceTotal(
        message.person_id, message.days, message.window_from, list(message.absent_days)
    )


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

    @activity.defn(name="attendance.record_absence")
    async def record_absence(self, input: AbsenceInput) -> AbsenceTotal:
        answer = await call(
            self._stub.RecordAbsence(
                staff_pb2.RecordAbsenceRequest(
                    idempotency_key=input.idempotency_key,
                    person_id=input.person_id,
                    days=input.days,
                    reference=input.reference,
                    recorded_by=input.recorded_by,
                ),
                timeout=CALL_DEADLINE_SECONDS,
            )
        )
        return _total(answer)

    @activity.defn(name="attendance.count_absence")
    async def count_absence(self, input: AbsenceCountInput) -> AbsenceTotal:
        answer = await call(
            self._stub.CountAbsence(
                staff_pb2.CountAbsenceRequest(
                    person_id=input.person_id,
                    as_of=input.as_of,
                    window_months=input.window_months,
                ),
                timeout=CALL_DEADLINE_SECONDS,
            )
        )
        return _total(answer)
