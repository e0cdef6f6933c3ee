"""Delivery.confirmed: the recipient is known to have it, or a process must ask them."""

from __future__ import annotations

from csd.notify.v1 import notify_pb2 as N

from services.notify.phone import WebhookProvider
from tests.phone_gateway import PhoneGateway
from tests.services.notify.conftest import StartNotify


async def test_mail_and_gateway_calls_are_confirmed_logged_calls_are_not(
    start_notify: StartNotify, phone_gateway: PhoneGateway
) -> None:
    logged = await start_notify()
    mail = await logged.SendEmail(
        N.SendEmailRequest(idempotency_key="c-1", to=["a@csd.example"], subject="s", body_text="b")
    )
    call = await logged.PlaceCall(
        N.PlaceCallRequest(idempotency_key="c-2", phone="+86-139-0000-0001", message="m")
    )
    assert (mail.confirmed, call.confirmed) == (True, False)
    stored = await logged.GetDelivery(N.GetDeliveryRequest(idempotency_key="c-2"))
    assert stored.confirmed is False

    gateway = await start_notify(phone=WebhookProvider(phone_gateway.url))
    answered = await gateway.PlaceCall(
        N.PlaceCallRequest(idempotency_key="c-3", phone="+86-139-0000-0001", message="m")
    )
    assert answered.confirmed is True
