"""Leave dates for tests that run on any future day: the first plain week far enough ahead.

A plain week has working Monday to Friday, a working Friday before it, and no make-up weekend
day around it, so expected counts and times are simple arithmetic in the tests.
"""

from __future__ import annotations

from datetime import date, timedelta

from services.runtime.dates import today
from services.staff.calendar import CompanyCalendar


def plain_monday(*, weeks_ahead: int = 2) -> date:
    calendar = CompanyCalendar()
    day = today() + timedelta(weeks=weeks_ahead)
    day += timedelta(days=(7 - day.weekday()) % 7)
    for _ in range(60):
        previous_friday = day - timedelta(days=3)
        week = [previous_friday + timedelta(days=n) for n in range(11)]  # Fri..the Monday after
        if all(calendar.is_working_day(d) == (d.weekday() < 5) for d in week):
            return day
        day += timedelta(weeks=1)
    raise AssertionError("no plain week in the next year")
