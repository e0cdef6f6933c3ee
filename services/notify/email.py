"""Email over SMTP: the Mailer interface and its SMTP implementation.

Addresses may carry display names in Chinese ("张伟 <zhang.wei@csd.example>"); they travel
RFC 2047-encoded, so any SMTP server takes them, and the body is UTF-8, sent as 8-bit only to
servers that announce 8BITMIME.

A message goes to all of its recipients or to none: if the server refuses any recipient, the
transaction is abandoned before DATA. Nobody gets a notification that is then reported as failed,
and a retry cannot send a second copy to the recipients that were accepted the first time.
"""

from __future__ import annotations

import asyncio
import hashlib
import smtplib
import ssl
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import EmailPolicy, default
from email.utils import format_datetime
from typing import Any, Literal, Protocol, get_args

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
    """Submits mail to an SMTP server (the dev mail sink or the company's relay)."""

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
    ) -> None:
        """`timeout` bounds the whole exchange with the server, not each read."""
        self.host = host
        self.port = port
        self.sender = parse_address(mail_from)
        self.tls = tls_mode(tls)
        self.username = username
        self.password = password
        self.timeout = timeout

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
        """Send over SMTP in a worker thread (smtplib blocks); return the Message-ID."""
        message_id = self.message_id(key)
        try:
            await asyncio.to_thread(self._submit, to, cc, subject, body, message_id)
        except smtplib.SMTPRecipientsRefused as err:
            refusals = {f"recipient {address}": reply for address, reply in err.recipients.items()}
            raise _classify(refusals) from err
        except smtplib.SMTPSenderRefused as err:
            raise _classify({f"sender {err.sender}": (err.smtp_code, err.smtp_error)}) from err
        except smtplib.SMTPDataError as err:
            raise _classify({"the message": (err.smtp_code, err.smtp_error)}) from err
        return message_id

    def _open(self) -> smtplib.SMTP:
        """An open, greeted and (per `tls` and `username`) secured and logged-in session."""
        smtp: smtplib.SMTP
        if self.tls == "implicit":
            smtp = _BoundedSmtps(
                self.host, self.port, budget=self.timeout, context=ssl.create_default_context()
            )
        else:
            smtp = _BoundedSmtp(self.host, self.port, budget=self.timeout)
        try:
            smtp.ehlo()
            if self.tls == "starttls":
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self.password)
        except BaseException:
            _close(smtp)
            raise
        return smtp

    def _submit(
        self, to: Sequence[str], cc: Sequence[str], subject: str, body: str, message_id: str
    ) -> None:
        to_addresses = [parse_address(a) for a in to]
        cc_addresses = [parse_address(a) for a in cc]
        # Cc recipients get the message through the envelope; dict keeps order, drops repeats.
        envelope = list(dict.fromkeys(a.addr_spec for a in [*to_addresses, *cc_addresses]))
        smtp = self._open()
        try:
            eight_bit = bool(smtp.has_extn("8bitmime"))
            # No folding within the 998 octets RFC 5322 allows a line: Python's folder writes an
            # empty encoded word (=?utf-8?q??=) when a fold falls just before a non-ASCII word
            # (cpython#136052), and a subject is at most 300 characters here.
            policy = default.clone(max_line_length=998)
            if not eight_bit:
                policy = policy.clone(cte_type="7bit")
            message = EmailMessage(policy=policy)
            message["From"] = self.sender
            message["To"] = to_addresses
            if cc_addresses:
                message["Cc"] = cc_addresses
            message["Subject"] = subject
            message["Date"] = format_datetime(datetime.now(UTC))
            message["Message-ID"] = message_id
            # RFC 3834: out-of-office responders must not answer machine mail.
            message["Auto-Submitted"] = "auto-generated"
            message.set_content(body, charset="utf-8")
            _transact(smtp, self.sender.addr_spec, envelope, message, policy, eight_bit=eight_bit)
        finally:
            _close(smtp)


def _transact(
    smtp: smtplib.SMTP,
    sender: str,
    envelope: Sequence[str],
    message: EmailMessage,
    policy: EmailPolicy[EmailMessage],
    *,
    eight_bit: bool,
) -> None:
    """MAIL, every RCPT, then DATA only if every recipient was accepted.

    smtplib's sendmail goes on to DATA when only some recipients are refused; this is the same
    exchange without that.
    """
    options = ["BODY=8BITMIME"] if eight_bit else []
    international = not all(address.isascii() for address in [sender, *envelope])
    if international:
        if not smtp.has_extn("smtputf8"):
            raise smtplib.SMTPNotSupportedError(
                "an address is not ASCII and the SMTP server does not offer SMTPUTF8"
            )
        options = ["SMTPUTF8", "BODY=8BITMIME"]
    data = message.as_bytes(policy=policy.clone(linesep="\r\n", utf8=international))
    code, reply = smtp.mail(sender, options)
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    refused: dict[str, tuple[int, bytes]] = {}
    for recipient in envelope:
        code, reply = smtp.rcpt(recipient)
        if code not in (250, 251):
            refused[recipient] = (code, reply)
    if refused:
        raise smtplib.SMTPRecipientsRefused(refused)
    code, reply = smtp.data(data)
    if code != 250:
        raise smtplib.SMTPDataError(code, reply)


def _classify(refusals: Mapping[str, tuple[int, bytes | str]]) -> Exception:
    """Refused if any reply is permanent (5xx), else Deferred; the text names who and why."""
    detail = "; ".join(
        f"{who}: {code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"
        for who, (code, reply) in refusals.items()
    )
    if any(500 <= code < 600 for code, _ in refusals.values()):
        return Refused(f"the SMTP server refused {detail}")
    return Deferred(f"the SMTP server deferred {detail}")


def _close(smtp: smtplib.SMTP) -> None:
    """Say QUIT if the session still allows it, and close the connection.

    Once DATA was accepted the message is sent, whatever QUIT gets back, so nothing here may fail
    the send.
    """
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        pass
    finally:
        smtp.close()


class _BoundedSmtp(smtplib.SMTP):
    """An SMTP session that gives each command only what is left of one time budget.

    smtplib's own timeout applies to every socket operation, so a slow server could stretch a
    send to many times it; this bounds connect to last reply by `budget` seconds.
    """

    def __init__(self, host: str, port: int, *, budget: float, **options: Any) -> None:
        self._budget = budget
        self._deadline = time.monotonic() + budget
        super().__init__(host, port, timeout=budget, **options)

    def send(self, s: Any) -> None:
        """Send a command or the message with what is left of the budget."""
        self._bound()
        super().send(s)

    def getreply(self) -> tuple[int, bytes]:
        """Wait for a reply for what is left of the budget."""
        self._bound()
        try:
            return super().getreply()
        except smtplib.SMTPServerDisconnected as err:
            # smtplib reports a read timeout as a lost connection; say what really happened.
            if time.monotonic() >= self._deadline:
                raise self._expired() from err
            raise

    def _bound(self) -> None:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise self._expired()
        if self.sock is not None:
            self.sock.settimeout(remaining)

    def _expired(self) -> TimeoutError:
        return TimeoutError(f"the SMTP exchange took longer than {self._budget:g} s")


class _BoundedSmtps(_BoundedSmtp, smtplib.SMTP_SSL):
    """_BoundedSmtp over implicit TLS (SMTPS)."""
