"""Activities sending through the notify service. Each call carries an idempotency key made
from the business reference, so a retried activity never sends twice."""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc
from csd.notify.v1 import notify_pb2, notify_pb2_grpc
from temporalio import activity

from activities.grpc_status import CALL_DEADLINE_SECONDS, call

# Sending waits on an SMTP server or a voice gateway: allow it more than a directory read.
SEND_DEADLINE_SECONDS = 20.0


@dataclass
class EmailInput:
    idempotency_key: str
    to: list[str]
    subject: str
    body: str
    cc: list[str] = field(default_factory=list)
    reference: str = ""


@dataclass
class CallInput:
    idempotency_key: str
    phone: str
    message: str
    reference: str = ""


@dataclass
class AlertInput:
    idempotency_key: str
    to: list[str]
    subject: str
    body: str
    breach: bool = False
    reference: str = ""


@dataclass
class DeliveryResult:
    delivery_id: str
    status: str
    provider_ref: str
    attempts: int
    # The recipient is known to have it (see Delivery.confirmed in notify.proto).
    confirmed: bool = False


def _result(delivery: notify_pb2.Delivery) -> DeliveryResult:
    return DeliveryResult(
        delivery_id=delivery.id,
        status=notify_pb2.DeliveryStatus.Name(delivery.status)
        .removeprefix("DELIVERY_STATUS_")
        .lower(),
        provider_ref=delivery.provider_ref,
        attempts=delivery.attempts,
        confirmed=delivery.confirmed,
    )


class NotifyActivities:
    """Email, phone and manager alerts."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = notify_pb2_grpc.NotifyServiceStub(channel)

    @activity.defn(name="notify.send_email")
    async def send_email(self, input: EmailInput) -> DeliveryResult:
        delivery = await call(
            self._stub.SendEmail(
                notify_pb2.SendEmailRequest(
                    idempotency_key=input.idempotency_key,
                    to=input.to,
                    cc=input.cc,
                    subject=input.subject,
                    body_text=input.body,
                    reference=input.reference,
                ),
                timeout=SEND_DEADLINE_SECONDS,
            )
        )
        return _result(delivery)

    @activity.defn(name="notify.place_call")
    async def place_call(self, input: CallInput) -> DeliveryResult:
        delivery = await call(
            self._stub.PlaceCall(
                notify_pb2.PlaceCallRequest(
                    idempotency_key=input.idempotency_key,
                    phone=input.phone,
                    message=input.message,
                    reference=input.reference,
                ),
                timeout=SEND_DEADLINE_SECONDS,
            )
        )
        return _result(delivery)

    @activity.defn(name="notify.send_alert")
    async def send_alert(self, input: AlertInput) -> DeliveryResult:
        severity = notify_pb2.SEVERITY_BREACH if input.breach else notify_pb2.SEVERITY_WARNING
        delivery = await call(
            self._stub.SendAlert(
                notify_pb2.SendAlertRequest(
                    idempotency_key=input.idempotency_key,
                    to=input.to,
                    subject=input.subject,
                    body_text=input.body,
                    severity=severity,
                    reference=input.reference,
                ),
                timeout=CALL_DEADLINE_SECONDS * 4,
            )
        )
        return _result(delivery)
