"""Email over SMTP: the Mailer interface and its SMTP implementation.

Addresses may carry display names in Chinese ("张伟 <zhang.wei@csd.example>"); they travel
RFC 2047-encoded, so any SMTP server takes them, and the body is UTF-8, sent as 8-bit only to
servers that announce 8BITMIME.

A message goes to all of its recipients or to none: if the server refuses any recipient, the
transaction is abandoned before DATA. Nobody gets a notification that is then reported as failed,
and a retry cannot send a second copy to the recipients that were accepted the first time.

Sessions are kept open between messages (aiosmtplib, asyncio): a burst of alerts does not pay
a TCP connection, a greeting, EHLO, TLS and AUTH per message, nor wait for a thread (issue 16).
At most `pool_size` sessions are open at once; one idle longer than `idle_seconds` is closed
rather than reused (servers drop idle clients), and a kept session the server dropped is
replaced before anything of the message was sent.
"""

from __future__ import annotations

import asyncio
import hashlib
import smtplib
import ssl
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import default
from email.utils import format_datetime
from typing import Literal, Protocol, get_args

import aiosmtplib
from prometheus_client import Counter

from services.notify.delivery import Refused
from services.runtime.email_address import parse_address

TlsMode = Literal["none", "starttls", "implicit"]
"""How the connection to the SMTP server is encrypted: not at all, STARTTLS after connecting
(usually port 587), or TLS from the first byte (SMTPS, usually port 465)."""

TLS_MODES: tuple[TlsMode, ...] = get_args(TlsMode)

# The whole SMTP exchange, connect to last reply. It must end well within the deadline the
# notify activities give a send (activities/notify.py SEND_DEADLINE_SECONDS) and the delivery
# lease (delivery.DEFAULT_LEASE), so that the outcome is known and recorded before the caller
# retries and before a retry may presume the sender dead.
SMTP_TIMEOUT_SECONDS = 10.0
# Sessions open at once: enough to keep a relay busy, few enough not to look like a flood.
POOL_SIZE = 8
IDLE_SECONDS = 30.0


# Sessions opened, beside csd_notifications_total: how much the pool of kept sessions saves (a
# rate close to the mail rate means sessions are not being kept).
SESSIONS_OPENED = Counter("csd_smtp_sessions_opened", "SMTP sessions opened by the mailer")


def tls_mode(value: str) -> TlsMode:
    """`value` as a TlsMode; ValueError naming the choices otherwise (its message completes a
    sentence that starts with the setting's name)."""
    for mode in TLS_MODES:
        if value == mode:
            return mode
    raise ValueError(
        "must be 'none', 'starttls' (usually port 587) or 'implicit' (SMTPS, usually port 465), "
        f"not {value!r}"
    )


class Deferred(Exception):
    """The SMTP server turned the message away for now (a 4xx reply); a retry may succeed."""


class Mailer(Protocol):
    """Sends one email; the notify service records the returned Message-ID as provider_ref."""

    name: str

    async def send(
        self, *, to: Sequence[str], cc: Sequence[str], subject: str, body: str, key: str
    ) -> str:
        """Send the message with the delivery's idempotency `key`; return its Message-ID.

        Raises Refused when the server refuses the message for good (a 5xx reply to the
        sender, a recipient or the content); any other exception is worth a retry.
        """
        ...


class SmtpMailer:
    """Submits mail to an SMTP server (the dev mail sink or the company's relay) over a pool of
    kept-open sessions."""

    name = "smtp"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        mail_from: str,
        tls: TlsMode = "none",
        username: str = "",
        password: str = "",
        timeout: float = SMTP_TIMEOUT_SECONDS,
        pool_size: int = POOL_SIZE,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        """`timeout` bounds the whole exchange of one message, from waiting for a session to
        the last reply."""
        self.host = host
        self.port = port
        self.sender = parse_address(mail_from)
        self.tls = tls_mode(tls)
        self.username = username
        self.password = password
        self.timeout = timeout
        self.idle_seconds = idle_seconds
        self._slots = asyncio.Semaphore(pool_size)
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []
        self.opened = 0  # sessions opened so far: how much the pool saves

    def message_id(self, key: str) -> str:
        """The Message-ID of the delivery with idempotency `key`.

        Derived from the key rather than random, so that if a retry ever sends a message twice
        (a crash between the server's acceptance and our record of it), both copies carry one
        Message-ID and mail systems that deduplicate by it show one.
        """
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        return f"<{digest}.notify@{self.sender.domain}>"

    async def send(
        self, *, to: Sequence[str], cc: Sequence[str], subject: str, body: str, key: str
    ) -> str:
        """Send over SMTP; return the Message-ID."""
        message_id = self.message_id(key)
        to_addresses = [parse_address(a) for a in to]
        cc_addresses = [parse_address(a) for a in cc]
        try:
            async with asyncio.timeout(self.timeout), self._slots:
                await self._submit(to_addresses, cc_addresses, subject, body, message_id)
        except TimeoutError as err:
            raise TimeoutError(f"the SMTP exchange took longer than {self.timeout:g} s") from err
        return message_id

    async def aclose(self) -> None:
        """Say QUIT on every kept session."""
        idle, self._idle = self._idle, []
        for session, _ in idle:
            await _quit(session)

    async def _submit(
        self,
        to: list[Address],
        cc: list[Address],
        subject: str,
        body: str,
        message_id: str,
    ) -> None:
        # Cc recipients get the message through the envelope; dict keeps order, drops repeats.
        envelope = list(dict.fromkeys(a.addr_spec for a in [*to, *cc]))
        session, kept = await self._session()
        try:
            try:
                await _transact(session, self.sender, to, cc, envelope, subject, body, message_id)
            except aiosmtplib.SMTPServerDisconnected:
                if not kept:
                    raise
                # The server dropped the kept session before the message began: a new one.
                session.close()
                session, kept = await self._open(), False
                await _transact(session, self.sender, to, cc, envelope, subject, body, message_id)
        except (Refused, Deferred):
            # The session itself is fine: the transaction was abandoned before DATA or the
            # server answered DATA; RSET makes it ready for the next message.
            await self._keep_after_reset(session)
            raise
        except BaseException:
            session.close()
            raise
        self._idle.append((session, time.monotonic()))

    async def _session(self) -> tuple[aiosmtplib.SMTP, bool]:
        """A kept session still fresh and connected, else a new one; and whether it was kept."""
        now = time.monotonic()
        while self._idle:
            session, since = self._idle.pop()
            if session.is_connected and now - since < self.idle_seconds:
                return session, True
            await _quit(session)
        return await self._open(), False

    async def _keep_after_reset(self, session: aiosmtplib.SMTP) -> None:
        try:
            await session.rset()
        except (aiosmtplib.SMTPException, OSError):
            session.close()
            return
        self._idle.append((session, time.monotonic()))

    async def _open(self) -> aiosmtplib.SMTP:
        """An open, greeted and (per `tls` and `username`) secured and logged-in session."""
        # Loading the system's trust store costs milliseconds: only for a session that uses it.
        context = ssl.create_default_context() if self.tls != "none" else None
        session = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            use_tls=self.tls == "implicit",
            start_tls=False,
            tls_context=context,
            timeout=self.timeout,
        )
        try:
            await session.connect()
        except aiosmtplib.SMTPConnectError as err:
            # The cause (a refused connection, a failed TLS handshake) says what happened.
            raise (err.__cause__ if isinstance(err.__cause__, OSError) else err) from err
        try:
            await session.ehlo()
            if self.tls == "starttls":
                if not session.supports_extension("starttls"):
                    raise smtplib.SMTPNotSupportedError(
                        "the SMTP server does not offer STARTTLS; not sending in the clear"
                    )
                await session.starttls(tls_context=context)
                await session.ehlo()
            if self.username:
                await session.login(self.username, self.password)
        except BaseException:
            session.close()
            raise
        self.opened += 1
        SESSIONS_OPENED.inc()
        return session


async def _transact(
    session: aiosmtplib.SMTP,
    sender: Address,
    to: list[Address],
    cc: list[Address],
    envelope: Sequence[str],
    subject: str,
    body: str,
    message_id: str,
) -> None:
    """MAIL, every RCPT, then DATA only if every recipient was accepted."""
    eight_bit = session.supports_extension("8bitmime")
    # No folding within the 998 octets RFC 5322 allows a line: Python's folder writes an empty
    # encoded word (=?utf-8?q??=) when a fold falls just before a non-ASCII word
    # (cpython#136052), and a subject is at most 300 characters here.
    policy = default.clone(max_line_length=998)
    if not eight_bit:
        policy = policy.clone(cte_type="7bit")
    message = EmailMessage(policy=policy)
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id
    # RFC 3834: out-of-office responders must not answer machine mail.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body, charset="utf-8")

    options = ["BODY=8BITMIME"] if eight_bit else []
    international = not all(address.isascii() for address in [sender.addr_spec, *envelope])
    if international:
        if not session.supports_extension("smtputf8"):
            raise smtplib.SMTPNotSupportedError(
                "an address is not ASCII and the SMTP server does not offer SMTPUTF8"
            )
        options = ["SMTPUTF8", "BODY=8BITMIME"]
    data = message.as_bytes(policy=policy.clone(linesep="\r\n", utf8=international))
    encoding = "utf-8" if international else "ascii"
    try:
        await session.mail(sender.addr_spec, options=options, encoding=encoding)
    except aiosmtplib.SMTPSenderRefused as err:
        raise _classify({f"sender {err.sender}": (err.code, err.message)}) from err
    refused: dict[str, tuple[int, str]] = {}
    for recipient in envelope:
        try:
            await session.rcpt(recipient, encoding=encoding)
        except aiosmtplib.SMTPRecipientRefused as err:
            refused[f"recipient {recipient}"] = (err.code, err.message)
    if refused:
        raise _classify(refused)
    try:
        await session.data(data)
    except aiosmtplib.SMTPDataError as err:
        raise _classify({"the message": (err.code, err.message)}) from err


def _classify(refusals: Mapping[str, tuple[int, bytes | str]]) -> Exception:
    """Refused if any reply is permanent (5xx), else Deferred; the text names who and why."""
    detail = "; ".join(
        f"{who}: {code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"
        for who, (code, reply) in refusals.items()
    )
    if any(500 <= code < 600 for code, _ in refusals.values()):
        return Refused(f"the SMTP server refused {detail}")
    return Deferred(f"the SMTP server deferred {detail}")


async def _quit(session: aiosmtplib.SMTP) -> None:
    """Say QUIT if the session still allows it, and close the connection; never fails."""
    try:
        if session.is_connected:
            await session.quit()
    except (aiosmtplib.SMTPException, OSError):
        pass
    finally:
        session.close()
