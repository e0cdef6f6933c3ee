"""The operators' commands: what only the admin identity may change (issue 12's allow-lists).

`csd calendar publish` loads a year's official schedule (the State Council's notice: extra days
off and make-up workdays) into the company calendar; `csd policy publish` publishes the
regulation package's allowance tables to finance. Both present the admin certificate
(`operator_tls`) and are idempotent: the same content again changes nothing.
"""

from __future__ import annotations

import hashlib

from csd.finance.v1 import finance_pb2, finance_pb2_grpc
from csd.staff.v1 import staff_pb2, staff_pb2_grpc

from services.cli.credentials import operator_tls
from services.finance.regulation import publish_regulation_policy
from services.runtime.settings import Settings
from services.runtime.tls import FINANCE, STAFF, open_channel

TIMEOUT_SECONDS = 10


async def publish_calendar_year(
    settings: Settings, *, year: int, days_off: list[str], workdays: list[str], source: str
) -> staff_pb2.CalendarYear:
    content = "|".join([str(year), ",".join(sorted(days_off)), ",".join(sorted(workdays)), source])
    key = f"calendar:{year}:{hashlib.sha256(content.encode()).hexdigest()[:16]}"
    async with open_channel(settings.staff_address, to=STAFF, tls=operator_tls(settings)) as ch:
        answer: staff_pb2.CalendarYear = await staff_pb2_grpc.StaffServiceStub(
            ch
        ).PublishCalendarYear(
            staff_pb2.PublishCalendarYearRequest(
                idempotency_key=key,
                year=year,
                days_off=days_off,
                workdays=workdays,
                source=source,
            ),
            timeout=TIMEOUT_SECONDS,
        )
    return answer


async def publish_policy(settings: Settings) -> finance_pb2.PolicyVersion:
    tls = operator_tls(settings)
    async with open_channel(settings.finance_address, to=FINANCE, tls=tls) as channel:
        return await publish_regulation_policy(finance_pb2_grpc.FinanceServiceStub(channel))


def days(text: str) -> list[str]:
    """A comma-separated list of YYYY-MM-DD, as typed on the command line."""
    return [d.strip() for d in text.split(",") if d.strip()]
