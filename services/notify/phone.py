"""Phone calls and SMS: the PhoneProvider interface and its implementations.

`log` writes each call and SMS as a JSON line to a file (var/phone.log in development) — a real
provider for a machine without a voice gateway. `webhook` POSTs them to the company's voice/SMS
gateway, passing the delivery's idempotency key so the gateway can drop a repeated request.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Protocol

import httpx
import structlog

from services.runtime.settings import Settings

log = structlog.get_logger("csd.notify.phone")

Kind = Literal["call", "sms"]


class PhoneProvider(Protocol):
    """Places calls and sends SMS; each returns the provider's reference for it."""

    name: str
    # Whether a successful call means the gateway confirms it reached the phone.
    confirms_delivery: bool

    async def place_call(self, *, phone: str, message: str, key: str) -> str:
        """Call `phone` and read `message` out."""
        ...

    async def send_sms(self, *, phone: str, text: str, key: str) -> str:
        """Send `text` to `phone`."""
        ...


class LogProvider:
    """Appends one JSON line per call or SMS to a file and logs it."""

    name = "log"
    confirms_delivery = False

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        # Lines from concurrent sends must not interleave.
        self._lock = asyncio.Lock()

    async def place_call(self, *, phone: str, message: str, key: str) -> str:
        """Record the call; the reference is a fresh id."""
        return await self._record("call", phone, message, key)

    async def send_sms(self, *, phone: str, text: str, key: str) -> str:
        """Record the SMS; the reference is a fresh id."""
        return await self._record("sms", phone, text, key)

    async def _record(self, kind: Kind, phone: str, message: str, key: str) -> str:
        reference = f"log-{uuid.uuid4().hex}"
        line = json.dumps(
            {
                "at": datetime.now(UTC).isoformat(),
                "id": reference,
                "kind": kind,
                "to": phone,
                "message": message,
                "idempotency_key": key,
            },
            ensure_ascii=False,
        )
        async with self._lock:
            await asyncio.to_thread(self._append, line)
        # The number masked and the words left out: the log is read by more people than the
        # phone log is.
        log.info(
            "phone message recorded", kind=kind, to=masked(phone), idempotency_key=key, id=reference
        )
        return reference

    def _append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as file:
            file.write(line + "\n")


def masked(phone: str) -> str:
    """A phone number as logs show it: its last four digits only."""
    digits = [c for c in phone if c.isdigit()]
    return "…" + "".join(digits[-4:]) if len(digits) > 4 else "…"


SIGNATURE_HEADER = "X-Csd-Signature"


def signature(secret: str, body: bytes) -> str:
    """HMAC-SHA256 of the request body with the shared secret, as the gateway checks it."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookError(Exception):
    """The gateway answered, but not with success. The text never holds the URL, which may
    carry a credential, nor anything the gateway echoed back."""


class WebhookProvider:
    """POSTs {"kind", "to", "message", "idempotency_key"} as JSON to a voice/SMS gateway."""

    name = "webhook"
    confirms_delivery = True

    def __init__(self, url: str, *, secret: str = "", timeout: float = 10.0) -> None:
        self.url = url
        self._secret = secret
        self.timeout = timeout

    async def place_call(self, *, phone: str, message: str, key: str) -> str:
        """Ask the gateway to call; its response's "id" is the reference."""
        return await self._post("call", phone, message, key)

    async def send_sms(self, *, phone: str, text: str, key: str) -> str:
        """Ask the gateway to send the SMS; its response's "id" is the reference."""
        return await self._post("sms", phone, text, key)

    async def _post(self, kind: Kind, phone: str, message: str, key: str) -> str:
        payload = {"kind": kind, "to": phone, "message": message, "idempotency_key": key}
        content = json.dumps(payload, ensure_ascii=False).encode()
        headers = {"Idempotency-Key": key, "Content-Type": "application/json"}
        if self._secret:
            headers[SIGNATURE_HEADER] = signature(self._secret, content)
        # A client per request: notifications are rare, and nothing is left to close at shutdown.
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.post(self.url, content=content, headers=headers)
        except httpx.TimeoutException:
            raise WebhookError("the voice gateway did not answer in time") from None
        except httpx.HTTPError as err:
            raise WebhookError(
                f"the voice gateway cannot be reached ({type(err).__name__})"
            ) from None
        if not response.is_success:
            raise WebhookError(f"the voice gateway answered HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            body = None
        reference = body.get("id") if isinstance(body, dict) else None
        # A gateway that names no id has still accepted the request under our key.
        return str(reference) if reference else key


def provider_from_settings(settings: Settings) -> PhoneProvider:
    """The provider CSD_PHONE_PROVIDER names; refuses an unknown or incomplete one at start-up."""
    match settings.phone_provider:
        case "log":
            return LogProvider(settings.var_dir / "phone.log")
        case "webhook":
            if not settings.phone_webhook_url:
                raise ValueError(
                    "CSD_PHONE_PROVIDER=webhook needs CSD_PHONE_WEBHOOK_URL, the gateway's URL"
                )
            return WebhookProvider(settings.phone_webhook_url, secret=settings.phone_webhook_secret)
        case other:
            raise ValueError(f"CSD_PHONE_PROVIDER must be 'log' or 'webhook', not {other!r}")
