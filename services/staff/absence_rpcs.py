"""Absence (AT-3, AT-4): the days spot checks found a person not at their post, kept once per
day, and counted over a window for AT-4's "3 days of absence in total"."""

from __future__ import annotations

from calendar import monthrange
from datetime import UTC, date, datetime

import grpc
from csd.staff.v1 import staff_pb2
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.runtime.dates import parse_date, today
from services.runtime.errors import FailedPrecondition, InvalidArgument
from services.runtime.idempotency import run_once
from services.runtime.validation import require_id, require_text
from services.staff import repository
from services.staff.models import Absence, IdempotencyRecord

MAX_DAYS = 31
MAX_WINDOW_MONTHS = 36


def window_start(as_of: date, months: int) -> date:
    """The day `months` months before `as_of` (clamped to a shorter month's last day); the
    window is the days after it, up to and including `as_of`."""
    year, month = divmod(as_of.year * 12 + as_of.month - 1 - months, 12)
    month += 1
    return date(year, month, min(as_of.day, monthrange(year, month)[1]))


async def _count(
    session: AsyncSession, person_id: str, as_of: date, months: int
) -> staff_pb2.AbsenceCount:
    start = window_start(as_of, months)
    days = list(
        await session.scalars(
            select(Absence.day)
            .where(Absence.person_id == person_id, Absence.day > start, Absence.day <= as_of)
            .order_by(Absence.day)
        )
    )
    return staff_pb2.AbsenceCount(
        person_id=person_id,
        days=len(days),
        window_from=start.isoformat(),
        absent_days=[d.isoformat() for d in days],
    )


class AbsenceRpcs:
    """Mixed into StaffServicer."""

    _sessions: async_sessionmaker[AsyncSession]

    async def RecordAbsence(
        self, request: staff_pb2.RecordAbsenceRequest, context: grpc.aio.ServicerContext
    ) -> staff_pb2.AbsenceCount:
        require_id(request.person_id, "person_id")
        require_id(request.recorded_by, "recorded_by")
        reference = require_text(request.reference, "reference", limit=120)
        if not 1 <= len(request.days) <= MAX_DAYS:
            raise InvalidArgument(f"days: 1 to {MAX_DAYS} days not at post")
        days = sorted({parse_date(d, "days") for d in request.days})
        if days[-1] > today():
            raise InvalidArgument(f"{days[-1].isoformat()} is in the future: nobody was absent yet")

        async def apply(session: AsyncSession) -> staff_pb2.AbsenceCount:
            if await repository.get_person(request.person_id, session=session) is None:
                raise FailedPrecondition(f"{request.person_id!r} is not in the staff directory")
            now = datetime.now(UTC)
            for day in days:
                if await session.get(Absence, (request.person_id, day)) is None:
                    session.add(
                        Absence(
                            person_id=request.person_id,
                            day=day,
                            reference=reference,
                            recorded_by=request.recorded_by,
                            recorded_at=now,
                        )
                    )
            await session.flush()
            return await _count(session, request.person_id, days[-1], 12)

        return await run_once(
            self._sessions,
            IdempotencyRecord,
            key=request.idempotency_key,
            operation="RecordAbsence",
            request=request,
            response_type=staff_pb2.AbsenceCount,
            apply=apply,
        )

    async def CountAbsence(
        self, request: staff_pb2.CountAbsenceRequest, context: grpc.aio.ServicerContext
    ) -> staff_pb2.AbsenceCount:
        require_id(request.person_id, "person_id")
        as_of = parse_date(request.as_of, "as_of") if request.as_of else today()
        if not 1 <= request.window_months <= MAX_WINDOW_MONTHS:
            raise InvalidArgument(f"window_months is 1 to {MAX_WINDOW_MONTHS} (AT-4 says 12)")
        async with self._sessions() as session:
            return await _count(session, request.person_id, as_of, request.window_months)
