"""Mutual TLS between csd-ops parts: who a part is, and the channels and ports that prove it.

Every part holds a certificate from the deployment's CA whose subject alternative names include
`<part>.csd-ops` (staff, finance, notify, gateway, worker, admin). A server asks each caller for
its certificate, and the name in it is the caller's identity for the allow-lists
(services/runtime/peers.py); a client checks that the server it reached holds the certificate of
the part it meant to call, whatever address it dialled. `CSD_TLS_CA`, `CSD_TLS_CERT` and
`CSD_TLS_KEY` name the PEM files; `csd dev` makes a CA and a certificate per part under var/tls/
(services/runtime/dev_pki.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc

DOMAIN = "csd-ops"

# The parts that call or serve; admin is the operators' identity, used by the csd admin commands.
STAFF = "staff"
FINANCE = "finance"
NOTIFY = "notify"
GATEWAY = "gateway"
WORKER = "worker"
ADMIN = "admin"
# The Temporal frontend, where TLS is put in front of it (a proxy, or its own TLS settings).
TEMPORAL = "temporal"
PARTS = (STAFF, FINANCE, NOTIFY, GATEWAY, WORKER, ADMIN, TEMPORAL)


def identity_name(part: str) -> str:
    """The name a part's certificate carries: `worker.csd-ops`."""
    return f"{part}.{DOMAIN}"


def part_of(name: str) -> str | None:
    """The part a certificate name stands for, or None for a name outside csd-ops."""
    part, dot, domain = name.partition(".")
    if dot and domain == DOMAIN and part in PARTS:
        return part
    return None


class TlsSettingsError(ValueError):
    """The TLS settings are incomplete or name files that cannot be read."""


@dataclass(frozen=True)
class TlsFiles:
    """A part's PEM files: the CA it trusts, its certificate chain and its private key."""

    ca: Path
    cert: Path
    key: Path

    @classmethod
    def from_paths(cls, ca: str, cert: str, key: str) -> TlsFiles | None:
        """All three or none: a half-configured TLS must not fall back to plain text."""
        given = {"CSD_TLS_CA": ca, "CSD_TLS_CERT": cert, "CSD_TLS_KEY": key}
        if not any(given.values()):
            return None
        missing = [name for name, value in given.items() if not value]
        if missing:
            raise TlsSettingsError(
                f"TLS needs all of {', '.join(given)}; {', '.join(missing)} is not set"
            )
        files = cls(Path(ca), Path(cert), Path(key))
        for name, path in zip(given, (files.ca, files.cert, files.key), strict=True):
            if not path.is_file():
                raise TlsSettingsError(f"{name} names {path}, which is not a readable file")
        return files

    def read(self) -> tuple[bytes, bytes, bytes]:
        """The three files' PEM; TlsSettingsError naming the file when one is missing or holds
        no PEM block (gRPC's core would abort the whole process on an empty certificate)."""
        ca, cert, key = (
            _pem(self.ca, "CA certificate"),
            _pem(self.cert, "certificate"),
            _pem(self.key, "private key"),
        )
        return ca, cert, key


def _pem(path: Path, what: str) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise TlsSettingsError(f"the {what} {path} cannot be read: {err.strerror}") from None
    if b"-----BEGIN " not in data:
        raise TlsSettingsError(
            f"the {what} {path} holds no PEM block (empty, or still being written)"
        )
    return data


def server_credentials(files: TlsFiles, *, require_client_cert: bool) -> grpc.ServerCredentials:
    """Credentials for a listening port; internal services require a client certificate from
    the CA, the gateway (whose callers are people with bearer tokens) does not."""
    ca, cert, key = files.read()
    return grpc.ssl_server_credentials(
        [(key, cert)], root_certificates=ca, require_client_auth=require_client_cert
    )


def open_channel(address: str, *, to: str, tls: TlsFiles | None) -> grpc.aio.Channel:
    """A channel to the part `to` at `address`: mutual TLS when `tls` is given, where the server
    must prove it is `to` (its certificate names `<to>.csd-ops`), else plain text."""
    if tls is None:
        return grpc.aio.insecure_channel(address)
    ca, cert, key = tls.read()
    credentials = grpc.ssl_channel_credentials(
        root_certificates=ca, private_key=key, certificate_chain=cert
    )
    return grpc.aio.secure_channel(
        address,
        credentials,
        options=[("grpc.ssl_target_name_override", identity_name(to))],
    )


def caller_part(context: grpc.aio.ServicerContext) -> str | None:
    """The csd-ops part the caller's certificate names, or None (no certificate, or another)."""
    names = context.peer_identities() or []
    for raw in names:
        part = part_of(raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw))
        if part is not None:
            return part
    return None
