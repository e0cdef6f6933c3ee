"""The NotifyService RPCs: validate, send once through the delivery log, map the result."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta

import grpc
from csd.notify.v1 import notify_pb2, notify_pb2_grpc
from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.notify import repository
from services.notify.convert import channel_name, delivery_message, status_name
from services.notify.delivery import InFlight, Outgoing, Send, deliver_once
from services.notify.email import Mailer
from services.notify.phone import PhoneProvider
from services.runtime.email_address import parse_address
from services.runtime.errors import InvalidArgument, NotFound
from services.runtime.idempotency import fingerprint, require_key

_PHONE = re.compile(r"^\+?[0-9][0-9 -]{5,30}$")
# A local number has at least 7 digits; E.164 allows at most 15.
MIN_PHONE_DIGITS = 7
MAX_PHONE_DIGITS = 15
# Most SMTP relays refuse more recipients than this in one message.
MAX_RECIPIENTS = 100
MAX_SUBJECT = 300
MAX_BODY = 100_000
MAX_PHONE_TEXT = 1_000
MAX_REFERENCE = 200
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

ALERT_PREFIXES = {
    notify_pb2.SEVERITY_WARNING: "[SLA WARNING] ",
    notify_pb2.SEVERITY_BREACH: "[SLA BREACH] ",
}


def _addresses(values: Sequence[str], field: str) -> list[str]:
    addresses = []
    for value in values:
        try:
            parse_address(value)
        except ValueError as err:
            raise InvalidArgument(f"{field} address {value!r} is not valid: {err}") from None
        addresses.append(value.strip())
    return addresses


def _subject(value: str) -> str:
    subject = value.strip()
    if not subject:
        raise InvalidArgument("subject is required")
    if "\r" in subject or "\n" in subject:
        raise InvalidArgument("subject must be one line")
    if len(subject) > MAX_SUBJECT:
        raise InvalidArgument(f"subject is longer than {MAX_SUBJECT} characters")
    return subject


def _text(value: str, field: str, limit: int) -> str:
    if not value.strip():
        raise InvalidArgument(f"{field} is required and cannot be blank")
    if len(value) > limit:
        raise InvalidArgument(f"{field} is longer than {limit} characters")
    return value


def _phone(value: str) -> str:
    phone = value.strip()
    digits = sum(c.isdigit() for c in phone)
    if not _PHONE.match(phone) or not MIN_PHONE_DIGITS <= digits <= MAX_PHONE_DIGITS:
        raise InvalidArgument(
            f"phone {value!r} is not a phone number: use digits, spaces or '-', "
            f"optionally after a '+', {MIN_PHONE_DIGITS} to {MAX_PHONE_DIGITS} digits, "
            "like +86 139 1111 0000"
        )
    return phone


def _reference(value: str) -> str:
    reference = value.strip()
    if len(reference) > MAX_REFERENCE:
        raise InvalidArgument(f"reference is longer than {MAX_REFERENCE} characters")
    return reference


class NotifyServicer(notify_pb2_grpc.NotifyServiceServicer):
    """Sends email, calls, SMS and alerts, once per idempotency key, and reports on them."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        mailer: Mailer,
        phone: PhoneProvider,
        lease: timedelta,
    ) -> None:
        self._sessions = sessions
        self._mailer = mailer
        self._phone = phone
        self._lease = lease
        self._in_flight = InFlight()
        # An SMTP server's acceptance counts as delivery; a call, only if the provider says so.
        self._confirming = frozenset(
            {mailer.name, *([phone.name] if phone.confirms_delivery else [])}
        )

    async def drain(self) -> None:
        """Let the sends under way record their outcome; call it after the server stopped."""
        await self._in_flight.drain(self._lease)

    async def SendEmail(
        self, request: notify_pb2.SendEmailRequest, context: grpc.aio.ServicerContext
    ) -> notify_pb2.Delivery:
        """Email `to` and `cc`; a retry with the key returns the first delivery."""
        key = require_key(request.idempotency_key)
        to = _addresses(request.to, "to")
        cc = _addresses(request.cc, "cc")
        subject = _subject(request.subject)
        return await self._mail(request, key=key, channel="email", to=to, cc=cc, subject=subject)

    async def SendAlert(
        self, request: notify_pb2.SendAlertRequest, context: grpc.aio.ServicerContext
    ) -> notify_pb2.Delivery:
        """Email a manager alert, its subject led by [SLA WARNING] or [SLA BREACH]."""
        key = require_key(request.idempotency_key)
        prefix = ALERT_PREFIXES.get(request.severity)
        if prefix is None:
            raise InvalidArgument("severity is required: SEVERITY_WARNING or SEVERITY_BREACH")
        to = _addresses(request.to, "to")
        subject = prefix + _subject(request.subject)
        return await self._mail(request, key=key, channel="alert", to=to, cc=[], subject=subject)

    async def _mail(
        self,
        request: notify_pb2.SendEmailRequest | notify_pb2.SendAlertRequest,
        *,
        key: str,
        channel: str,
        to: list[str],
        cc: list[str],
        subject: str,
    ) -> notify_pb2.Delivery:
        if not to:
            raise InvalidArgument("at least one 'to' address is required")
        if len(to) + len(cc) > MAX_RECIPIENTS:
            raise InvalidArgument(f"at most {MAX_RECIPIENTS} recipients in one message")
        body = _text(request.body_text, "body_text", MAX_BODY)

        async def send() -> str:
            return await self._mailer.send(to=to, cc=cc, subject=subject, body=body, key=key)

        outgoing = Outgoing(
            channel=channel,
            recipients=(*to, *cc),
            subject=subject,
            body=body,
            reference=_reference(request.reference),
            provider=self._mailer.name,
        )
        return await self._deliver(request, key, outgoing, send)

    async def PlaceCall(
        self, request: notify_pb2.PlaceCallRequest, context: grpc.aio.ServicerContext
    ) -> notify_pb2.Delivery:
        """Have the phone provider call and read the message out."""
        key = require_key(request.idempotency_key)
        phone = _phone(request.phone)
        message = _text(request.message, "message", MAX_PHONE_TEXT)

        async def send() -> str:
            return await self._phone.place_call(phone=phone, message=message, key=key)

        outgoing = Outgoing(
            channel="phone",
            recipients=(phone,),
            subject="",
            body=message,
            reference=_reference(request.reference),
            provider=self._phone.name,
        )
        return await self._deliver(request, key, outgoing, send)

    async def SendSms(
        self, request: notify_pb2.SendSmsRequest, context: grpc.aio.ServicerContext
    ) -> notify_pb2.Delivery:
        """Send an SMS through the phone provider."""
        key = require_key(request.idempotency_key)
        phone = _phone(request.phone)
        text = _text(request.text, "text", MAX_PHONE_TEXT)

        async def send() -> str:
            return await self._phone.send_sms(phone=phone, text=text, key=key)

        outgoing = Outgoing(
            channel="sms",
            recipients=(phone,),
            subject="",
            body=text,
            reference=_reference(request.reference),
            provider=self._phone.name,
        )
        return await self._deliver(request, key, outgoing, send)

    async def _deliver(
        self, request: Message, key: str, outgoing: Outgoing, send: Send
    ) -> notify_pb2.Delivery:
        delivery = await deliver_once(
            self._sessions,
            key=key,
            fingerprint=fingerprint(request),
            outgoing=outgoing,
            send=send,
            in_flight=self._in_flight,
            lease=self._lease,
        )
        return delivery_message(delivery, confirming=self._confirming)

    async def GetDelivery(
        self, request: notify_pb2.GetDeliveryRequest, context: grpc.aio.ServicerContext
    ) -> notify_pb2.Delivery:
        """The delivery made under an idempotency key, whatever its status."""
        key = require_key(request.idempotency_key)
        async with self._sessions() as session:
            delivery = await repository.get_by_key(key, session=session)
        if delivery is None:
            raise NotFound(f"no delivery has idempotency_key {key!r}")
        return delivery_message(delivery, confirming=self._confirming)

    async def ListDeliveries(
        self, request: notify_pb2.ListDeliveriesRequest, context: grpc.aio.ServicerContext
    ) -> notify_pb2.ListDeliveriesResponse:
        """Deliveries by channel, status and reference, newest first."""
        if request.channel not in notify_pb2.Channel.values():
            raise InvalidArgument(f"channel {request.channel} is not a known Channel")
        if request.status not in notify_pb2.DeliveryStatus.values():
            raise InvalidArgument(f"status {request.status} is not a known DeliveryStatus")
        if not 0 <= request.limit <= MAX_LIMIT:
            raise InvalidArgument(f"limit must be 1 to {MAX_LIMIT}, or 0 for {DEFAULT_LIMIT}")
        async with self._sessions() as session:
            deliveries = await repository.list_deliveries(
                session=session,
                channel=channel_name(request.channel) if request.channel else "",
                status=status_name(request.status) if request.status else "",
                reference=request.reference.strip(),
                limit=request.limit or DEFAULT_LIMIT,
            )
        return notify_pb2.ListDeliveriesResponse(
            deliveries=[delivery_message(d, confirming=self._confirming) for d in deliveries]
        )
