"""Dates and months as csd-ops reads them, in the company's zone (Asia/Shanghai).

Only the plain forms are accepted (YYYY-MM-DD, YYYY-MM): `date.fromisoformat` alone would also
take week dates and compact forms, which no caller means and no person reads back easily.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from services.runtime.errors import InvalidArgument
from workflows.regulation import InvalidInput, dates
from workflows.regulation.zone import COMPANY_ZONE

__all__ = ["COMPANY_ZONE", "as_of_date", "parse_date", "parse_month", "rfc3339", "today"]

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def today() -> date:
    """Today in the company's zone: the day a person in the department would name."""
    return datetime.now(COMPANY_ZONE).date()


def parse_date(text: str, what: str) -> date:
    """An ISO calendar date, YYYY-MM-DD: the regulation's one reading of a day."""
    try:
        return dates.day(text, what)
    except InvalidInput as err:
        raise InvalidArgument(err.message) from None


def as_of_date(text: str) -> date:
    """The date a question is asked for; empty means today in Asia/Shanghai."""
    return parse_date(text, "as_of") if text else today()


# The months the books may name: the department's records, not the whole calendar.
FIRST_YEAR, LAST_YEAR = 2000, 2099


def parse_month(text: str, what: str = "month") -> str:
    """A calendar month, YYYY-MM, from 2000-01 to 2099-12, returned as given."""
    found = _MONTH.match(text)
    if found is None or int(found[1]) < 1 or not 1 <= int(found[2]) <= 12:
        raise InvalidArgument(f"{what} {text!r} is not a month: use YYYY-MM, e.g. 2024-04")
    if not FIRST_YEAR <= int(found[1]) <= LAST_YEAR:
        raise InvalidArgument(f"{what} {text} is outside {FIRST_YEAR}-01..{LAST_YEAR}-12")
    return text


def rfc3339(value: datetime | None) -> str:
    """UTC with microseconds and a Z, e.g. 2024-04-01T02:03:04.000005Z; "" for no time. SQLite
    hands back naive datetimes; they were stored as UTC."""
    if value is None:
        return ""
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
