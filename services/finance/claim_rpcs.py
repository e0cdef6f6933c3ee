"""`FinanceService.AuditClaim`: the claim audit (services/finance/claim_audit.py) fed with the
claimant's role and attendance from the staff service and the policy in force on each line's
date. It reads only; a claim process records what a decision approves (issue 13, to come)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import grpc
from csd.finance.v1 import finance_pb2
from csd.staff.v1 import staff_pb2
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.finance import claim_audit, repository
from services.finance.claim_audit import AttendanceDay, ClaimError, Line
from services.finance.directory import (
    Directory,
    attendance_status,
    pay_group_of,
    place_tiers,
)
from services.finance.models import IdempotencyRecord, PolicyVersion, SettledMonth, SettledRoom
from services.finance.models import PreApproval as PreApprovalRow
from services.finance.validation import check_amount
from services.runtime.dates import parse_date, parse_month, rfc3339
from services.runtime.errors import FailedPrecondition, InvalidArgument, Unavailable
from services.runtime.idempotency import run_once
from services.runtime.validation import limit_text, require_id, require_text

F, S = finance_pb2, staff_pb2
MAX_LINES = 500


def _lines(request: finance_pb2.AuditClaimRequest) -> list[Line]:
    if not 1 <= len(request.lines) <= MAX_LINES:
        raise InvalidArgument(f"a claim has 1 to {MAX_LINES} lines")
    lines = []
    for line in request.lines:
        limit_text(line.city, "city", limit=100)
        limit_text(line.reason, "reason", limit=500)
        limit_text(line.pre_approval, "pre_approval", limit=120)
        if len(line.shared_with) > 10:
            raise InvalidArgument(f"line {line.number}: a room is shared by at most 10 others")
        lines.append(
            Line(
                number=line.number,
                category=line.category,
                day=parse_date(line.date, f"line {line.number} date"),
                city=line.city.strip(),
                amount_fen=line.amount_fen,
                shared_with=tuple(line.shared_with),
                reason=line.reason,
                overtime_or_emergency=line.overtime_or_emergency,
                pre_approval=line.pre_approval,
            )
        )
    return lines


class ClaimRpcs:
    """Mixed into FinanceServicer."""

    _sessions: async_sessionmaker[AsyncSession]
    _directory: Directory | None

    async def AuditClaim(
        self, request: finance_pb2.AuditClaimRequest, context: grpc.aio.ServicerContext
    ) -> finance_pb2.ClaimAudit:
        require_id(request.person_id, "person_id")
        month = parse_month(request.month)
        lines = _lines(request)
        directory = self._directory
        if directory is None:
            raise Unavailable("this finance service has no staff directory to audit against")
        person = await directory.person(request.person_id)
        group = pay_group_of(person)
        if group is None:
            raise FailedPrecondition(
                f"{person.id}'s role has no column in the travel policy (PAY-3..PAY-7): "
                "their expenses are not claimed here"
            )
        first = date.fromisoformat(f"{month}-01")
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        days = await directory.attendance(person.id, first.isoformat(), last.isoformat())
        tiers = await place_tiers(directory, days)
        attendance = {
            date.fromisoformat(day.date): AttendanceDay(
                attendance_status(day.status), day.city, tiers.get(day.place_region_code, "")
            )
            for day in days
        }
        async with self._sessions() as session:
            closed = await session.get(SettledMonth, (person.id, month))
            if closed is not None:
                raise FailedPrecondition(
                    f"{person.id}'s {month} is settled (on {rfc3339(closed.settled_at)[:10]}): "
                    "a month's expenses are claimed before it is settled (PAY-2, RB-1)"
                )
            policies: dict[date, PolicyVersion] = {}
            rates: dict[tuple[str, str, str], int | None] = {}
            for line in lines:
                if line.day in policies:
                    continue  # one lookup per day, however many lines it has
                policy = await repository.policy_in_force(line.day, session=session)
                if policy is None:
                    raise FailedPrecondition(
                        f"line {line.number}: no policy version is in force on "
                        f"{line.day.isoformat()}"
                    )
                policies[line.day] = policy
            for policy in {p.version: p for p in policies.values()}.values():
                for row in policy.rates:
                    if row.pay_group == group:
                        rates[(policy.version, row.item, row.tier)] = row.amount_fen
            named = {line.pre_approval for line in lines if line.pre_approval}
            # The claimant's own: another person's approval is no approval of this claim.
            approvals = {
                row.reference: claim_audit.PreApproval(
                    row.reference, row.category, row.approved_fen, row.used_by or ""
                )
                for row in await session.scalars(
                    select(PreApprovalRow).where(
                        PreApprovalRow.reference.in_(named),
                        PreApprovalRow.person_id == person.id,
                    )
                )
            }
            nights = {line.day for line in lines if line.category == claim_audit.LODGING}
            settled = {
                (row.night, row.city): row.claim
                for row in await session.scalars(
                    select(SettledRoom).where(
                        SettledRoom.person_id == person.id, SettledRoom.night.in_(nights)
                    )
                )
            }

        def rate(item: str, tier: str, day: date) -> int | None:
            version = policies[day].version
            return rates.get((version, item, tier if item == "travel_daily" else "any"))

        try:
            result = claim_audit.audit(
                lines,
                month=month,
                attendance=attendance,
                rate=rate,
                pre_approvals=approvals,
                settled_nights=settled,
                claim=request.claim,
            )
        except ClaimError as err:
            raise InvalidArgument(str(err)) from None
        by_number = {line.number: line for line in lines}
        return F.ClaimAudit(
            person_id=person.id,
            month=month,
            claimed_fen=result.claimed_fen,
            sanctioned_fen=result.sanctioned_fen,
            lines=[
                F.AuditedLine(
                    number=o.number,
                    category=o.category,
                    claimed_fen=o.claimed_fen,
                    sanctioned_fen=o.sanctioned_fen,
                    policy_version=policies[by_number[o.number].day].version,
                    exceptions=[
                        F.LineException(
                            code=e.code, rule=e.rule, level=e.level, words=e.words, fen=e.fen
                        )
                        for e in o.exceptions
                    ],
                )
                for o in result.lines
            ],
        )

    async def RecordPreApproval(
        self, request: finance_pb2.RecordPreApprovalRequest, context: grpc.aio.ServicerContext
    ) -> finance_pb2.PreApproval:
        p = request.pre_approval
        require_text(p.reference, "reference", limit=120)
        require_id(p.person_id, "person_id")
        require_id(p.approved_by, "approved_by")
        if p.category not in claim_audit.PRE_APPROVAL_CATEGORIES:
            raise InvalidArgument(
                f"category {p.category!r}: use {', '.join(claim_audit.PRE_APPROVAL_CATEGORIES)}"
            )
        if p.approved_fen <= 0:
            raise InvalidArgument("approved_fen must be positive")
        check_amount(p.approved_fen, "approved_fen")

        async def apply(session: AsyncSession) -> finance_pb2.PreApproval:
            if self._directory is not None:
                await self._directory.require_person(p.person_id, "person_id")
            row = PreApprovalRow(
                reference=p.reference,
                person_id=p.person_id,
                category=p.category,
                approved_fen=p.approved_fen,
                approved_by=p.approved_by,
                approved_at=datetime.now(UTC),
            )
            session.add(row)
            await session.flush()
            return F.PreApproval(
                reference=row.reference,
                person_id=row.person_id,
                category=row.category,
                approved_fen=row.approved_fen,
                approved_by=row.approved_by,
                approved_at=row.approved_at.isoformat(),
            )

        return await run_once(
            self._sessions,
            IdempotencyRecord,
            key=request.idempotency_key,
            operation="RecordPreApproval",
            request=request,
            response_type=F.PreApproval,
            apply=apply,
        )

    async def RecordClaimUsage(
        self, request: finance_pb2.RecordClaimUsageRequest, context: grpc.aio.ServicerContext
    ) -> finance_pb2.ClaimUsage:
        require_text(request.claim, "claim", limit=200)
        require_id(request.person_id, "person_id")
        rooms = []
        for line in request.lodging:
            night = parse_date(line.date, "lodging date")
            city = line.city.strip().casefold()
            limit_text(city, "city", limit=100)
            for person in {request.person_id, *line.shared_with}:
                require_id(person, "shared_with")
                rooms.append(
                    SettledRoom(night=night, city=city, person_id=person, claim=request.claim)
                )

        async def apply(session: AsyncSession) -> finance_pb2.ClaimUsage:
            # A room night already settled for one of its occupants is a conflict the audit
            # should have refused: the unique key refuses it here too (ALREADY_EXISTS).
            session.add_all(rooms)
            used = 0
            for reference in request.pre_approvals:
                row = await session.get(PreApprovalRow, reference)
                if row is None or row.person_id != request.person_id:
                    raise FailedPrecondition(
                        f"{reference} is no pre-approval of {request.person_id}"
                    )
                if row.used_by and row.used_by != request.claim:
                    raise FailedPrecondition(f"{reference} was already spent on {row.used_by}")
                row.used_by = request.claim
                used += 1
            await session.flush()
            return F.ClaimUsage(claim=request.claim, room_nights=len(rooms), pre_approvals=used)

        return await run_once(
            self._sessions,
            IdempotencyRecord,
            key=request.idempotency_key,
            operation="RecordClaimUsage",
            request=request,
            response_type=F.ClaimUsage,
            apply=apply,
        )
