"""Choosing the phone provider from the settings."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from services.notify.phone import LogProvider, WebhookProvider, provider_from_settings
from services.runtime.settings import Settings


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
