"""When the next occurrence of a department cadence falls, on the company calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import grpc
from csd.staff.v1 import staff_pb2, staff_pb2_grpc
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.grpc_status import CALL_DEADLINE_SECONDS, call
from services.runtime.dates import parse_date
from services.staff.cadence import CADENCES, next_occurrence
from services.staff.calendar import CompanyCalendar, YearAdjustments


@dataclass
class NextOccurrenceInput:
    cadence: str  # a name from services/staff/cadence.py
    after: str  # RFC 3339


@dataclass
class NextOccurrenceResult:
    at: str  # RFC 3339, Asia/Shanghai


class CadenceActivities:
    """Occurrences with the company's published schedules applied (the staff service's data)."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = staff_pb2_grpc.StaffServiceStub(channel)

    @activity.defn(name="cadence.next_occurrence")
    async def next_occurrence(self, input: NextOccurrenceInput) -> NextOccurrenceResult:
        cadence = next((c for c in CADENCES if c.name == input.cadence), None)
        if cadence is None:
            raise ApplicationError(
                f"unknown cadence {input.cadence!r}", type="INVALID_ARGUMENT", non_retryable=True
            )
        after = datetime.fromisoformat(input.after)
        adjustments: dict[int, YearAdjustments] = {}
        for year in (after.year, after.year + 1):
            loaded = await call(
                self._stub.GetCalendarYear(
                    staff_pb2.GetCalendarYearRequest(year=year), timeout=CALL_DEADLINE_SECONDS
                )
            )
            if loaded.schedule == "company":
                adjustments[year] = YearAdjustments(
                    year,
                    days_off=frozenset(parse_date(d, "day") for d in loaded.days_off),
                    workdays=frozenset(parse_date(d, "day") for d in loaded.workdays),
                    source=loaded.source,
                )
        at = next_occurrence(cadence, after, CompanyCalendar(adjustments))
        return NextOccurrenceResult(at=at.isoformat())
