"""A signing key of this machine's own, so production authentication can be tried locally.

`csd dev` in jwt mode (CSD_AUTH_MODE=jwt without CSD_JWT_JWKS) makes an Ed25519 key under
`var/auth/` (the directory 0700, the private key 0600) and the JWKS with its public half, and
points the gateway at it; `csd token --as ID` signs a token with it. Production keys come from
the organisation's identity provider instead (CSD_JWT_JWKS).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ISSUER = "csd-ops-local"
AUDIENCE = "csd-gateway"


@dataclass(frozen=True)
class LocalKeys:
    private_key: Path
    jwks: Path
    key_id: str
    issuer: str = ISSUER
    audience: str = AUDIENCE

    def env(self) -> dict[str, str]:
        """The gateway's settings for this key set."""
        return {
            "CSD_JWT_JWKS": str(self.jwks),
            "CSD_JWT_ISSUER": self.issuer,
            "CSD_JWT_AUDIENCE": self.audience,
        }


def _key_id(public: bytes) -> str:
    return hashlib.sha256(public).hexdigest()[:16]


def ensure_local_keys(var_dir: Path) -> LocalKeys:
    """The key set under `var_dir/auth`, made on first use and kept after."""
    directory = var_dir / "auth"
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    private_path, jwks_path = directory / "signing-key.pem", directory / "jwks.json"
    if not private_path.exists():
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(pem)
    loaded = serialization.load_pem_private_key(private_path.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise ValueError(f"{private_path} is not an Ed25519 key")
    public = loaded.public_key()
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    kid = _key_id(raw)
    jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(public))
    jwks = json.dumps({"keys": [{**jwk, "kid": kid, "alg": "EdDSA", "use": "sig"}]})
    # Written only when it differs: a rewrite would make a running gateway re-read it.
    if not jwks_path.exists() or jwks_path.read_text() != jwks:
        jwks_path.write_text(jwks)
    return LocalKeys(private_key=private_path, jwks=jwks_path, key_id=kid)


def local_token(keys: LocalKeys, person_id: str, *, minutes: int = 60) -> str:
    """A bearer token for `person_id`, valid for `minutes`, signed with the local key."""
    key = serialization.load_pem_private_key(keys.private_key.read_bytes(), password=None)
    now = int(time.time())
    claims = {
        "sub": person_id,
        "iss": keys.issuer,
        "aud": keys.audience,
        "iat": now,
        "exp": now + minutes * 60,
    }
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": keys.key_id})  # type: ignore[arg-type]
