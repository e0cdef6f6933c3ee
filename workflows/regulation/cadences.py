"""The department's recurring occurrences (routine meetings, reports, digests, requirement
syncs) as rule data: a nominal day, a local time in Asia/Shanghai and what a holiday does to it.

The concrete instant of an occurrence depends on the company's published holiday schedule, which
only the staff service holds: its calendar engine (services/staff/cadence.py) applies these
definitions and answers `NextOccurrence`. Nothing here knows a holiday.
"""

from __future__ import annotations

import calendar as gregorian
from dataclasses import dataclass
from datetime import date, time, timedelta
from enum import Enum
from typing import Literal

HolidayRule = Literal["previous", "next"]

MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = range(7)
ALL_MONTHS = tuple(range(1, 13))


class Recurrence(Enum):
    """How a cadence's nominal days are chosen."""

    # Every day of `weekdays` (0 = Monday).
    WEEKLY = "weekly"
    # The day `day_of_month` of each month in `months`.
    MONTH_DAY = "month_day"
    # The last `weekdays[0]` of each month in `months`.
    LAST_WEEKDAY_OF_MONTH = "last_weekday_of_month"


@dataclass(frozen=True)
class Cadence:
    """A recurring occurrence: its nominal days, local time and holiday rule.

    `weekdays` is used by WEEKLY (every one of them) and LAST_WEEKDAY_OF_MONTH (its first),
    `day_of_month` by MONTH_DAY, `months` by the monthly kinds. When the nominal day is not a
    working day the occurrence moves to the previous or next working day (`on_holiday`), unless
    `shift_on_holiday` is false.
    """

    name: str
    rule_id: str
    recurrence: Recurrence
    at: time
    on_holiday: HolidayRule = "next"
    shift_on_holiday: bool = True
    weekdays: tuple[int, ...] = (MONDAY,)
    day_of_month: int = 1
    months: tuple[int, ...] = ALL_MONTHS

    def __post_init__(self) -> None:
        # Rule data may come from configuration, where the Literal type is not checked.
        if self.on_holiday not in ("previous", "next"):
            raise ValueError(f"{self.name}: on_holiday must be 'previous' or 'next'")
        if not self.weekdays or any(not 0 <= d <= 6 for d in self.weekdays):
            raise ValueError(f"{self.name}: weekdays must be 0 (Monday) to 6 (Sunday)")
        if not 1 <= self.day_of_month <= 28:
            # A day every month has, so no month silently lacks an occurrence.
            raise ValueError(f"{self.name}: day_of_month must be 1 to 28")
        if not self.months or any(not 1 <= m <= 12 for m in self.months):
            raise ValueError(f"{self.name}: months must be a non-empty selection of 1 to 12")
        if self.at.tzinfo is not None:
            raise ValueError(f"{self.name}: `at` is a local Asia/Shanghai time, without a zone")

    def nominal_days(self, start: date, end: date) -> list[date]:
        """The nominal days in [start, end], before any holiday rule, in order."""
        if self.recurrence is Recurrence.WEEKLY:
            days: list[date] = []
            for weekday in self.weekdays:
                first = start + timedelta(days=(weekday - start.weekday()) % 7)
                days += [first + timedelta(weeks=n) for n in range((end - first).days // 7 + 1)]
            return sorted(d for d in days if d <= end)
        days = []
        year, month = start.year, start.month
        while (year, month) <= (end.year, end.month):
            if month in self.months:
                day = self._day_in_month(year, month)
                if start <= day <= end:
                    days.append(day)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return days

    def _day_in_month(self, year: int, month: int) -> date:
        if self.recurrence is Recurrence.MONTH_DAY:
            return date(year, month, self.day_of_month)
        last = date(year, month, gregorian.monthrange(year, month)[1])
        return last - timedelta(days=(last.weekday() - self.weekdays[0]) % 7)


# The cadences' names, as the planner, the schedules and NextOccurrence name them.
MT1 = "mt1-regional-monthly"
MT2 = "mt2-regional-quarterly"
MT3 = "mt3-customer-analysis"
WR_DUE = "wr2-regional-weekly-report-due"
WR3_DUE = "wr3-customer-service-weekly-report-due"
WR_TALLY = "wr4-weekly-report-tally"
RQ5 = "rq5-requirement-status-email"
RQ6 = "rq6-requirement-monthly-briefing"
RQ2_SYNC = "rq2-requirement-sync"
PAY2 = "pay2-monthly-settlement"
CS2 = "cs2-satisfaction-survey"

CADENCES_2024: tuple[Cadence, ...] = (
    # MT-1 "last week of each month, an afternoon". The last week is the Monday-start week that
    # holds the month's last day, and the meeting is on its Thursday, or on the previous week's
    # Thursday when that one falls in the next month (a month ending Monday to Wednesday): that
    # is exactly the month's last Thursday. Thursday leaves Friday for the minutes; a holiday
    # moves it earlier so it stays in the month being summarised.
    Cadence(
        name=MT1,
        rule_id="MT-1",
        recurrence=Recurrence.LAST_WEEKDAY_OF_MONTH,
        weekdays=(THURSDAY,),
        at=time(14, 0),
        on_holiday="previous",
    ),
    # MT-2: "on the 2nd of the month after the quarter".
    Cadence(
        name=MT2,
        rule_id="MT-2",
        recurrence=Recurrence.MONTH_DAY,
        day_of_month=2,
        months=(1, 4, 7, 10),
        at=time(10, 0),
        on_holiday="next",
    ),
    # MT-3: "weekly, Wednesday evening".
    Cadence(
        name=MT3,
        rule_id="MT-3",
        recurrence=Recurrence.WEEKLY,
        weekdays=(WEDNESDAY,),
        at=time(19, 0),
        on_holiday="next",
    ),
    # WR-2 and WR-3: "by Sunday". A Sunday is never a working day, yet the deadline stays: the
    # reports are due by the end of that Sunday whatever the calendar says.
    Cadence(
        name=WR_DUE,
        rule_id="WR-2",
        recurrence=Recurrence.WEEKLY,
        weekdays=(SUNDAY,),
        at=time(23, 59, 59),
        shift_on_holiday=False,
    ),
    Cadence(
        name=WR3_DUE,
        rule_id="WR-3",
        recurrence=Recurrence.WEEKLY,
        weekdays=(SUNDAY,),
        at=time(23, 59, 59),
        shift_on_holiday=False,
    ),
    # WR-4: "every Monday the clerk tallies"; the clerk cannot tally on a day off.
    Cadence(
        name=WR_TALLY,
        rule_id="WR-4",
        recurrence=Recurrence.WEEKLY,
        weekdays=(MONDAY,),
        at=time(10, 0),
        on_holiday="next",
    ),
    # RQ-5: "every Friday"; a holiday Friday sends it before the break, not after.
    Cadence(
        name=RQ5,
        rule_id="RQ-5",
        recurrence=Recurrence.WEEKLY,
        weekdays=(FRIDAY,),
        at=time(16, 0),
        on_holiday="previous",
    ),
    # RQ-6: "at the start of each month": the 1st, moved to the next working day, is the
    # month's first working day.
    Cadence(
        name=RQ6,
        rule_id="RQ-6",
        recurrence=Recurrence.MONTH_DAY,
        day_of_month=1,
        at=time(10, 0),
        on_holiday="next",
    ),
    # PAY-2: "settled monthly". The source names no day: the 5th at 10:00 (the next working day
    # when it is not one) leaves the first working days of the month for the last daily reports
    # (AT-2's backfill) and the month's claims before the month before is closed.
    Cadence(
        name=PAY2,
        rule_id="PAY-2",
        recurrence=Recurrence.MONTH_DAY,
        day_of_month=5,
        at=time(10, 0),
        on_holiday="next",
    ),
    # CS-2: "satisfaction surveys and revisits per a separate procedure" (not in the source):
    # every hospital under maintenance is surveyed each quarter, from the 10th of its last
    # month at 10:00 (the next working day), after MT-2 has looked back on the quarter before.
    Cadence(
        name=CS2,
        rule_id="CS-2",
        recurrence=Recurrence.MONTH_DAY,
        day_of_month=10,
        months=(3, 6, 9, 12),
        at=time(10, 0),
        on_holiday="next",
    ),
    # RQ-2: accepted requirements are discussed with R&D and testing every Monday and Thursday
    # at 10:00; a sync on a holiday moves to the next working day.
    Cadence(
        name=RQ2_SYNC,
        rule_id="RQ-2",
        recurrence=Recurrence.WEEKLY,
        weekdays=(MONDAY, THURSDAY),
        at=time(10, 0),
        on_holiday="next",
    ),
)
