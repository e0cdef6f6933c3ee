"""The notify service over real gRPC, real SMTP and real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import grpc
import pytest
from csd.notify.v1 import notify_pb2
from csd.notify.v1.notify_pb2_grpc import NotifyServiceStub
from prometheus_client import REGISTRY

from services.mailsink import MailSink, envelope_recipients
from services.notify.phone import WebhookProvider
from tests.ports import free_port
from tests.services.notify.conftest import PhoneGateway, StartNotify, smtp_mailer

N = notify_pb2


def email(key: str = "leave-zhang.wei-2026-12-01", **changes: object) -> N.SendEmailRequest:
    fields: dict[str, object] = {
        "idempotency_key": key,
        "to": ["王强 <wang.qiang@csd.example>"],
        "cc": ["chen.jing@csd.example"],
        "subject": "请假申请 - 张伟 12 月 1 日至 3 日",
        "body_text": "王经理您好:\n\n张伟申请 12 月 1 日至 3 日年假, 请审批。\n",
        "reference": "leave-zhang.wei-2026-12-01",
    }
    fields.update(changes)
    return N.SendEmailRequest(**fields)  # type: ignore[arg-type]


def call(key: str = "oncall-east-1", **changes: object) -> N.PlaceCallRequest:
    fields: dict[str, object] = {
        "idempotency_key": key,
        "phone": "+86 139 1111 0000",
        "message": "华东区重大问题 P1, 请立即处理。",
        "reference": "problem-east-1",
    }
    fields.update(changes)
    return N.PlaceCallRequest(**fields)  # type: ignore[arg-type]


def sms(key: str = "sms-east-1", **changes: object) -> N.SendSmsRequest:
    fields: dict[str, object] = {
        "idempotency_key": key,
        "phone": "+86-139-1111-0000",
        "text": "请假已批准。",
        "reference": "leave-zhang.wei-2026-12-01",
    }
    fields.update(changes)
    return N.SendSmsRequest(**fields)  # type: ignore[arg-type]


def alert(key: str = "sla-east-1", **changes: object) -> N.SendAlertRequest:
    fields: dict[str, object] = {
        "idempotency_key": key,
        "to": ["黄爱萍 <huang.aiping@csd.example>"],
        "subject": "华东区工单 4 小时未响应",
        "body_text": "工单 T-1001 已超过响应时限。",
        "severity": N.SEVERITY_WARNING,
        "reference": "ticket-T-1001",
    }
    fields.update(changes)
    return N.SendAlertRequest(**fields)  # type: ignore[arg-type]


def phone_lines(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def test_email_arrives_over_smtp_with_chinese_names_and_cc(
    notify: NotifyServiceStub, mail_sink: MailSink
) -> None:
    delivery = await notify.SendEmail(email())

    assert delivery.status == N.DELIVERY_STATUS_SENT
    assert delivery.channel == N.CHANNEL_EMAIL
    assert delivery.attempts == 1
    assert delivery.provider == "smtp"
    assert list(delivery.recipients) == ["王强 <wang.qiang@csd.example>", "chen.jing@csd.example"]
    assert delivery.created_at.endswith("Z") and delivery.sent_at.endswith("Z")
    assert delivery.reference == "leave-zhang.wei-2026-12-01"

    assert len(mail_sink.messages) == 1
    mail = mail_sink.messages[0]
    assert mail["Message-ID"] == delivery.provider_ref
    assert mail["Subject"] == "请假申请 - 张伟 12 月 1 日至 3 日"
    assert mail["From"].addresses[0].display_name == "客服运营"
    assert mail["To"].addresses[0].display_name == "王强"
    assert mail["Cc"] == "chen.jing@csd.example"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert "请审批" in mail.get_content()
    assert envelope_recipients(mail) == ["wang.qiang@csd.example", "chen.jing@csd.example"]


async def test_same_key_twice_sends_one_mail_and_returns_the_first_delivery(
    notify: NotifyServiceStub, mail_sink: MailSink
) -> None:
    first = await notify.SendEmail(email())
    second = await notify.SendEmail(email())
    assert second == first
    assert (
        await notify.GetDelivery(N.GetDeliveryRequest(idempotency_key=first.idempotency_key))
        == first
    )
    assert len(mail_sink.messages) == 1


@pytest.mark.faults
async def test_parallel_duplicates_send_exactly_one_mail(
    notify: NotifyServiceStub, mail_sink: MailSink
) -> None:
    results = await asyncio.gather(
        *(notify.SendEmail(email()) for _ in range(8)), return_exceptions=True
    )

    answers = [r for r in results if isinstance(r, N.Delivery)]
    refused = [r for r in results if not isinstance(r, N.Delivery)]
    assert answers, results
    assert all(a == answers[0] for a in answers)
    # A duplicate that arrives while the first is sending is told to retry, never sent twice.
    for error in refused:
        assert isinstance(error, grpc.aio.AioRpcError), error
        assert error.code() == grpc.StatusCode.ABORTED
        assert "in progress" in (error.details() or "")
    assert len(mail_sink.messages) == 1
    assert await notify.SendEmail(email()) == answers[0]
    assert answers[0].attempts == 1


async def test_a_key_reused_for_another_message_is_refused(
    notify: NotifyServiceStub, mail_sink: MailSink
) -> None:
    first = await notify.SendEmail(email())
    for other in (
        notify.SendEmail(email(subject="另一封邮件")),
        notify.SendSms(sms(key=first.idempotency_key)),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await other
        assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert first.idempotency_key in (err.value.details() or "")
        assert "different message" in (err.value.details() or "")
    assert len(mail_sink.messages) == 1
    assert (
        await notify.GetDelivery(N.GetDeliveryRequest(idempotency_key=first.idempotency_key))
        == first
    )


@pytest.mark.faults
async def test_smtp_outage_fails_the_attempt_and_the_retry_delivers_once(
    start_notify: StartNotify, tmp_path: Path
) -> None:
    port = free_port()
    notify = await start_notify(mailer=smtp_mailer(port))
    request = email()
    failures, sends = _attempts("email", "failed"), _attempts("email", "sent")

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await notify.SendEmail(request)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    assert _attempts("email", "failed") == failures + 1  # what the "notify failing" alert sees
    details = err.value.details() or ""
    assert "email" in details and "smtp" in details and "ConnectionRefusedError" in details
    failed = await notify.GetDelivery(N.GetDeliveryRequest(idempotency_key=request.idempotency_key))
    assert failed.status == N.DELIVERY_STATUS_FAILED
    assert failed.attempts == 1
    assert "ConnectionRefusedError" in failed.last_error
    assert failed.sent_at == ""

    sink = MailSink(tmp_path / "late-mail")
    await sink.start(port=port)
    try:
        delivered = await notify.SendEmail(request)
        again = await notify.SendEmail(request)
    finally:
        await sink.stop()
    assert delivered.status == N.DELIVERY_STATUS_SENT
    assert delivered.attempts == 2
    assert delivered.last_error == ""
    assert delivered.id == failed.id and delivered.created_at == failed.created_at
    assert again == delivered
    assert len(sink.messages) == 1
    assert _attempts("email", "sent") == sends + 1  # the answered retry is no new attempt


def _attempts(channel: str, outcome: str) -> float:
    """csd_notifications_total{channel, outcome} in this process."""
    value = REGISTRY.get_sample_value(
        "csd_notifications_total", {"channel": channel, "outcome": outcome}
    )
    return value or 0.0


class StallingMailer:
    """Hangs in its first send, like a sender that crashed mid-send, until `release` is set and
    it fails; then sends normally."""

    name = "smtp"

    def __init__(self, port: int) -> None:
        self._inner = smtp_mailer(port)
        self.calls = 0
        self.release = asyncio.Event()
        self.gave_up = asyncio.Event()

    async def send(
        self, *, to: Sequence[str], cc: Sequence[str], subject: str, body: str, key: str
    ) -> str:
        self.calls += 1
        if self.calls == 1:
            await self.release.wait()
            self.gave_up.set()
            raise ConnectionResetError("the stalled sender lost its connection")
        return await self._inner.send(to=to, cc=cc, subject=subject, body=body, key=key)


@pytest.mark.faults
async def test_a_send_abandoned_mid_way_is_taken_over_after_its_lease(
    start_notify: StartNotify, mail_sink: MailSink
) -> None:
    lease = timedelta(seconds=1)
    mailer = StallingMailer(mail_sink.port)
    notify = await start_notify(mailer=mailer, lease=lease)

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await notify.SendEmail(email(), timeout=0.5)
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    pending = await notify.GetDelivery(
        N.GetDeliveryRequest(idempotency_key=email().idempotency_key)
    )
    assert pending.status == N.DELIVERY_STATUS_PENDING

    # Within the lease the first sender might still be at work: the retry must not overtake it.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await notify.SendEmail(email())
    assert err.value.code() == grpc.StatusCode.ABORTED

    await asyncio.sleep(lease.total_seconds())
    delivered = await notify.SendEmail(email())
    assert delivered.status == N.DELIVERY_STATUS_SENT
    assert delivered.attempts == 2
    assert len(mail_sink.messages) == 1

    # The overtaken attempt's late failure does not overwrite the outcome that stands.
    mailer.release.set()
    await mailer.gave_up.wait()
    assert await notify.SendEmail(email()) == delivered


async def test_calls_and_sms_through_the_log_provider_once_per_key(
    notify: NotifyServiceStub, phone_log: Path
) -> None:
    placed = await notify.PlaceCall(call())
    assert await notify.PlaceCall(call()) == placed
    texted = await notify.SendSms(sms())
    assert await notify.SendSms(sms()) == texted

    lines = phone_lines(phone_log)
    assert [(line["kind"], line["idempotency_key"]) for line in lines] == [
        ("call", "oncall-east-1"),
        ("sms", "sms-east-1"),
    ]
    assert lines[0]["to"] == "+86 139 1111 0000"
    assert lines[0]["message"] == "华东区重大问题 P1, 请立即处理。"
    assert (placed.provider, placed.provider_ref) == ("log", lines[0]["id"])
    assert (placed.channel, list(placed.recipients)) == (N.CHANNEL_PHONE, ["+86 139 1111 0000"])
    assert (texted.channel, texted.provider_ref) == (N.CHANNEL_SMS, lines[1]["id"])


async def test_webhook_provider_posts_once_with_the_idempotency_key(
    start_notify: StartNotify, phone_gateway: PhoneGateway
) -> None:
    notify = await start_notify(phone=WebhookProvider(phone_gateway.url, timeout=5))
    placed = await notify.PlaceCall(call())
    assert await notify.PlaceCall(call()) == placed

    assert len(phone_gateway.requests) == 1
    request = phone_gateway.requests[0]
    assert request.headers["Idempotency-Key"] == "oncall-east-1"
    assert request.body == {
        "kind": "call",
        "to": "+86 139 1111 0000",
        "message": "华东区重大问题 P1, 请立即处理。",
        "idempotency_key": "oncall-east-1",
    }
    assert (placed.provider, placed.provider_ref) == ("webhook", "gw-1")


async def test_webhook_failure_is_unavailable_and_the_retry_succeeds(
    start_notify: StartNotify, phone_gateway: PhoneGateway
) -> None:
    notify = await start_notify(phone=WebhookProvider(phone_gateway.url, timeout=5))
    phone_gateway.failures = 1

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await notify.SendSms(sms())
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "sms" in (err.value.details() or "") and "500" in (err.value.details() or "")

    texted = await notify.SendSms(sms())
    assert texted.status == N.DELIVERY_STATUS_SENT
    assert texted.attempts == 2
    assert texted.provider_ref == "gw-2"
    assert [r.headers["Idempotency-Key"] for r in phone_gateway.requests] == ["sms-east-1"] * 2
    assert [r.body["kind"] for r in phone_gateway.requests] == ["sms", "sms"]


@pytest.mark.parametrize(
    ("severity", "prefix"),
    [(N.SEVERITY_WARNING, "[SLA WARNING] "), (N.SEVERITY_BREACH, "[SLA BREACH] ")],
)
async def test_alert_is_an_email_with_the_severity_in_the_subject(
    notify: NotifyServiceStub, mail_sink: MailSink, severity: int, prefix: str
) -> None:
    delivery = await notify.SendAlert(alert(severity=severity))
    subject = prefix + "华东区工单 4 小时未响应"
    assert delivery.channel == N.CHANNEL_ALERT
    assert delivery.subject == subject
    mail = await mail_sink.wait_for(lambda m: m["Subject"] == subject)
    assert envelope_recipients(mail) == ["huang.aiping@csd.example"]
    assert mail["Message-ID"] == delivery.provider_ref


async def test_list_deliveries_filters_newest_first(
    start_notify: StartNotify, phone_gateway: PhoneGateway
) -> None:
    notify = await start_notify(phone=WebhookProvider(phone_gateway.url, timeout=5))
    mailed = await notify.SendEmail(email())
    phone_gateway.failures = 1
    with pytest.raises(grpc.aio.AioRpcError):
        await notify.SendSms(sms())
    alerted = await notify.SendAlert(alert())

    async def keys(**filters: object) -> list[str]:
        response = await notify.ListDeliveries(N.ListDeliveriesRequest(**filters))  # type: ignore[arg-type]
        return [d.idempotency_key for d in response.deliveries]

    assert await keys() == ["sla-east-1", "sms-east-1", mailed.idempotency_key]
    assert await keys(channel=N.CHANNEL_SMS) == ["sms-east-1"]
    assert await keys(status=N.DELIVERY_STATUS_FAILED) == ["sms-east-1"]
    assert await keys(status=N.DELIVERY_STATUS_SENT) == ["sla-east-1", mailed.idempotency_key]
    assert await keys(reference="leave-zhang.wei-2026-12-01") == [
        "sms-east-1",
        mailed.idempotency_key,
    ]
    assert await keys(channel=N.CHANNEL_ALERT, reference=alerted.reference) == ["sla-east-1"]
    assert await keys(channel=N.CHANNEL_EMAIL, reference="ticket-T-1001") == []
    assert await keys(limit=1) == ["sla-east-1"]


INVALID = grpc.StatusCode.INVALID_ARGUMENT


def bad(
    name: str, rpc: str, request: object, code: grpc.StatusCode = INVALID
) -> pytest.ParameterSet:
    return pytest.param(rpc, request, code, id=f"{rpc}-{name}")


BAD_REQUESTS = [
    bad("no-key", "SendEmail", email(key="")),
    bad("blank-key", "SendEmail", email(key="   ")),
    bad("long-key", "SendEmail", email(key="k" * 201)),
    bad("no-to", "SendEmail", email(to=[])),
    bad("no-domain", "SendEmail", email(to=["wang.qiang"])),
    bad("two-in-one", "SendEmail", email(to=["a@csd.example, b@csd.example"])),
    bad("header-injection", "SendEmail", email(to=["a@csd.example\r\nBcc: x@evil.example"])),
    bad("bad-cc", "SendEmail", email(cc=["not an address"])),
    bad("too-many", "SendEmail", email(to=[f"p{i}@csd.example" for i in range(101)])),
    bad("no-subject", "SendEmail", email(subject="")),
    bad("two-line-subject", "SendEmail", email(subject="line one\nBcc: x@evil.example")),
    bad("long-subject", "SendEmail", email(subject="长" * 301)),
    bad("blank-body", "SendEmail", email(body_text=" \n ")),
    bad("long-reference", "SendEmail", email(reference="r" * 201)),
    bad("no-key", "PlaceCall", call(key="")),
    bad("no-phone", "PlaceCall", call(phone="")),
    bad("words", "PlaceCall", call(phone="call me")),
    bad("too-short", "PlaceCall", call(phone="+86 139")),
    bad("no-message", "PlaceCall", call(message="")),
    bad("no-key", "SendSms", sms(key="")),
    bad("letters", "SendSms", sms(phone="139-abcd-0000")),
    bad("blank-text", "SendSms", sms(text="  ")),
    bad("long-text", "SendSms", sms(text="字" * 1001)),
    bad("no-key", "SendAlert", alert(key="")),
    bad("no-severity", "SendAlert", alert(severity=N.SEVERITY_UNSPECIFIED)),
    bad("no-to", "SendAlert", alert(to=[])),
    bad("no-domain", "SendAlert", alert(to=["huang.aiping@"])),
    bad("no-subject", "SendAlert", alert(subject="")),
    bad("no-body", "SendAlert", alert(body_text="")),
    bad("no-key", "GetDelivery", N.GetDeliveryRequest(idempotency_key="")),
    bad(
        "unknown",
        "GetDelivery",
        N.GetDeliveryRequest(idempotency_key="never-sent"),
        grpc.StatusCode.NOT_FOUND,
    ),
    bad("negative-limit", "ListDeliveries", N.ListDeliveriesRequest(limit=-1)),
    bad("huge-limit", "ListDeliveries", N.ListDeliveriesRequest(limit=1001)),
    bad("unknown-channel", "ListDeliveries", N.ListDeliveriesRequest(channel=99)),  # type: ignore[arg-type]
    bad("unknown-status", "ListDeliveries", N.ListDeliveriesRequest(status=99)),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("rpc", "request_message", "code"), BAD_REQUESTS)
async def test_bad_input_gets_a_clear_status_and_sends_and_writes_nothing(
    notify: NotifyServiceStub,
    mail_sink: MailSink,
    phone_log: Path,
    rpc: str,
    request_message: object,
    code: grpc.StatusCode,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await getattr(notify, rpc)(request_message)
    assert err.value.code() == code
    assert err.value.details()
    assert "Traceback" not in (err.value.details() or "")
    assert (await notify.ListDeliveries(N.ListDeliveriesRequest())).deliveries == []
    assert mail_sink.messages == []
    assert not phone_log.exists()  # noqa: ASYNC240 - one stat call, after the fact


def test_the_bad_input_matrix_covers_every_rpc() -> None:
    rpcs = {method.name for method in N.DESCRIPTOR.services_by_name["NotifyService"].methods}
    assert {param.values[0] for param in BAD_REQUESTS} == rpcs
