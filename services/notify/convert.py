"""Conversions between delivery rows and the notify protos."""

from __future__ import annotations

import json

from csd.notify.v1 import notify_pb2

from services.notify.models import SENT, Delivery
from services.runtime.dates import rfc3339


def channel_name(value: int) -> str:
    """CHANNEL_EMAIL -> "email"."""
    return notify_pb2.Channel.Name(value).removeprefix("CHANNEL_").lower()  # type: ignore[arg-type]


def channel_value(name: str) -> int:
    """The enum value of a stored channel name: "email" -> CHANNEL_EMAIL."""
    return notify_pb2.Channel.Value("CHANNEL_" + name.upper())


def status_name(value: int) -> str:
    """DELIVERY_STATUS_SENT -> "sent"."""
    return notify_pb2.DeliveryStatus.Name(value).removeprefix("DELIVERY_STATUS_").lower()  # type: ignore[arg-type]


def status_value(name: str) -> int:
    """The enum value of a stored status name: "sent" -> DELIVERY_STATUS_SENT."""
    return notify_pb2.DeliveryStatus.Value("DELIVERY_STATUS_" + name.upper())


def delivery_message(delivery: Delivery, *, confirming: frozenset[str]) -> notify_pb2.Delivery:
    """The Delivery proto of a row (the body stays in the database). `confirming` names the
    providers whose success means the recipient has it."""
    return notify_pb2.Delivery(
        id=delivery.id,
        idempotency_key=delivery.idempotency_key,
        channel=channel_value(delivery.channel),  # type: ignore[arg-type]
        status=status_value(delivery.status),  # type: ignore[arg-type]
        recipients=json.loads(delivery.recipients),
        subject=delivery.subject,
        attempts=delivery.attempts,
        provider=delivery.provider,
        provider_ref=delivery.provider_ref,
        last_error=delivery.last_error,
        created_at=rfc3339(delivery.created_at),
        sent_at=rfc3339(delivery.sent_at),
        reference=delivery.reference,
        confirmed=delivery.status == SENT and delivery.provider in confirming,
    )
