"""The clerk's leave records (LV-1, LV-3, LV-4): written once per approved request, cancelled
when the requester withdraws before the leave starts, read by attendance (AT-*)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import grpc
from csd.staff.v1 import staff_pb2
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.runtime.dates import parse_date
from services.runtime.errors import FailedPrecondition, InvalidArgument, NotFound
from services.runtime.idempotency import run_once
from services.runtime.validation import limit_text, require_id, require_text
from services.staff import repository
from services.staff.calendar import Half, HalfDay
from services.staff.calendar_rpcs import half_day, half_day_message
from services.staff.models import IdempotencyRecord, LeaveRecord

LEAVE_RULES = ("LV-1", "LV-3", "LV-4")


def record_message(row: LeaveRecord) -> staff_pb2.LeaveRecord:
    recorded = row.recorded_at if row.recorded_at.tzinfo else row.recorded_at.replace(tzinfo=UTC)
    return staff_pb2.LeaveRecord(
        id=row.id,
        reference=row.reference,
        person_id=row.person_id,
        leave_type=row.leave_type,
        start=half_day_message(HalfDay(row.start_day, Half(row.start_half))),
        end=half_day_message(HalfDay(row.end_day, Half(row.end_half))),
        half_days=row.half_days,
        approved_by=row.approved_by,
        rule_id=row.rule_id,
        recorded_at=recorded.isoformat(),
        cancelled=row.cancelled,
        cancel_reason=row.cancel_reason,
    )


async def _by_reference(reference: str, session: AsyncSession) -> LeaveRecord | None:
    query = select(LeaveRecord).where(LeaveRecord.reference == reference)
    return (await session.scalars(query)).first()


class LeaveRecordRpcs:
    """Mixed into StaffServicer."""

    _sessions: async_sessionmaker[AsyncSession]

    async def RecordLeave(
        self, request: staff_pb2.RecordLeaveRequest, context: grpc.aio.ServicerContext
    ) -> staff_pb2.LeaveRecord:
        r = request.record
        reference = require_text(r.reference, "reference", limit=120)
        require_id(r.person_id, "person_id")
        require_id(r.approved_by, "approved_by")
        leave_type = require_text(r.leave_type, "leave_type", limit=40)
        start = half_day(r.start, "start", default=Half.AM)
        end = half_day(r.end, "end", default=Half.PM)
        if end.key() < start.key():
            raise InvalidArgument("the leave ends before it starts")
        if r.half_days < 1:
            raise InvalidArgument("half_days must be at least 1")
        if r.rule_id not in LEAVE_RULES:
            raise InvalidArgument(f"rule_id must be one of {', '.join(LEAVE_RULES)}")

        async def apply(session: AsyncSession) -> staff_pb2.LeaveRecord:
            for who in (r.person_id, r.approved_by):
                if await repository.get_person(who, session=session) is None:
                    raise NotFound(f"{who!r} is not in the staff directory")
            if await _by_reference(reference, session) is not None:
                # The unique reference still decides a race; this gives the usual case its words.
                raise FailedPrecondition(
                    f"leave {reference} is already recorded; a retry must reuse its idempotency key"
                )
            row = LeaveRecord(
                id=str(uuid.uuid4()),
                reference=reference,
                person_id=r.person_id,
                leave_type=leave_type,
                start_day=start.day,
                start_half=start.half.value,
                end_day=end.day,
                end_half=end.half.value,
                half_days=r.half_days,
                approved_by=r.approved_by,
                rule_id=r.rule_id,
                recorded_at=datetime.now(UTC),
                cancelled=False,
                cancel_reason="",
            )
            session.add(row)
            await session.flush()
            return record_message(row)

        return await run_once(
            self._sessions,
            IdempotencyRecord,
            key=request.idempotency_key,
            operation="RecordLeave",
            request=request,
            response_type=staff_pb2.LeaveRecord,
            apply=apply,
        )

    async def CancelLeaveRecord(
        self, request: staff_pb2.CancelLeaveRecordRequest, context: grpc.aio.ServicerContext
    ) -> staff_pb2.LeaveRecord:
        reference = require_text(request.reference, "reference", limit=120)
        reason = limit_text(request.reason.strip(), "reason", limit=500)

        async def apply(session: AsyncSession) -> staff_pb2.LeaveRecord:
            row = await _by_reference(reference, session)
            if row is None:
                raise NotFound(f"no leave is recorded for {reference!r}")
            if row.cancelled:
                raise FailedPrecondition(f"the leave {reference} is already cancelled")
            row.cancelled = True
            row.cancel_reason = reason
            await session.flush()
            return record_message(row)

        return await run_once(
            self._sessions,
            IdempotencyRecord,
            key=request.idempotency_key,
            operation="CancelLeaveRecord",
            request=request,
            response_type=staff_pb2.LeaveRecord,
            apply=apply,
        )

    async def ListLeaveRecords(
        self, request: staff_pb2.ListLeaveRecordsRequest, context: grpc.aio.ServicerContext
    ) -> staff_pb2.ListLeaveRecordsResponse:
        query = select(LeaveRecord).order_by(LeaveRecord.start_day, LeaveRecord.id)
        if request.person_id:
            query = query.where(LeaveRecord.person_id == request.person_id)
        if request.to:
            query = query.where(LeaveRecord.start_day <= parse_date(request.to, "to"))
        if getattr(request, "from"):
            query = query.where(LeaveRecord.end_day >= parse_date(getattr(request, "from"), "from"))
        async with self._sessions() as session:
            rows = (await session.scalars(query)).all()
        return staff_pb2.ListLeaveRecordsResponse(records=[record_message(r) for r in rows])
