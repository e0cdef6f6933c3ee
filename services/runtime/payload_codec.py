"""Encryption of everything csd-ops hands Temporal: workflow inputs and results, activity
arguments and answers, memos, Update and query payloads (AES-256-GCM).

Temporal keeps payloads in its database and shows them in its Web UI; with the codec on, what it
keeps is ciphertext, and only a part holding the key (worker, gateway, the csd command) reads it.
Keys form a keyring, `CSD_PAYLOAD_KEYS="<id>:<base64 32 bytes>,<id>:<...>"`: the first encrypts,
every one decrypts, so a key is rotated by putting a new one first and dropping the old one once
no running workflow or kept history still needs it. Each payload names its key id, which is also
authenticated with the ciphertext, so a payload cannot be passed off as another key's.
Each payload also names, in clear, the case (workflow id) it belongs to, likewise authenticated:
the codec endpoint decides per case who may see it in clear (services/runtime/codec_server.py),
and a payload cannot be relabelled as another case's to get past that.
Search attributes are not payloads and stay plain: they hold process, region, stage, SLA state
and rule version only, never personal data.
"""

from __future__ import annotations

import base64
import copy
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec, SerializationContext, WithSerializationContext

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
CASE = "csd-case"
_NONCE_BYTES = 12
_KEY_BYTES = 32
_ID = re.compile(r"^[A-Za-z0-9._-]{1,40}$")


class KeyringError(ValueError):
    """CSD_PAYLOAD_KEYS is malformed, or a payload names a key the keyring lacks."""


@dataclass(frozen=True)
class Keyring:
    """Payload keys by id; `current` encrypts."""

    current: str
    keys: Mapping[str, bytes]

    @classmethod
    def parse(cls, text: str) -> Keyring:
        keys: dict[str, bytes] = {}
        for entry in (e.strip() for e in text.split(",") if e.strip()):
            key_id, _, encoded = entry.partition(":")
            if not _ID.match(key_id):
                raise KeyringError(f"payload key id {key_id!r}: use 1-40 letters, digits, . _ -")
            try:
                key = base64.b64decode(encoded, validate=True)
            except ValueError:
                raise KeyringError(f"payload key {key_id} is not base64") from None
            if len(key) != _KEY_BYTES:
                raise KeyringError(f"payload key {key_id} is {len(key)} bytes, not {_KEY_BYTES}")
            if key_id in keys:
                raise KeyringError(f"payload key id {key_id} appears twice")
            keys[key_id] = key
        if not keys:
            raise KeyringError("CSD_PAYLOAD_KEYS holds no key")
        return cls(current=next(iter(keys)), keys=keys)

    @classmethod
    def generate(cls, key_id: str) -> Keyring:
        return cls(current=key_id, keys={key_id: AESGCM.generate_key(bit_length=256)})

    def render(self) -> str:
        """The CSD_PAYLOAD_KEYS form, current key first."""
        ordered = [self.current, *(k for k in self.keys if k != self.current)]
        return ",".join(f"{k}:{base64.b64encode(self.keys[k]).decode()}" for k in ordered)

    def rotated(self, key_id: str) -> Keyring:
        """This keyring with a new current key; the old ones still decrypt."""
        if key_id in self.keys:
            raise KeyringError(f"payload key id {key_id} is already in the keyring")
        fresh = AESGCM.generate_key(bit_length=256)
        return Keyring(current=key_id, keys={key_id: fresh, **self.keys})


class EncryptionCodec(PayloadCodec, WithSerializationContext):
    """AES-256-GCM over each whole payload (metadata and data), keyed by the keyring; bound to
    the case (workflow id) the SDK says the payload is for."""

    def __init__(self, keyring: Keyring, *, case: str = "") -> None:
        self._keyring = keyring
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keyring.keys.items()}
        self._case = case

    def with_context(self, context: SerializationContext) -> EncryptionCodec:
        """The same keys, bound to the workflow a payload is an input, output or activity of."""
        case = getattr(context, "workflow_id", None) or ""
        if case == self._case:
            return self
        bound = copy.copy(self)  # the ciphers are shared: only the case differs
        bound._case = case
        return bound

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        key_id = self._keyring.current
        cipher = self._ciphers[key_id]
        case = self._case.encode()
        metadata = {"encoding": ENCODING, KEY_ID: key_id.encode()}
        if case:
            metadata[CASE] = case
        encoded = []
        for payload in payloads:
            nonce = os.urandom(_NONCE_BYTES)
            sealed = cipher.encrypt(nonce, payload.SerializeToString(), _bound(key_id, case))
            encoded.append(Payload(metadata=metadata, data=nonce + sealed))
        return encoded

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        decoded = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCODING:
                # Written before the codec was on (or by a part without it): as it is.
                decoded.append(payload)
                continue
            key_id = payload.metadata.get(KEY_ID, b"").decode()
            cipher = self._ciphers.get(key_id)
            if cipher is None:
                raise KeyringError(f"a payload needs key {key_id!r}, which the keyring lacks")
            nonce, sealed = payload.data[:_NONCE_BYTES], payload.data[_NONCE_BYTES:]
            aad = _bound(key_id, payload.metadata.get(CASE, b""))
            try:
                plain = cipher.decrypt(nonce, sealed, aad)
            except InvalidTag:
                raise KeyringError(f"a payload under key {key_id!r} fails to decrypt") from None
            decoded.append(Payload.FromString(plain))
        return decoded


def case_of(payload: Payload) -> str:
    """The case an encrypted payload names (its workflow id), or "" for none."""
    return payload.metadata.get(CASE, b"").decode(errors="replace")


def _bound(key_id: str, case: bytes) -> bytes:
    """The associated data: the key id, and the case when there is one (payloads written before
    cases were named carry the key id alone, and still decrypt)."""
    return key_id.encode() + (b"\x00" + case if case else b"")


def local_keyring(var_dir: Path) -> Keyring:
    """`csd dev`'s keyring: var/payload-keys (0600), made on first use and kept after."""
    path = var_dir / "payload-keys"
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(Keyring.generate("local-1").render())
    return Keyring.parse(path.read_text().strip())
