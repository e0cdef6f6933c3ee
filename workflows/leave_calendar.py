"""When a half-day of leave begins, in the company's zone: the staff calendar's working hours,
pure arithmetic and so safe in workflow code."""

from __future__ import annotations

from datetime import date, datetime

from services.staff.calendar import Half, HalfDay


def leave_starts_at(start_date: str, start_half: str) -> datetime:
    return HalfDay(date.fromisoformat(start_date), Half(start_half)).starts_at()
