"""The one way a csd-ops part connects to Temporal: the address, the namespace, TLS when
CSD_TEMPORAL_TLS_* is set and, when CSD_PAYLOAD_KEYS is set, the payload codec
(services/runtime/payload_codec.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import temporalio.converter
from temporalio.client import Client
from temporalio.runtime import Runtime
from temporalio.service import TLSConfig

from services.runtime.payload_codec import EncryptionCodec, Keyring
from services.runtime.settings import Settings
from workflows.payload_converter import StrictPayloadConverter


def data_converter(payload_keys: str = "") -> temporalio.converter.DataConverter:
    """The default converter with whole numbers kept whole (workflows/payload_converter.py),
    encrypting when `payload_keys` (CSD_PAYLOAD_KEYS) names keys."""
    converter = dataclasses.replace(
        temporalio.converter.default(), payload_converter_class=StrictPayloadConverter
    )
    if not payload_keys:
        return converter
    return dataclasses.replace(
        converter, payload_codec=EncryptionCodec(Keyring.parse(payload_keys))
    )


def tls_config(settings: Settings) -> TLSConfig | bool:
    """CSD_TEMPORAL_TLS_CA (the CA that signed the frontend's certificate) turns TLS on;
    CSD_TEMPORAL_TLS_CERT and _KEY add a client certificate for a frontend that requires one
    (mutual TLS); CSD_TEMPORAL_TLS_SERVER_NAME is the name to expect in the frontend's
    certificate when it differs from the address dialled."""
    ca, cert, key = (
        settings.temporal_tls_ca,
        settings.temporal_tls_cert,
        settings.temporal_tls_key,
    )
    if not ca:
        if cert or key or settings.temporal_tls_server_name:
            raise ValueError("CSD_TEMPORAL_TLS_* is set without CSD_TEMPORAL_TLS_CA")
        return False
    if bool(cert) != bool(key):
        raise ValueError("CSD_TEMPORAL_TLS_CERT and CSD_TEMPORAL_TLS_KEY go together")
    return TLSConfig(
        server_root_ca_cert=Path(ca).read_bytes(),
        client_cert=Path(cert).read_bytes() if cert else None,
        client_private_key=Path(key).read_bytes() if key else None,
        domain=settings.temporal_tls_server_name or None,
    )


async def connect(settings: Settings, *, runtime: Runtime | None = None) -> Client:
    """A client of the namespace; `runtime` is the SDK runtime its metrics go to (the worker's,
    services/worker/telemetry.py), the SDK's default when None."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings.payload_keys),
        tls=tls_config(settings),
        runtime=runtime,
    )
