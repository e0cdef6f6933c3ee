"""Email through troubled SMTP servers, on SQLite and PostgreSQL: a caller that gives up or a
server that stops mid-send never causes a second send, permanent refusals are not retried, and the
whole exchange is bounded in time."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import grpc
import pytest
from csd.notify.v1 import notify_pb2
from csd.notify.v1.notify_pb2_grpc import NotifyServiceStub

from activities.notify import SEND_DEADLINE_SECONDS
from services.notify import server as notify_server
from services.notify.delivery import DEFAULT_LEASE
from services.notify.email import SMTP_TIMEOUT_SECONDS, SmtpMailer
from services.notify.phone import LogProvider
from services.runtime.server import RunningServer
from tests.services.notify.conftest import MAIL_FROM, StartNotify, TroubledSink, smtp_mailer
from tests.services.notify.test_notify_service import email

N = notify_pb2

NO_SUCH_MAILBOX = "550 5.1.1 <nobody@csd.example>: no such mailbox"
MAILBOX_BUSY = "451 4.2.1 <busy@csd.example>: mailbox busy, try again later"


async def delivery(notify: NotifyServiceStub, key: str) -> N.Delivery:
    found: N.Delivery = await notify.GetDelivery(N.GetDeliveryRequest(idempotency_key=key))
    return found


async def settled(notify: NotifyServiceStub, key: str, *, within: float = 5.0) -> N.Delivery:
    """The delivery once it is no longer PENDING; fails if it still is after `within` seconds."""
    async with asyncio.timeout(within):
        # The status lives in the database, seen through GetDelivery: polling is the way to wait.
        while (found := await delivery(notify, key)).status == N.DELIVERY_STATUS_PENDING:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    return found


async def test_a_caller_past_its_deadline_mid_send_does_not_cause_a_second_send(
    start_notify: StartNotify, troubled_sink: TroubledSink
) -> None:
    troubled_sink.data_delay = 1.0
    notify = await start_notify(mailer=smtp_mailer(troubled_sink.port))
    request = email()

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await notify.SendEmail(request, timeout=0.3)
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED

    # The send goes on without the caller, and its outcome is recorded: a retry after the lease
    # would otherwise take the PENDING row over and send again.
    await troubled_sink.wait_for()
    sent = await settled(notify, request.idempotency_key)
    assert sent.status == N.DELIVERY_STATUS_SENT
    assert sent.attempts == 1

    retried = await notify.SendEmail(request)
    assert retried == sent
    assert len(troubled_sink.messages) == 1
    assert troubled_sink.messages[0]["Message-ID"] == sent.provider_ref


async def test_stopping_the_server_mid_send_still_records_the_outcome(
    database_url: str, troubled_sink: TroubledSink, tmp_path: Path
) -> None:
    troubled_sink.data_delay = 1.0
    request = email()

    async def start() -> tuple[RunningServer, grpc.aio.Channel]:
        running = await notify_server.start(
            address="127.0.0.1:0",
            database_url=database_url,
            mailer=smtp_mailer(troubled_sink.port),
            phone=LogProvider(tmp_path / "phone.log"),
        )
        return running, grpc.aio.insecure_channel(f"127.0.0.1:{running.port}")

    running, channel = await start()
    try:
        call = asyncio.ensure_future(NotifyServiceStub(channel).SendEmail(request))
        await troubled_sink.data_started.wait()
        await running.stop(grace=0)
        with pytest.raises(grpc.aio.AioRpcError):
            await call
    finally:
        await channel.close()
    # stop() returned only after the send under way had recorded its outcome.
    assert len(troubled_sink.messages) == 1

    running, channel = await start()
    try:
        notify = NotifyServiceStub(channel)
        sent = await delivery(notify, request.idempotency_key)
        assert sent.status == N.DELIVERY_STATUS_SENT
        assert sent.attempts == 1
        assert await notify.SendEmail(request) == sent
    finally:
        await channel.close()
        await running.stop(grace=0)
    assert len(troubled_sink.messages) == 1


async def test_a_permanently_refused_recipient_fails_the_delivery_for_good(
    start_notify: StartNotify, troubled_sink: TroubledSink
) -> None:
    troubled_sink.refusals["nobody@csd.example"] = NO_SUCH_MAILBOX
    notify = await start_notify(mailer=smtp_mailer(troubled_sink.port))
    request = email(cc=["nobody@csd.example"])

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await notify.SendEmail(request)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    details = err.value.details() or ""
    assert "nobody@csd.example" in details and "550" in details and "no such mailbox" in details
    failed = await delivery(notify, request.idempotency_key)
    assert failed.status == N.DELIVERY_STATUS_FAILED
    assert failed.attempts == 1
    assert "nobody@csd.example: 550 5.1.1" in failed.last_error
    # One refused recipient stops the message for all: nobody gets a notification reported as
    # failed, and no later attempt can send the accepted ones a second copy.
    assert troubled_sink.messages == []


async def test_a_deferred_recipient_is_retried_and_the_retry_delivers_once(
    start_notify: StartNotify, troubled_sink: TroubledSink
) -> None:
    troubled_sink.refusals["busy@csd.example"] = MAILBOX_BUSY
    notify = await start_notify(mailer=smtp_mailer(troubled_sink.port))
    request = email(cc=["busy@csd.example"])

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await notify.SendEmail(request)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    details = err.value.details() or ""
    assert "busy@csd.example" in details and "451" in details
    assert "retry with the same idempotency_key" in details
    failed = await delivery(notify, request.idempotency_key)
    assert failed.status == N.DELIVERY_STATUS_FAILED
    assert "busy@csd.example: 451 4.2.1" in failed.last_error
    assert troubled_sink.messages == []

    del troubled_sink.refusals["busy@csd.example"]
    sent = await notify.SendEmail(request)
    assert sent.status == N.DELIVERY_STATUS_SENT
    assert sent.attempts == 2
    assert await notify.SendEmail(request) == sent
    assert len(troubled_sink.messages) == 1


async def test_a_permanent_refusal_outweighs_a_deferral(
    start_notify: StartNotify, troubled_sink: TroubledSink
) -> None:
    troubled_sink.refusals.update(
        {"nobody@csd.example": NO_SUCH_MAILBOX, "busy@csd.example": MAILBOX_BUSY}
    )
    notify = await start_notify(mailer=smtp_mailer(troubled_sink.port))

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await notify.SendEmail(email(to=["busy@csd.example"], cc=["nobody@csd.example"]))
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    details = err.value.details() or ""
    assert "550" in details and "451" in details
    assert troubled_sink.messages == []


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        ("554 5.6.0 message content rejected", grpc.StatusCode.FAILED_PRECONDITION),
        ("452 4.3.1 insufficient system storage", grpc.StatusCode.UNAVAILABLE),
    ],
    ids=["permanent", "temporary"],
)
async def test_a_refused_message_body_is_final_only_when_permanent(
    start_notify: StartNotify, troubled_sink: TroubledSink, reply: str, code: grpc.StatusCode
) -> None:
    troubled_sink.data_reply = reply
    notify = await start_notify(mailer=smtp_mailer(troubled_sink.port))
    request = email()

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await notify.SendEmail(request)
    assert err.value.code() == code
    assert reply in (err.value.details() or "")
    failed = await delivery(notify, request.idempotency_key)
    assert failed.status == N.DELIVERY_STATUS_FAILED
    assert reply in failed.last_error


async def test_a_server_slower_than_the_mailer_allows_fails_the_attempt_in_time(
    start_notify: StartNotify, troubled_sink: TroubledSink
) -> None:
    troubled_sink.data_delay = 3.0
    mailer = SmtpMailer(host="127.0.0.1", port=troubled_sink.port, mail_from=MAIL_FROM, timeout=0.5)
    notify = await start_notify(mailer=mailer)
    request = email()

    started = time.monotonic()
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await notify.SendEmail(request)
    assert time.monotonic() - started < 2.0
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "took longer than 0.5 s" in (err.value.details() or "")
    failed = await delivery(notify, request.idempotency_key)
    assert failed.status == N.DELIVERY_STATUS_FAILED
    assert "TimeoutError" in failed.last_error


def test_the_smtp_exchange_ends_well_within_the_send_deadline_and_the_lease() -> None:
    # The outcome must be known and recorded before the activity's deadline makes it retry, and
    # a sender still at work must not be presumed dead.
    assert SMTP_TIMEOUT_SECONDS <= SEND_DEADLINE_SECONDS - 5
    assert DEFAULT_LEASE.total_seconds() > SEND_DEADLINE_SECONDS > SMTP_TIMEOUT_SECONDS
