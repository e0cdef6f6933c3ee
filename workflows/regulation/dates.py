"""Days and instants as the rules take them from a caller: one reading everywhere."""

from __future__ import annotations

import re
from datetime import date, datetime

from workflows.regulation.refusals import InvalidInput

# Only the plain calendar form: date.fromisoformat alone would also take week dates and compact
# forms, which no caller means and no person reads back easily.
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def day(value: str, field: str) -> date:
    """A calendar date, YYYY-MM-DD."""
    if _DAY.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidInput(f"{field} {value[:40]!r} is not a date: use YYYY-MM-DD, e.g. 2024-04-01")


def instant(value: str, field: str) -> datetime:
    """An RFC 3339 instant, with its offset."""
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{field} {value[:40]!r} is not an RFC 3339 instant") from None
    if at.tzinfo is None:
        raise InvalidInput(f"{field} {value[:40]!r} has no offset: it names no instant")
    return at
