"""Exactly-once mutations keyed by the caller's idempotency key.

The record of a key is written in the same transaction as the change it guards, under a unique
constraint: two requests racing with one key cannot both commit, and the loser returns the
winner's response. A key reused for a different request is refused, never silently answered.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

from google.protobuf.message import Message
from sqlalchemy import DateTime, LargeBinary, String
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from services.runtime.database import insert_statement
from services.runtime.errors import FailedPrecondition, InvalidArgument, ServiceError

ResponseT = TypeVar("ResponseT", bound=Message)

MAX_KEY_LENGTH = 200


class IdempotencyRecordMixin:
    """Columns of a service's idempotency table (one per service database)."""

    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), primary_key=True)
    operation: Mapped[str] = mapped_column(String(100))
    fingerprint: Mapped[str] = mapped_column(String(64))
    response: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def fingerprint(request: Message) -> str:
    """A stable digest of the request, to tell a retry from a different request."""
    return hashlib.sha256(request.SerializeToString(deterministic=True)).hexdigest()


def require_key(key: str) -> str:
    """Refuse a missing or oversized idempotency key."""
    key = key.strip()
    if not key:
        raise InvalidArgument(
            "idempotency_key is required: use the business reference of the change"
        )
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidArgument(f"idempotency_key is longer than {MAX_KEY_LENGTH} characters")
    return key


async def run_once(
    sessions: async_sessionmaker[AsyncSession],
    record_model: type[IdempotencyRecordMixin],
    *,
    key: str,
    operation: str,
    request: Message,
    response_type: type[ResponseT],
    apply: Callable[[AsyncSession], Awaitable[ResponseT]],
) -> ResponseT:
    """Apply a change once per key and return its response, now and on every retry."""
    key = require_key(key)
    digest = fingerprint(request)
    async with sessions() as session:
        # No read first: the change and its record go in one transaction, and a retry trips the
        # record's unique key (or a business check) and is answered from the record instead. One
        # round trip to the database fewer on every write.
        try:
            async with session.begin():
                response = await apply(session)
                # A plain INSERT, not the unit of work: it is a third of a write's cost. The
                # table's one statement with the record as parameters, compiled once.
                await session.execute(
                    insert_statement(record_model),
                    {
                        "key": key,
                        "operation": operation,
                        "fingerprint": digest,
                        "response": response.SerializeToString(),
                        "created_at": datetime.now(UTC),
                    },
                )
        except (IntegrityError, ServiceError):
            # A retry, or a concurrent request with the same key that won while this one ran,
            # trips a unique constraint or a business check; the record tells which.
            earlier = await _replay(session, record_model, key, operation, digest, response_type)
            if earlier is not None:
                return earlier
            raise
        return response


async def _replay(
    session: AsyncSession,
    record_model: type[IdempotencyRecordMixin],
    key: str,
    operation: str,
    digest: str,
    response_type: type[ResponseT],
) -> ResponseT | None:
    async with session.begin():
        record = await session.get(record_model, key)
    if record is None:
        return None
    if record.operation != operation or record.fingerprint != digest:
        raise FailedPrecondition(
            f"idempotency_key {key!r} was already used for a different {record.operation} "
            "request; use a new key for a new change"
        )
    response = response_type()
    response.ParseFromString(record.response)
    return response
