"""Exactly-once sending: the life of one delivery, keyed by the caller's idempotency key.

    (no row) --insert--> PENDING --accepted--> SENT    final: a retry gets it back, nothing is sent
                            |
                            +--failed--> FAILED --retry claims it--> PENDING (attempts + 1)
                            |
                            +--lease runs out (the sender crashed)--> a retry claims it likewise

The row is committed as PENDING before anything goes out and the outcome after, so the send itself
is outside any transaction: no database lock is held across a slow SMTP server, and a crash
leaves a PENDING row whose lease tells a retry when it may take over. Each move between states is
a conditional write (the unique key for the insert, the expected status and attempt number for a
claim), so of two processes racing for one delivery exactly one goes on to send.

A caller that goes away mid-send (its deadline passed, the client hung up, the server is
stopping) does not abandon the attempt: the send and the record of its outcome run as a task of
their own, shielded from the caller's cancellation, and shutdown waits for those tasks. Otherwise
the row would stay PENDING while the send went through, and the retry that takes it over after
the lease would send a second copy.

What cannot be closed here is a crash after the provider accepted and before SENT was recorded:
the retry sends again. The key travels with every send (the email's Message-ID is derived from
it, the phone provider gets it as Idempotency-Key) so that the far end can drop that duplicate.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from prometheus_client import Counter
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.notify import repository
from services.notify.models import FAILED, PENDING, SENT, Delivery
from services.runtime.errors import Aborted, FailedPrecondition, ServiceError, Unavailable

log = structlog.get_logger("csd.notify")

# Each attempt's outcome, for the dashboard and the "notify failing" alert (issue 15): sent,
# refused for good by the provider, or failed (an outage; the caller retries).
NOTIFICATIONS = Counter(
    "csd_notifications", "Delivery attempts by channel and outcome", ["channel", "outcome"]
)

# Longer than any channel's own timeout, or a slow sender that is still alive could be overtaken.
DEFAULT_LEASE = timedelta(seconds=30)

Send = Callable[[], Awaitable[str]]
"""Sends the message through its channel and returns the provider's reference for it."""


class Refused(Exception):
    """The channel refused the message for good (a bad recipient, content it will not take).

    Sending it again cannot succeed, so the caller is told FAILED_PRECONDITION rather than to retry.
    """


@dataclass(frozen=True)
class Outgoing:
    """What a delivery sends, as the delivery log records it."""

    channel: str
    recipients: tuple[str, ...]
    subject: str
    body: str
    reference: str
    provider: str


class InFlight:
    """The attempts under way in one server, so that shutdown can let them record their outcome."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Delivery]] = set()

    def start(self, attempt: Coroutine[Any, Any, Delivery]) -> asyncio.Task[Delivery]:
        """Run `attempt` as a task that lives on when whoever awaits it is cancelled."""
        task = asyncio.create_task(attempt)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    async def drain(self, within: timedelta) -> None:
        """Wait up to `within` for the attempts under way; cancel those still running then.

        A cancelled attempt leaves its delivery PENDING, and a retry takes it over after the
        lease, so waiting longer than the lease buys nothing.
        """
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=within.total_seconds())
        for task in pending:
            task.cancel()
        if pending:
            log.warning("abandoned sends still under way at shutdown", count=len(pending))

    def _finished(self, task: asyncio.Task[Delivery]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        # An outcome the attempt could not record would go unseen once its caller has left.
        if error is not None and not isinstance(error, ServiceError):
            log.error("a send attempt failed to record its outcome", exc_info=error)


async def deliver_once(
    sessions: async_sessionmaker[AsyncSession],
    *,
    key: str,
    fingerprint: str,
    outgoing: Outgoing,
    send: Send,
    in_flight: InFlight,
    lease: timedelta = DEFAULT_LEASE,
) -> Delivery:
    """Send `outgoing` once per key and return its delivery, now and on every retry.

    Raises Unavailable when the channel fails (the row is FAILED; retry with the same key),
    FailedPrecondition when the channel refuses the message for good (the row is FAILED) or when
    the key was used for a different message, Aborted while another request holds the key.
    """
    delivery = await _begin(
        sessions, key=key, fingerprint=fingerprint, outgoing=outgoing, lease=lease
    )
    if delivery.status == SENT:
        return delivery
    attempt = log.bind(
        idempotency_key=key,
        delivery_id=delivery.id,
        channel=outgoing.channel,
        provider=outgoing.provider,
        attempt=delivery.attempts,
    )
    task = in_flight.start(
        _attempt(sessions, delivery, outgoing=outgoing, send=send, attempt_log=attempt)
    )
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        if not task.done():
            attempt.info("caller left mid-send; the outcome will still be recorded")
        raise


async def _attempt(
    sessions: async_sessionmaker[AsyncSession],
    delivery: Delivery,
    *,
    outgoing: Outgoing,
    send: Send,
    attempt_log: structlog.typing.FilteringBoundLogger,
) -> Delivery:
    """Send, then record SENT or FAILED; the delivery as stored afterwards."""
    try:
        provider_ref = await send()
    except Exception as err:
        error = _describe(err)
        async with sessions() as session, session.begin():
            recorded = await repository.mark_failed(
                delivery.id,
                attempts=delivery.attempts,
                error=error,
                now=datetime.now(UTC),
                session=session,
            )
        attempt_log.warning("delivery failed", error=error, recorded=recorded)
        outcome = "refused" if isinstance(err, Refused) else "failed"
        NOTIFICATIONS.labels(channel=outgoing.channel, outcome=outcome).inc()
        if isinstance(err, Refused):
            raise FailedPrecondition(
                f"{outgoing.provider} refused the {outgoing.channel} and will not take it if "
                f"sent again ({error}); correct the message and send it with a new "
                "idempotency_key"
            ) from err
        raise Unavailable(
            f"the {outgoing.channel} could not be sent through {outgoing.provider} ({error}); "
            "retry with the same idempotency_key"
        ) from err
    async with sessions() as session, session.begin():
        recorded = await repository.mark_sent(
            delivery.id,
            attempts=delivery.attempts,
            provider_ref=provider_ref,
            now=datetime.now(UTC),
            session=session,
        )
        stored = await repository.get(delivery.id, session=session)
    assert stored is not None  # deliveries are never deleted
    NOTIFICATIONS.labels(channel=outgoing.channel, outcome="sent").inc()
    if recorded:
        attempt_log.info("delivery sent", provider_ref=provider_ref)
    else:
        # Our lease ran out mid-send and another request claimed the delivery; its outcome
        # stands, so the log keeps one truth.
        attempt_log.warning(
            "delivery sent after its lease was taken over", provider_ref=provider_ref
        )
    return stored


async def _begin(
    sessions: async_sessionmaker[AsyncSession],
    *,
    key: str,
    fingerprint: str,
    outgoing: Outgoing,
    lease: timedelta,
) -> Delivery:
    """The PENDING delivery this request now owns, or the SENT one a retry must return."""
    now = datetime.now(UTC)
    async with sessions() as session:
        try:
            async with session.begin():
                delivery = Delivery(
                    id=str(uuid.uuid4()),
                    idempotency_key=key,
                    fingerprint=fingerprint,
                    channel=outgoing.channel,
                    status=PENDING,
                    recipients=json.dumps(list(outgoing.recipients), ensure_ascii=False),
                    subject=outgoing.subject,
                    body=outgoing.body,
                    reference=outgoing.reference,
                    attempts=1,
                    provider=outgoing.provider,
                    provider_ref="",
                    last_error="",
                    created_at=now,
                    updated_at=now,
                    sent_at=None,
                )
                session.add(delivery)
            return delivery
        except IntegrityError:
            # The key is taken: a retry, a parallel duplicate, or a key reused by mistake. This
            # read is its own transaction so that the claim below starts with its write (SQLite
            # cannot upgrade a reader whose snapshot a concurrent writer has moved past).
            async with session.begin():
                earlier = await repository.get_by_key(key, session=session)
            if earlier is None:
                raise
        return await _resume(
            earlier, session=session, fingerprint=fingerprint, outgoing=outgoing, lease=lease
        )


async def _resume(
    earlier: Delivery,
    *,
    session: AsyncSession,
    fingerprint: str,
    outgoing: Outgoing,
    lease: timedelta,
) -> Delivery:
    key = earlier.idempotency_key
    if earlier.fingerprint != fingerprint or earlier.channel != outgoing.channel:
        raise FailedPrecondition(
            f"idempotency_key {key!r} was already used for a different message; "
            "use a new key for a new message"
        )
    if earlier.status == SENT:
        return earlier
    now = datetime.now(UTC)
    in_progress = Aborted(f"a send with idempotency_key {key!r} is in progress; retry shortly")
    if earlier.status == PENDING and now - earlier.updated_at < lease:
        raise in_progress
    async with session.begin():
        claimed = await repository.claim(
            earlier.id,
            status=earlier.status,
            attempts=earlier.attempts,
            now=now,
            session=session,
        )
        delivery = await repository.get(earlier.id, session=session)
    if not claimed:
        raise in_progress
    assert delivery is not None  # deliveries are never deleted
    if earlier.status != FAILED:
        log.warning(
            "taking over an abandoned delivery",
            idempotency_key=key,
            delivery_id=earlier.id,
            pending_since=earlier.updated_at.isoformat(),
        )
    return delivery


def _describe(err: Exception) -> str:
    detail = str(err).strip()
    return f"{type(err).__name__}: {detail}" if detail else type(err).__name__
