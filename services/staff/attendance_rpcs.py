"""Attendance (AT-1, AT-2): the daily reports, the clerk's import of the HR system's export,
the month's sheet per person, and the occurrences of missing reports.

A day is due when it is a working day of the company calendar, on or after the day the person's
attendance is tracked from, and before today. It is excused by an approved leave record that is
not cancelled (LV-*), and reported by an attendance row. An occurrence of AT-2 is a run of more
than N due working days with neither, and is kept (staff_missing_report_occurrences) so that
finding it again is not a new occurrence: the days of a kept occurrence never count toward
another, even when some of them are filled in later.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import grpc
from csd.staff.v1 import staff_pb2
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.runtime.dates import parse_date, parse_month, today
from services.runtime.errors import FailedPrecondition, InvalidArgument, NotFound
from services.runtime.idempotency import run_once
from services.runtime.validation import limit_text, require_id
from services.staff import calendar_repository, repository
from services.staff.calendar import CompanyCalendar
from services.staff.models import (
    AttendanceDay,
    IdempotencyRecord,
    LeaveRecord,
    MissingReportOccurrence,
    Person,
)

S = staff_pb2
STATUSES = {
    S.ATTENDANCE_STATUS_OFFICE: "office",
    S.ATTENDANCE_STATUS_ON_SITE: "on_site",
    S.ATTENDANCE_STATUS_TRAVELLING: "travelling",
    S.ATTENDANCE_STATUS_ON_LEAVE: "on_leave",
    S.ATTENDANCE_STATUS_REST_DAY: "rest_day",
}
_STATUS_VALUES = {name: value for value, name in STATUSES.items()}
# The places that price allowances: a day on site or travelling names where.
_AT_A_PLACE = ("on_site", "travelling")
MAX_IMPORT_LINES = 20_000
MAX_RANGE_DAYS = 366
MAX_OCCURRENCE_DAYS = 200
CSV_COLUMNS = ("person_id", "date", "status", "hospital", "city", "place_region_code", "note")


@dataclass(frozen=True)
class Report:
    """A checked attendance day, before it is written."""

    person_id: str
    day: date
    status: str
    hospital: str
    city: str
    place_region_code: str
    note: str


def check_report(day: staff_pb2.AttendanceDay, *, as_of: date) -> Report:
    """A report a person could have sent: a real day not in the future, a known status, and the
    place when the status is at one."""
    require_id(day.person_id, "person_id")
    when = parse_date(day.date, "date")
    if when > as_of:
        raise InvalidArgument(
            f"date {when.isoformat()} is in the future: attendance is reported for a day that "
            "has begun"
        )
    if day.status not in STATUSES:
        raise InvalidArgument(
            "status is required: office, on_site, travelling, on_leave or rest_day"
        )
    status = STATUSES[day.status]
    limit_text(day.hospital, "hospital", limit=200)
    limit_text(day.city, "city", limit=100)
    limit_text(day.note, "note", limit=500)
    if status == "on_site" and not day.hospital.strip():
        raise InvalidArgument("a day on site names the hospital (RB-3 matches costs to it)")
    if status in _AT_A_PLACE:
        if not day.city.strip():
            raise InvalidArgument(f"a day {status.replace('_', ' ')} names the city")
        if not day.place_region_code:
            raise InvalidArgument(
                f"a day {status.replace('_', ' ')} names place_region_code: the region of the "
                "place, whose tier prices the day's allowances"
            )
        require_id(day.place_region_code, "place_region_code", length=40)
    return Report(
        day.person_id,
        when,
        status,
        day.hospital.strip(),
        day.city.strip(),
        day.place_region_code if status in _AT_A_PLACE else "",
        day.note.strip(),
    )


def day_message(row: AttendanceDay) -> staff_pb2.AttendanceDay:
    reported = row.reported_at if row.reported_at.tzinfo else row.reported_at.replace(tzinfo=UTC)
    return staff_pb2.AttendanceDay(
        person_id=row.person_id,
        date=row.day.isoformat(),
        status=_STATUS_VALUES[row.status],
        hospital=row.hospital,
        city=row.city,
        place_region_code=row.place_region_code or "",
        note=row.note,
        source=row.source,
        reported_by=row.reported_by,
        reported_at=reported.isoformat(),
    )


def parse_import(text: str, *, as_of: date) -> list[Report]:
    """The HR export, every line checked; one bad line refuses the file, naming each bad line."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != CSV_COLUMNS:
        raise InvalidArgument(f"the first line must be the header {','.join(CSV_COLUMNS)}")
    reports: list[Report] = []
    problems: list[str] = []
    seen: set[tuple[str, date]] = set()
    for number, row in enumerate(reader, start=2):
        if number - 1 > MAX_IMPORT_LINES:
            raise InvalidArgument(f"a file holds at most {MAX_IMPORT_LINES} days; split it")
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(CSV_COLUMNS):
            problems.append(f"line {number}: {len(row)} fields, not {len(CSV_COLUMNS)}")
            continue
        person, day, status, hospital, city, region, note = (c.strip() for c in row)
        try:
            report = check_report(
                S.AttendanceDay(
                    person_id=person,
                    date=day,
                    status=_STATUS_VALUES.get(status, S.ATTENDANCE_STATUS_UNSPECIFIED),
                    hospital=hospital,
                    city=city,
                    place_region_code=region,
                    note=note,
                ),
                as_of=as_of,
            )
        except InvalidArgument as err:
            problems.append(f"line {number}: {err.message}")
            continue
        if (report.person_id, report.day) in seen:
            problems.append(f"line {number}: {person} {day} appears twice in the file")
            continue
        seen.add((report.person_id, report.day))
        reports.append(report)
    if problems:
        shown = "; ".join(problems[:20]) + (
            f"; and {len(problems) - 20} more" if len(problems) > 20 else ""
        )
        raise InvalidArgument(f"the file was not imported ({len(problems)} bad lines): {shown}")
    if not reports:
        raise InvalidArgument("the file holds no attendance lines")
    return reports


async def _require_known(reports: Sequence[Report], session: AsyncSession) -> None:
    people = {r.person_id for r in reports}
    regions = {r.place_region_code for r in reports if r.place_region_code}
    known_people = set(await session.scalars(select(Person.id).where(Person.id.in_(people))))
    if missing := sorted(people - known_people):
        raise FailedPrecondition(f"not in the staff directory: {', '.join(missing[:20])}")
    for code in sorted(regions):
        if await repository.get_region(code, session=session) is None:
            raise FailedPrecondition(f"place_region_code {code!r} is not a region")


async def _write(
    reports: Sequence[Report], *, source: str, by: str, session: AsyncSession
) -> list[AttendanceDay]:
    """Insert or correct each day: the latest report of a day is the one that counts."""
    now = datetime.now(UTC)
    rows = []
    for r in reports:
        row = await session.get(AttendanceDay, (r.person_id, r.day))
        if row is None:
            row = AttendanceDay(person_id=r.person_id, day=r.day)
            session.add(row)
        row.status, row.hospital, row.city = r.status, r.hospital, r.city
        row.place_region_code = r.place_region_code or None
        row.note, row.source, row.reported_by, row.reported_at = r.note, source, by, now
        rows.append(row)
    await session.flush()
    return rows


async def due_days(
    person: Person,
    start: date,
    end: date,
    session: AsyncSession,
    calendar: CompanyCalendar | None = None,
) -> tuple[list[date], set[date], set[date]]:
    """The working days in [start, end] the person's attendance is tracked on, with the days
    reported and the days excused by approved leave among them."""
    calendar = calendar or CompanyCalendar(
        await calendar_repository.all_adjustments(session=session)
    )
    first = max(start, person.attendance_from or start)
    days = [first + timedelta(n) for n in range((end - first).days + 1)] if first <= end else []
    working = [d for d in days if calendar.is_working_day(d)]
    if not working:
        return [], set(), set()
    reported = set(
        await session.scalars(
            select(AttendanceDay.day).where(
                AttendanceDay.person_id == person.id,
                AttendanceDay.day >= working[0],
                AttendanceDay.day <= working[-1],
            )
        )
    )
    leaves = await session.scalars(
        select(LeaveRecord).where(
            LeaveRecord.person_id == person.id,
            LeaveRecord.cancelled.is_(False),
            LeaveRecord.end_day >= working[0],
            LeaveRecord.start_day <= working[-1],
        )
    )
    excused = {d for leave in leaves for d in working if leave.start_day <= d <= leave.end_day}
    return working, reported, excused


def _runs(days: Iterable[date], missing: set[date]) -> list[list[date]]:
    """Consecutive runs of missing days among `days` (working days in order)."""
    runs: list[list[date]] = []
    current: list[date] = []
    for d in days:
        if d in missing:
            current.append(d)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def occurrence_message(
    row: MissingReportOccurrence, still_missing: Iterable[date]
) -> staff_pb2.MissingReportOccurrence:
    return S.MissingReportOccurrence(
        id=row.id,
        person_id=row.person_id,
        region_code=row.region_code,
        first_day=row.first_day.isoformat(),
        last_day=row.last_day.isoformat(),
        days=[d.isoformat() for d in row.day_list()],
        still_missing=[d.isoformat() for d in still_missing],
    )


class AttendanceRpcs:
    """Mixed into StaffServicer."""

    _sessions: async_sessionmaker[AsyncSession]

    async def ReportAttendance(
        self, request: staff_pb2.ReportAttendanceRequest, context: grpc.aio.ServicerContext
    ) -> staff_pb2.AttendanceDay:
        report = check_report(request.day, as_of=today())
        by = request.reported_by or report.person_id
        require_id(by, "reported_by")

        async def apply(session: AsyncSession) -> staff_pb2.AttendanceDay:
            await _require_known([report], session)
            [row] = await _write([report], source="report", by=by, session=session)
            return day_message(row)

        return await run_once(
            self._sessions,
            IdempotencyRecord,
            key=request.idempotency_key,
            operation="ReportAttendance",
            request=request,
            response_type=S.AttendanceDay,
            apply=apply,
        )

    async def ImportAttendance(
        self, request: staff_pb2.ImportAttendanceRequest, context: grpc.aio.ServicerContext
    ) -> staff_pb2.ImportAttendanceResponse:
        require_id(request.imported_by, "imported_by")
        reports = parse_import(request.csv, as_of=today())

        async def apply(session: AsyncSession) -> staff_pb2.ImportAttendanceResponse:
            await _require_known(reports, session)
            rows = await _write(reports, source="import", by=request.imported_by, session=session)
            return S.ImportAttendanceResponse(days=len(rows))

        return await run_once(
            self._sessions,
            IdempotencyRecord,
            key=request.idempotency_key,
            operation="ImportAttendance",
            request=request,
            response_type=S.ImportAttendanceResponse,
            apply=apply,
        )

    async def ListAttendance(
        self, request: staff_pb2.ListAttendanceRequest, context: grpc.aio.ServicerContext
    ) -> staff_pb2.ListAttendanceResponse:
        if not request.person_id and not request.region_code:
            raise InvalidArgument("person_id or region_code is required")
        start = parse_date(getattr(request, "from"), "from")
        end = parse_date(request.to, "to")
        if end < start or (end - start).days >= MAX_RANGE_DAYS:
            raise InvalidArgument(f"from..to is 1 to {MAX_RANGE_DAYS} days, from first")
        query = select(AttendanceDay).where(AttendanceDay.day >= start, AttendanceDay.day <= end)
        if request.person_id:
            require_id(request.person_id, "person_id")
            query = query.where(AttendanceDay.person_id == request.person_id)
        if request.region_code:
            require_id(request.region_code, "region_code", length=40)
            members = select(Person.id).where(Person.region_code == request.region_code)
            query = query.where(AttendanceDay.person_id.in_(members))
        async with self._sessions() as session:
            rows = await session.scalars(query.order_by(AttendanceDay.person_id, AttendanceDay.day))
            return S.ListAttendanceResponse(days=[day_message(r) for r in rows])

    async def GetAttendanceSheet(
        self, request: staff_pb2.GetAttendanceSheetRequest, context: grpc.aio.ServicerContext
    ) -> staff_pb2.AttendanceSheet:
        require_id(request.person_id, "person_id")
        month = parse_month(request.month)
        as_of = parse_date(request.as_of, "as_of") if request.as_of else today()
        first = date.fromisoformat(f"{month}-01")
        last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        async with self._sessions() as session:
            person = await repository.get_person(request.person_id, session=session)
            if person is None:
                raise NotFound(f"{request.person_id!r} is not in the staff directory")
            calendar = CompanyCalendar(await calendar_repository.all_adjustments(session=session))
            working_days = sum(
                1
                for n in range((last - first).days + 1)
                if calendar.is_working_day(first + timedelta(n))
            )
            due, reported, excused = await due_days(
                person, first, min(last, as_of - timedelta(days=1)), session, calendar
            )
            rows = await session.scalars(
                select(AttendanceDay)
                .where(
                    AttendanceDay.person_id == person.id,
                    AttendanceDay.day >= first,
                    AttendanceDay.day <= last,
                )
                .order_by(AttendanceDay.day)
            )
            days = [day_message(r) for r in rows]
        missing = [d for d in due if d not in reported and d not in excused]
        return S.AttendanceSheet(
            person_id=person.id,
            month=month,
            days=days,
            on_leave=sorted(d.isoformat() for d in excused - reported),
            missing=[d.isoformat() for d in missing],
            working_days=working_days,
            complete=as_of > last and not missing and len(due) == working_days,
        )

    async def OpenMissingReports(
        self, request: staff_pb2.OpenMissingReportsRequest, context: grpc.aio.ServicerContext
    ) -> staff_pb2.OpenMissingReportsResponse:
        require_id(request.region_code, "region_code", length=40)
        as_of = parse_date(request.as_of, "as_of")
        if not 1 <= request.more_than <= 60:
            raise InvalidArgument("more_than is 1 to 60 working days (AT-2 says 8)")
        async with self._sessions() as session, session.begin():
            if await repository.get_region(request.region_code, session=session) is None:
                raise NotFound(f"region {request.region_code!r} does not exist")
            people = await session.scalars(
                select(Person).where(
                    Person.region_code == request.region_code, Person.active.is_(True)
                )
            )
            # The company calendar once for the whole region, not once per person.
            calendar = CompanyCalendar(await calendar_repository.all_adjustments(session=session))
            answer = S.OpenMissingReportsResponse()
            for person in people:
                answer.occurrences.extend(
                    await self._occurrences_of(person, as_of, request.more_than, session, calendar)
                )
            return answer

    async def _occurrences_of(
        self,
        person: Person,
        as_of: date,
        more_than: int,
        session: AsyncSession,
        calendar: CompanyCalendar,
    ) -> list[staff_pb2.MissingReportOccurrence]:
        start = person.attendance_from or as_of
        due, reported, excused = await due_days(
            person, start, as_of - timedelta(1), session, calendar
        )
        missing = {d for d in due if d not in reported and d not in excused}
        kept = list(
            await session.scalars(
                select(MissingReportOccurrence).where(
                    MissingReportOccurrence.person_id == person.id
                )
            )
        )
        counted = {d for occurrence in kept for d in occurrence.day_list()}
        for run in _runs(due, missing - counted):
            # A silence of many months is kept as several occurrences of at most
            # MAX_OCCURRENCE_DAYS, each one fine, so no row grows without bound.
            for offset in range(0, len(run), MAX_OCCURRENCE_DAYS):
                part = run[offset : offset + MAX_OCCURRENCE_DAYS]
                if len(part) > more_than:
                    row = MissingReportOccurrence.of(person, part)
                    session.add(row)
                    kept.append(row)
        await session.flush()
        open_ones = []
        for occurrence in kept:
            still = [d for d in occurrence.day_list() if d in missing]
            if still:
                open_ones.append(occurrence_message(occurrence, still))
        return open_ones

    async def GetMissingReportOccurrence(
        self,
        request: staff_pb2.GetMissingReportOccurrenceRequest,
        context: grpc.aio.ServicerContext,
    ) -> staff_pb2.MissingReportOccurrence:
        async with self._sessions() as session:
            row = await session.get(MissingReportOccurrence, request.id)
            if row is None:
                raise NotFound(f"no AT-2 occurrence {request.id!r}")
            person = await repository.get_person(row.person_id, session=session)
            assert person is not None
            days = row.day_list()
            _, reported, excused = await due_days(person, days[0], days[-1], session)
            return occurrence_message(
                row, [d for d in days if d not in reported and d not in excused]
            )
