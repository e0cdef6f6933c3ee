"""MailSink: an SMTP server in the caller's event loop that stores what it receives.

It runs aiosmtpd's SMTP protocol under `loop.create_server`, not aiosmtpd's Controller, so the
sink lives in the caller's loop (no second thread, no cross-thread hand-off of messages) and a test
can await what arrives. SMTPUTF8 and 8BITMIME are advertised, so Chinese names may travel raw in
headers and bodies as well as RFC 2047-encoded.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import EmailPolicy
from pathlib import Path
from typing import Any

import structlog
from aiosmtpd.smtp import SMTP, Envelope, Session

log = structlog.get_logger("csd.mailsink")

# aiosmtpd's own handlers record the envelope in these headers; the sink follows suit so that a
# stored .eml file, read on its own, still tells who the message was delivered to.
PEER_HEADER = "X-Peer"
MAIL_FROM_HEADER = "X-MailFrom"
RCPT_TO_HEADER = "X-RcptTo"


class _Utf8HeaderPolicy(EmailPolicy):
    """The default policy, but raw UTF-8 in a header (SMTPUTF8) is read as UTF-8.

    The stock parser hands such bytes to structured headers as surrogate escapes, which turns a
    display name like 张伟 into garbage; unstructured headers like Subject were already fine.
    """

    def header_source_parse(self, sourcelines: list[str]) -> tuple[str, str]:
        name, value = super().header_source_parse(sourcelines)
        # Bytes that are not UTF-8 stay surrogate-escaped, which is the stock behaviour.
        return name, value.encode("ascii", "surrogateescape").decode("utf-8", "surrogateescape")


_POLICY = _Utf8HeaderPolicy(utf8=True)


def envelope_recipients(message: EmailMessage) -> list[str]:
    """The RCPT TO addresses the sink received `message` for (Bcc and Cc included)."""
    value = message.get(RCPT_TO_HEADER, "")
    return [address.strip() for address in str(value).split(",") if address.strip()]


class MailSink:
    """An SMTP server that accepts every message, keeps it in memory and, given a directory,
    writes it there as `<UTC timestamp>-<n>.eml`."""

    def __init__(self, maildir: Path | str | None = None, *, hostname: str = "mailsink") -> None:
        self.maildir = Path(maildir) if maildir is not None else None
        self.hostname = hostname
        self.messages: list[EmailMessage] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._sessions: weakref.WeakSet[SMTP] = weakref.WeakSet()
        self._arrived = asyncio.Condition()
        self._numbers = itertools.count(1)
        # Recipients refused at RCPT, with the reply each gets (say "550 5.1.1 no such
        # mailbox"): how tests make the notify service meet a refusal, for good or for now.
        self.refusals: dict[str, str] = {}

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on `host:port` (0 picks a free port, then read `.port`)."""
        if self._server is not None:
            raise RuntimeError("the mail sink is already running")
        if self.maildir is not None:
            await asyncio.to_thread(self.maildir.mkdir, parents=True, exist_ok=True)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._session, host, port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("mail sink listening", host=host, port=self.port, maildir=str(self.maildir or ""))

    async def stop(self) -> None:
        """Stop listening and drop open SMTP sessions; received messages stay readable."""
        if self._server is None:
            return
        self._server.close()
        # Open sessions would otherwise linger (and keep wait_closed waiting on Python 3.12+).
        for session in list(self._sessions):
            if session.transport is not None:
                session.transport.close()
        await self._server.wait_closed()
        self._server = None
        log.info("mail sink stopped", port=self.port, received=len(self.messages))

    async def wait_for(
        self,
        predicate: Callable[[EmailMessage], bool] = lambda _message: True,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline per call is what a test reads best
    ) -> EmailMessage:
        """The first received message matching `predicate`, waiting up to `timeout` seconds for it.

        Raises TimeoutError naming the subjects that did arrive, which is what a failing test
        needs to show.
        """

        def first_match() -> EmailMessage | None:
            return next((m for m in self.messages if predicate(m)), None)

        try:
            async with asyncio.timeout(timeout):
                async with self._arrived:
                    found = await self._arrived.wait_for(first_match)
        except TimeoutError:
            subjects = [str(m.get("Subject", "")) for m in self.messages]
            raise TimeoutError(
                f"no matching message within {timeout}s; received subjects: {subjects}"
            ) from None
        assert found is not None  # wait_for returns only once first_match found one
        return found

    def _session(self) -> SMTP:
        session = SMTP(
            self,
            enable_SMTPUTF8=True,
            decode_data=False,
            # An explicit name spares a reverse DNS lookup (socket.getfqdn) per connection.
            hostname=self.hostname,
            loop=asyncio.get_running_loop(),
        )
        self._sessions.add(session)
        return session

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        """aiosmtpd's hook for each recipient: the refusal listed for it, else accepted."""
        if address.lower() in self.refusals:
            return self.refusals[address.lower()]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def refuse(self, address: str) -> None:
        """Answer RCPT to `address` as a server does for an unknown user (a refusal for good)."""
        self.refusals[address.lower()] = f"550 5.1.1 <{address}>: no such mailbox here"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """aiosmtpd's hook for a complete message: store it, then acknowledge it.

        The message is kept before the 250 reply goes out, so once a client's send returns the
        message is already in `.messages`.
        """
        content: Any = envelope.original_content or envelope.content or b""
        raw = (
            f"{PEER_HEADER}: {session.peer}\r\n"
            f"{MAIL_FROM_HEADER}: {envelope.mail_from}\r\n"
            f"{RCPT_TO_HEADER}: {', '.join(envelope.rcpt_tos)}\r\n"
        ).encode() + bytes(content)
        message = BytesParser(EmailMessage, policy=_POLICY).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        path = await self._write(raw) if self.maildir is not None else None
        async with self._arrived:
            self.messages.append(message)
            self._arrived.notify_all()
        log.info(
            "mail received",
            mail_from=envelope.mail_from,
            rcpt_to=envelope.rcpt_tos,
            subject=str(message.get("Subject", "")),
            path=str(path or ""),
        )
        return "250 Message accepted for delivery"

    async def _write(self, raw: bytes) -> Path:
        assert self.maildir is not None
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        path = self.maildir / f"{stamp}-{next(self._numbers):04d}.eml"
        await asyncio.to_thread(_write_atomically, path, raw)
        return path


def _write_atomically(path: Path, data: bytes) -> None:
    # Whoever watches the directory (a person, a dev tool) never sees half a message.
    partial = path.with_suffix(".eml.partial")
    partial.write_bytes(data)
    os.replace(partial, path)
