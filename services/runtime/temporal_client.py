"""The one way a csd-ops part connects to Temporal: the address, the namespace and, when
CSD_PAYLOAD_KEYS is set, the payload codec (services/runtime/payload_codec.py)."""

from __future__ import annotations

import dataclasses

import temporalio.converter
from temporalio.client import Client

from services.runtime.payload_codec import EncryptionCodec, Keyring
from services.runtime.settings import Settings


def data_converter(payload_keys: str) -> temporalio.converter.DataConverter:
    """The default converter, encrypting when `payload_keys` (CSD_PAYLOAD_KEYS) names keys."""
    converter = temporalio.converter.default()
    if not payload_keys:
        return converter
    return dataclasses.replace(
        converter, payload_codec=EncryptionCodec(Keyring.parse(payload_keys))
    )


async def connect(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings.payload_keys),
    )
