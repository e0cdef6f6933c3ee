"""When a half-day begins, in the company's zone; pure arithmetic, safe in workflow code."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

COMPANY_ZONE = ZoneInfo("Asia/Shanghai")
# The company's half-days begin at 09:00 and 13:00 (services/staff/calendar.py).
HALF_DAY_BEGINS = {"am": time(9, 0), "pm": time(13, 0)}


def leave_starts_at(start_date: str, start_half: str) -> datetime:
    return datetime.combine(
        date.fromisoformat(start_date), HALF_DAY_BEGINS[start_half], tzinfo=COMPANY_ZONE
    )
