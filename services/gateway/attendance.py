"""Attendance through the gateway (AT-1): a person reports their own day; the department clerk
(who keeps attendance, ORG-2) reports for anyone and imports the HR system's export; a month's
sheet is read by the person, their region's managers, the clerk and the department managers.

No workflow holds attendance: it is a record in the staff service, which checks every field and
every line. A retry of the same report is the same write (its idempotency key is its content);
a correction is a new report of the same day, and the latest counts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable
from typing import TypeVar

from csd.gateway.v1 import gateway_pb2
from csd.staff.v1 import staff_pb2

from services.gateway.directory import LOOKUP_DEADLINE_SECONDS
from services.gateway.identity import Caller
from services.gateway.process import ProcessGateway
from services.gateway.relay import relayed
from services.runtime import errors
from services.runtime.dates import today

T = TypeVar("T")
G, S = gateway_pb2, staff_pb2

KEEPS_ATTENDANCE = frozenset({"department_clerk"})
READS_EVERY_SHEET = frozenset({"department_clerk", "department_manager"})
READS_THEIR_REGION = frozenset({"technical_service_manager", "customer_service_manager"})
IMPORT_TIMEOUT_SECONDS = 30.0

# The staff service's statuses by their own names: ATTENDANCE_STATUS_ON_SITE is "on_site".
_PREFIX = "ATTENDANCE_STATUS_"
_NAMES = {
    value: name.removeprefix(_PREFIX).lower()
    for name, value in S.AttendanceStatus.items()
    if value != S.ATTENDANCE_STATUS_UNSPECIFIED
}
_STATUS = {name: value for value, name in _NAMES.items()}


async def _staff(call: Awaitable[T], purpose: str) -> T:
    return await relayed(call, service="staff", purpose=purpose)


def _day(day: S.AttendanceDay) -> G.AttendanceDay:
    return G.AttendanceDay(
        person_id=day.person_id,
        date=day.date,
        status=_NAMES.get(day.status, ""),
        hospital=day.hospital,
        city=day.city,
        place_region_code=day.place_region_code,
        note=day.note,
        source=day.source,
        reported_by=day.reported_by,
        reported_at=day.reported_at,
    )


def _key(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


class AttendanceGateway(ProcessGateway):
    async def report(self, request: G.ReportAttendanceRequest, caller: Caller) -> G.AttendanceDay:
        person = request.person_id or caller.id
        if person != caller.id and caller.role not in KEEPS_ATTENDANCE:
            raise errors.PermissionDenied(
                f"{caller.id} may not report attendance for {person}: each person reports "
                "their own day, and the department clerk keeps the records (AT-1)"
            )
        if request.status not in _STATUS:
            raise errors.InvalidArgument(
                f"status {request.status!r}: use one of {', '.join(_STATUS)}"
            )
        day = S.AttendanceDay(
            person_id=person,
            date=request.date or today().isoformat(),
            status=_STATUS[request.status],
            hospital=request.hospital,
            city=request.city,
            place_region_code=request.place_region_code,
            note=request.note,
        )
        key = "attendance:" + _key(caller.id, day.SerializeToString(deterministic=True).hex())
        answer = await _staff(
            self._staff.ReportAttendance(
                S.ReportAttendanceRequest(idempotency_key=key, day=day, reported_by=caller.id),
                timeout=LOOKUP_DEADLINE_SECONDS,
            ),
            "record the day",
        )
        return _day(answer)

    async def import_days(
        self, request: G.ImportAttendanceRequest, caller: Caller
    ) -> G.ImportAttendanceResponse:
        if caller.role not in KEEPS_ATTENDANCE:
            raise errors.PermissionDenied(
                f"{caller.id} may not import attendance: the department clerk does (AT-1)"
            )
        answer = await _staff(
            self._staff.ImportAttendance(
                S.ImportAttendanceRequest(
                    idempotency_key="attendance-import:" + _key(caller.id, request.csv),
                    csv=request.csv,
                    imported_by=caller.id,
                ),
                timeout=IMPORT_TIMEOUT_SECONDS,
            ),
            "import the file",
        )
        return G.ImportAttendanceResponse(days=answer.days)

    async def sheet(
        self, request: G.GetAttendanceSheetRequest, caller: Caller
    ) -> G.AttendanceSheet:
        person_id = request.person_id or caller.id
        if person_id != caller.id and caller.role not in READS_EVERY_SHEET:
            person = await _staff(
                self._staff.GetPerson(
                    S.GetPersonRequest(id=person_id), timeout=LOOKUP_DEADLINE_SECONDS
                ),
                "find the person",
            )
            if caller.role not in READS_THEIR_REGION or person.region_code != caller.region_code:
                raise errors.PermissionDenied(
                    f"{caller.id} may not read {person_id}'s attendance: it is read by the "
                    "person, their region's managers, the clerk and the department managers"
                )
        sheet = await _staff(
            self._staff.GetAttendanceSheet(
                S.GetAttendanceSheetRequest(person_id=person_id, month=request.month),
                timeout=LOOKUP_DEADLINE_SECONDS,
            ),
            "read the sheet",
        )
        return G.AttendanceSheet(
            person_id=sheet.person_id,
            month=sheet.month,
            days=[_day(d) for d in sheet.days],
            on_leave=list(sheet.on_leave),
            missing=list(sheet.missing),
            working_days=sheet.working_days,
            complete=sheet.complete,
        )
