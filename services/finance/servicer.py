"""The FinanceService RPCs: validate, call the repository, map the result."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime

import grpc
from csd.finance.v1 import finance_pb2, finance_pb2_grpc
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.finance import repository
from services.finance.claim_rpcs import ClaimRpcs
from services.finance.convert import (
    entry_message,
    item_name,
    kind_name,
    pay_group_name,
    policy_message,
    summary_message,
    tier_name,
)
from services.finance.directory import Directory
from services.finance.models import IdempotencyRecord, LedgerEntry, PolicyRate, PolicyVersion
from services.finance.pay_rpcs import PayRpcs
from services.finance.regulation import absent_rate_message
from services.finance.validation import (
    check_entry,
    check_entry_filter,
    check_policy,
    check_rate_key,
)
from services.runtime import dates
from services.runtime.dates import parse_month
from services.runtime.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from services.runtime.idempotency import require_key, run_once
from services.runtime.interceptors import CALLER_KEY
from services.runtime.validation import require_id

F = finance_pb2


def _already_published(version: str) -> AlreadyExists:
    return AlreadyExists(
        f"policy version {version!r} is already published; versions are immutable (EF-1): "
        "publish a new version with its own name and effective date"
    )


def _caller(context: grpc.aio.ServicerContext) -> str:
    for key, value in context.invocation_metadata() or ():
        if key == CALLER_KEY and isinstance(value, str):
            return value
    return ""


class FinanceServicer(ClaimRpcs, PayRpcs, finance_pb2_grpc.FinanceServiceServicer):
    """The allowance policy by version and date, and the regional ledger."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        directory: Directory | None = None,
        today: Callable[[], date] = dates.today,
    ) -> None:
        """`directory` confirms the people and regions of ledger entries (the staff service;
        None only where no entry names real people, as in policy tests); `today` is the
        company's date, for what is in force and what is already past."""
        self._sessions = sessions
        self._directory = directory
        self._today = today

    async def _policy_for(self, as_of: str, session: AsyncSession) -> PolicyVersion:
        day = dates.parse_date(as_of, "as_of") if as_of else self._today()
        policy = await repository.policy_in_force(day, session=session)
        if policy is None:
            raise NotFound(
                f"no policy version is in force on {day.isoformat()}: none is published that "
                "takes effect on or before that date"
            )
        return policy

    async def PublishPolicy(
        self, request: finance_pb2.PublishPolicyRequest, context: grpc.aio.ServicerContext
    ) -> finance_pb2.PolicyVersion:
        p = request.policy
        effective_from = check_policy(p)

        # No look-before-insert: the name's primary key decides, so a retry racing its first
        # attempt fails the insert and run_once answers it with the first result.
        async def apply(session: AsyncSession) -> finance_pb2.PolicyVersion:
            today = self._today()
            if effective_from < today and await repository.get_policy_version(
                p.version, session=session
            ):
                raise _already_published(p.version)
            if effective_from < today and await repository.any_policy_version(session=session):
                # The first version sets the tables up, from whenever the regulation began;
                # after it, the days already gone stay under the policy they were kept by.
                raise FailedPrecondition(
                    f"effective_from {effective_from.isoformat()} is in the past (today is "
                    f"{today.isoformat()} in Asia/Shanghai): a new policy takes effect today or "
                    "later, and the books of past days stay under the policy they were kept by"
                )
            row = await repository.add_policy_version(
                PolicyVersion(
                    version=p.version,
                    effective_from=effective_from,
                    note=p.note,
                    published_at=datetime.now(UTC),
                    rates=[
                        PolicyRate(
                            item=item_name(r.item),
                            pay_group=pay_group_name(r.pay_group),
                            tier=tier_name(r.tier),
                            amount_fen=r.amount_fen,
                        )
                        for r in p.rates
                    ],
                ),
                session=session,
            )
            return policy_message(row)

        try:
            return await run_once(
                self._sessions,
                IdempotencyRecord,
                key=request.idempotency_key,
                operation="PublishPolicy",
                request=request,
                response_type=F.PolicyVersion,
                apply=apply,
            )
        except IntegrityError:
            # run_once has answered any retry of this key; what is left is the name taken under
            # another key. Confirm it, so no other constraint is reported as a taken name.
            async with self._sessions() as session:
                taken = await repository.get_policy_version(p.version, session=session)
            if taken is None:
                raise
            raise _already_published(p.version) from None

    async def GetPolicy(
        self, request: finance_pb2.GetPolicyRequest, context: grpc.aio.ServicerContext
    ) -> finance_pb2.PolicyVersion:
        if request.version:
            require_id(request.version, "version")
            async with self._sessions() as session:
                policy = await repository.get_policy_version(request.version, session=session)
            if policy is None:
                raise NotFound(f"policy version {request.version!r} is not published")
            return policy_message(policy)
        async with self._sessions() as session:
            return policy_message(await self._policy_for(request.as_of, session))

    async def ListPolicyVersions(
        self, request: finance_pb2.ListPolicyVersionsRequest, context: grpc.aio.ServicerContext
    ) -> finance_pb2.ListPolicyVersionsResponse:
        async with self._sessions() as session:
            versions = await repository.list_policy_versions(session=session)
            return F.ListPolicyVersionsResponse(versions=[policy_message(v) for v in versions])

    async def LookupRate(
        self, request: finance_pb2.LookupRateRequest, context: grpc.aio.ServicerContext
    ) -> finance_pb2.LookupRateResponse:
        check_rate_key(request.item, request.pay_group, request.tier)
        async with self._sessions() as session:
            policy = await self._policy_for(request.as_of, session)
            rate = await repository.find_rate(
                policy.version,
                item_name(request.item),
                pay_group_name(request.pay_group),
                tier_name(request.tier),
                session=session,
            )
        if rate is None:
            raise NotFound(
                absent_rate_message(request.item, request.pay_group, request.tier, policy.version)
            )
        return F.LookupRateResponse(amount_fen=rate.amount_fen, version=policy.version)

    async def RecordEntry(
        self, request: finance_pb2.RecordEntryRequest, context: grpc.aio.ServicerContext
    ) -> finance_pb2.LedgerEntry:
        key = require_key(request.idempotency_key)
        e = request.entry
        check_entry(e, key)
        recorded_by = e.recorded_by or _caller(context)
        if self._directory is not None:
            # Asked together: a ledger write waits for one directory round trip, not three.
            directory = self._directory
            await asyncio.gather(
                directory.require_region(e.region_code),
                *([directory.require_person(e.person_id, "person_id")] if e.person_id else []),
                *([directory.require_person(recorded_by, "recorded_by")] if recorded_by else []),
            )

        async def apply(session: AsyncSession) -> finance_pb2.LedgerEntry:
            row = await repository.add_entry(
                LedgerEntry(
                    id=str(uuid.uuid4()),
                    idempotency_key=key,
                    person_id=e.person_id or None,
                    region_code=e.region_code,
                    month=e.month,
                    kind=kind_name(e.kind),
                    amount_fen=e.amount_fen,
                    rule_id=e.rule_id,
                    reason=e.reason.strip(),
                    reference=e.reference,
                    recorded_at=datetime.now(UTC),
                    recorded_by=recorded_by,
                ),
                session=session,
            )
            return entry_message(row)

        return await run_once(
            self._sessions,
            IdempotencyRecord,
            key=key,
            operation="RecordEntry",
            request=request,
            response_type=F.LedgerEntry,
            apply=apply,
        )

    async def ListEntries(
        self, request: finance_pb2.ListEntriesRequest, context: grpc.aio.ServicerContext
    ) -> finance_pb2.ListEntriesResponse:
        check_entry_filter(request)
        kind = kind_name(request.kind) if request.kind else ""
        async with self._sessions() as session:
            entries = await repository.list_entries(
                session=session,
                person_id=request.person_id,
                region_code=request.region_code,
                month=request.month,
                kind=kind,
            )
            return F.ListEntriesResponse(entries=[entry_message(e) for e in entries])

    async def SummarizeRegionMonth(
        self, request: finance_pb2.SummarizeRegionMonthRequest, context: grpc.aio.ServicerContext
    ) -> finance_pb2.RegionMonthSummary:
        if not request.region_code:
            raise InvalidArgument("region_code is required")
        require_id(request.region_code, "region_code")
        if not request.month:
            raise InvalidArgument("month is required (YYYY-MM)")
        month = parse_month(request.month)
        async with self._sessions() as session:
            totals = await repository.region_month_totals(
                request.region_code, month, session=session
            )
        return summary_message(request.region_code, month, totals)
