"""Choosing the phone provider from the settings."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import structlog

from services.notify.phone import (
    LogProvider,
    WebhookError,
    WebhookProvider,
    masked,
    provider_from_settings,
    signature,
)
from services.runtime.settings import Settings
from tests.phone_gateway import PhoneGateway


def settings(tmp_path: Path, **changes: object) -> Settings:
    return replace(Settings.from_env(), var_dir=tmp_path, **changes)  # type: ignore[arg-type]


def test_log_provider_writes_under_var(tmp_path: Path) -> None:
    provider = provider_from_settings(settings(tmp_path, phone_provider="log"))
    assert isinstance(provider, LogProvider)
    assert provider.path == tmp_path / "phone.log"


def test_webhook_provider_uses_the_configured_url(tmp_path: Path) -> None:
    provider = provider_from_settings(
        settings(tmp_path, phone_provider="webhook", phone_webhook_url="https://gw.example/calls")
    )
    assert isinstance(provider, WebhookProvider)
    assert provider.url == "https://gw.example/calls"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"phone_provider": "webhook", "phone_webhook_url": ""}, "CSD_PHONE_WEBHOOK_URL"),
        ({"phone_provider": "carrier-pigeon"}, "'log' or 'webhook'"),
    ],
)
def test_an_unusable_provider_is_refused_at_start_up(
    tmp_path: Path, changes: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        provider_from_settings(settings(tmp_path, **changes))


async def test_a_webhook_call_is_signed_with_the_shared_secret() -> None:
    """CSD_PHONE_WEBHOOK_SECRET: the gateway can tell our requests from anyone else's."""
    gateway = PhoneGateway()
    gateway.start()
    try:
        provider = WebhookProvider(gateway.url, secret="s3cret")
        await provider.place_call(phone="+86-139-0000-0006", message="hi", key="k-1")
    finally:
        gateway.stop()
    [request] = gateway.requests
    assert request.headers["X-Csd-Signature"] == signature("s3cret", request.raw)
    assert request.headers["X-Csd-Signature"] != signature("another", request.raw)


async def test_a_failing_webhook_never_repeats_its_url_or_what_it_answered() -> None:
    """The URL may carry the gateway's credential; what it echoes may carry anything."""
    gateway = PhoneGateway()
    gateway.start()
    gateway.failures = 1
    try:
        with pytest.raises(WebhookError) as answered:
            await WebhookProvider(f"{gateway.url}?token=tok-9931").place_call(
                phone="+86-139-0000-0006", message="hi", key="k-2"
            )
    finally:
        gateway.stop()
    with pytest.raises(WebhookError) as unreachable:
        await WebhookProvider("http://user:pw-4417@127.0.0.1:1/calls?token=tok-9931").place_call(
            phone="+86-139-0000-0006", message="hi", key="k-3"
        )
    for err in (answered.value, unreachable.value):
        for secret in ("tok-9931", "pw-4417", "overloaded", "127.0.0.1"):
            assert secret not in str(err), str(err)
    assert "HTTP 500" in str(answered.value)


def test_a_phone_number_is_masked_in_logs() -> None:
    assert masked("+86-139-0000-0006") == "…0006"
    assert masked("12") == "…"


async def test_the_log_provider_logs_no_number_and_no_words(tmp_path: Path) -> None:
    with structlog.testing.capture_logs() as logs:
        await LogProvider(tmp_path / "phone.log").place_call(
            phone="+86-139-0000-0006", message="bed 5 patient", key="k-4"
        )
    [line] = [entry for entry in logs if entry["event"] == "phone message recorded"]
    assert "+86-139-0000-0006" not in str(line) and "bed 5 patient" not in str(line)
