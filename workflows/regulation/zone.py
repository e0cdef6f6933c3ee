"""The company's time zone, and how an instant is shown to a person."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

COMPANY_ZONE = ZoneInfo("Asia/Shanghai")


def shown(at: datetime) -> str:
    """`at` as a person in the department reads it: RFC 3339 in Asia/Shanghai, with +08:00.

    Every instant in a reply, a mail or a case file goes through here, so none is in UTC.
    """
    if at.tzinfo is None:
        raise ValueError("a naive datetime has no instant to show")
    return at.astimezone(COMPANY_ZONE).isoformat()
