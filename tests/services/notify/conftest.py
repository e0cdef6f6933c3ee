"""Notify service fixtures: the service on each test database, real SMTP into a MailSink (or a
slow and refusing one), the log phone provider, and a real HTTP voice/SMS gateway for the webhook
provider."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Protocol

import grpc
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from csd.notify.v1.notify_pb2_grpc import NotifyServiceStub

from services.mailsink import MailSink
from services.notify import server as notify_server
from services.notify.delivery import DEFAULT_LEASE
from services.notify.email import Mailer, SmtpMailer
from services.notify.phone import LogProvider, PhoneProvider
from services.runtime.server import RunningServer
from tests.phone_gateway import PhoneGateway

MAIL_FROM = "客服运营 <csd-ops@csd.example>"


def smtp_mailer(port: int) -> SmtpMailer:
    """A mailer for the SMTP server on loopback `port`, with a short timeout for the tests."""
    return SmtpMailer(host="127.0.0.1", port=port, mail_from=MAIL_FROM, timeout=5)


class StartNotify(Protocol):
    def __call__(
        self,
        *,
        mailer: Mailer | None = None,
        phone: PhoneProvider | None = None,
        lease: timedelta = DEFAULT_LEASE,
    ) -> Awaitable[NotifyServiceStub]: ...


@pytest.fixture
async def mail_sink(tmp_path: Path) -> AsyncIterator[MailSink]:
    sink = MailSink(tmp_path / "mail")
    await sink.start()
    yield sink
    await sink.stop()


class TroubledSink(MailSink):
    """A mail sink that answers like a troubled relay.

    `refusals` maps an address to the reply its RCPT gets (say "550 5.1.1 no such mailbox");
    `data_reply`, if set, answers DATA instead of storing the message; `data_delay` is how long
    the reply to DATA takes. `data_started` is set once a message is being received.
    """

    def __init__(self, maildir: Path | None = None) -> None:
        super().__init__(maildir)
        self.data_reply = ""
        self.data_delay = 0.0
        self.data_started = asyncio.Event()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Take `data_delay` to answer, then refuse with `data_reply` or store the message."""
        self.data_started.set()
        await asyncio.sleep(self.data_delay)
        if self.data_reply:
            return self.data_reply
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
async def troubled_sink(tmp_path: Path) -> AsyncIterator[TroubledSink]:
    sink = TroubledSink(tmp_path / "troubled-mail")
    await sink.start()
    yield sink
    await sink.stop()


@pytest.fixture
def phone_log(tmp_path: Path) -> Path:
    return tmp_path / "phone.log"


@pytest.fixture
async def start_notify(
    database_url: str, mail_sink: MailSink, phone_log: Path
) -> AsyncIterator[StartNotify]:
    """Starts notify services on the test database; mail goes to `mail_sink`, calls to the log."""
    servers: list[RunningServer] = []
    channels: list[grpc.aio.Channel] = []

    async def start(
        *,
        mailer: Mailer | None = None,
        phone: PhoneProvider | None = None,
        lease: timedelta = DEFAULT_LEASE,
    ) -> NotifyServiceStub:
        running = await notify_server.start(
            address="127.0.0.1:0",
            database_url=database_url,
            mailer=mailer or smtp_mailer(mail_sink.port),
            phone=phone or LogProvider(phone_log),
            lease=lease,
        )
        servers.append(running)
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{running.port}")
        channels.append(channel)
        return NotifyServiceStub(channel)

    yield start
    for channel in channels:
        await channel.close()
    for running in servers:
        await running.stop(grace=0)


@pytest.fixture
async def notify(start_notify: StartNotify) -> NotifyServiceStub:
    """A notify service with the default mailer and phone provider."""
    return await start_notify()


@pytest.fixture
def phone_gateway() -> Iterator[PhoneGateway]:
    gateway = PhoneGateway()
    gateway.start()
    yield gateway
    gateway.stop()
