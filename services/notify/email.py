"""Email over SMTP: the Mailer interface and its SMTP implementation.

Addresses may carry display names in Chinese ("张伟 <zhang.wei@csd.example>"); they travel
RFC 2047-encoded, so any SMTP server takes them, and the body is UTF-8, sent as 8-bit only to
servers that announce 8BITMIME.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import smtplib
import ssl
from collections.abc import Sequence
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import default
from email.utils import format_datetime
from typing import Protocol

_ADDR_SPEC = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


def parse_address(text: str) -> Address:
    """One address, bare or with a display name; ValueError saying what is wrong otherwise."""
    if "\r" in text or "\n" in text:
        raise ValueError("an address cannot contain a line break")
    try:
        header = default.header_factory("To", text.strip())
    except Exception:
        # The stdlib parser meets some malformed input ("name@") with IndexError and the like.
        header = None
    if header is None or header.defects or len(header.addresses) != 1:
        raise ValueError("expected one address like name@csd.example or 张伟 <name@csd.example>")
    address: Address = header.addresses[0]
    if not _ADDR_SPEC.match(address.addr_spec):
        raise ValueError("the address needs a mailbox and a domain, like name@csd.example")
    return address


class Mailer(Protocol):
    """Sends one email; the notify service records the returned Message-ID as provider_ref."""

    name: str

    async def send(
        self, *, to: Sequence[str], cc: Sequence[str], subject: str, body: str, key: str
    ) -> str:
        """Send the message with the delivery's idempotency `key`; return its Message-ID."""
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
        starttls: bool = False,
        username: str = "",
        password: str = "",
        timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = parse_address(mail_from)
        self.starttls = starttls
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
        await asyncio.to_thread(self._submit, to, cc, subject, body, message_id)
        return message_id

    def _submit(
        self, to: Sequence[str], cc: Sequence[str], subject: str, body: str, message_id: str
    ) -> None:
        to_addresses = [parse_address(a) for a in to]
        cc_addresses = [parse_address(a) for a in cc]
        # Cc recipients get the message through the envelope; dict keeps order, drops repeats.
        envelope = list(dict.fromkeys(a.addr_spec for a in [*to_addresses, *cc_addresses]))
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.ehlo()
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self.password)
            eight_bit = bool(smtp.has_extn("8bitmime"))
            message = EmailMessage(policy=default if eight_bit else default.clone(cte_type="7bit"))
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
            smtp.send_message(
                message,
                from_addr=self.sender.addr_spec,
                to_addrs=envelope,
                mail_options=["BODY=8BITMIME"] if eight_bit else [],
            )
