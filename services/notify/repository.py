"""Reads and writes of the delivery log. Every function takes the session by keyword.

The writes that move a delivery between states are conditional UPDATEs: they name the state
they expect, so of two processes racing for one delivery exactly one sees its row change.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.notify.models import FAILED, PENDING, SENT, Delivery


async def get_by_key(key: str, *, session: AsyncSession) -> Delivery | None:
    """The delivery made under an idempotency key."""
    return (await session.scalars(select(Delivery).where(Delivery.idempotency_key == key))).first()


async def get(delivery_id: str, *, session: AsyncSession) -> Delivery | None:
    """The stored row, read afresh even if the session already holds it."""
    return await session.get(Delivery, delivery_id, populate_existing=True)


async def list_deliveries(
    *, session: AsyncSession, channel: str = "", status: str = "", reference: str = "", limit: int
) -> Sequence[Delivery]:
    """Newest first."""
    query = select(Delivery).order_by(Delivery.created_at.desc(), Delivery.id.desc()).limit(limit)
    if channel:
        query = query.where(Delivery.channel == channel)
    if status:
        query = query.where(Delivery.status == status)
    if reference:
        query = query.where(Delivery.reference == reference)
    return (await session.scalars(query)).all()


async def claim(
    delivery_id: str, *, status: str, attempts: int, now: datetime, session: AsyncSession
) -> bool:
    """Take over a FAILED or abandoned delivery for one more attempt; False if someone else did."""
    return await _change(
        delivery_id,
        expect_status=status,
        expect_attempts=attempts,
        session=session,
        status=PENDING,
        attempts=attempts + 1,
        updated_at=now,
    )


async def mark_sent(
    delivery_id: str, *, attempts: int, provider_ref: str, now: datetime, session: AsyncSession
) -> bool:
    """Record that attempt `attempts` was accepted; False if the delivery was claimed since."""
    return await _change(
        delivery_id,
        expect_status=PENDING,
        expect_attempts=attempts,
        session=session,
        status=SENT,
        provider_ref=provider_ref,
        last_error="",
        sent_at=now,
        updated_at=now,
    )


async def mark_failed(
    delivery_id: str, *, attempts: int, error: str, now: datetime, session: AsyncSession
) -> bool:
    """Record that attempt number `attempts` failed; False if the delivery was claimed since."""
    return await _change(
        delivery_id,
        expect_status=PENDING,
        expect_attempts=attempts,
        session=session,
        status=FAILED,
        last_error=error,
        updated_at=now,
    )


async def _change(
    delivery_id: str,
    *,
    expect_status: str,
    expect_attempts: int,
    session: AsyncSession,
    **values: Any,
) -> bool:
    result = await session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.status == expect_status,
            Delivery.attempts == expect_attempts,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1
