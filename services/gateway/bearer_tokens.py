"""Production authentication: a signed bearer token names the caller.

A call carries `authorization: Bearer <JWT>`. The token must be signed (RS256, ES256 or EdDSA)
by a key of the configured JWKS, name its issuer and audience, carry `exp` (and is refused once
past it) and name the staff person in `sub`, who must be active in the staff directory. Keys come
from a JWKS file (re-read when it changes, so a rotated key set needs no restart) or an https URL
(fetched and cached by PyJWT's client, refreshed on an unknown key id).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from pathlib import Path

import jwt
from csd.staff.v1 import staff_pb2_grpc

from services.gateway.identity import Caller, caller_cache, caller_from_directory
from services.runtime.errors import Unauthenticated
from services.runtime.interceptors import CALLER_KEY

ALGORITHMS = ["RS256", "ES256", "EdDSA"]
UNKNOWN_KEY = "the token is signed by a key this gateway does not know"
AUTHORIZATION = "authorization"
# Clock difference tolerated between the token's issuer and this machine.
LEEWAY_SECONDS = 30


class JwksFile:
    """Signing keys from a JWKS file, re-read when the file changes (looked at no more than
    once per RECHECK_SECONDS, or at once for a key id it does not hold)."""

    RECHECK_SECONDS = 5.0

    def __init__(self, path: Path) -> None:
        self._path = path
        self._stamp: tuple[float, int] | None = None
        self._checked = float("-inf")
        self._keys: dict[str, jwt.PyJWK] = {}

    async def key(self, kid: str) -> jwt.PyJWK:
        now = time.monotonic()
        if kid in self._keys and now - self._checked < self.RECHECK_SECONDS:
            return self._keys[kid]
        self._checked = now
        stat = await asyncio.to_thread(self._path.stat)
        if (stat.st_mtime, stat.st_size) != self._stamp:
            text = await asyncio.to_thread(self._path.read_text)
            keys = jwt.PyJWKSet.from_json(text).keys
            self._keys = {k.key_id: k for k in keys if k.key_id}
            self._stamp = (stat.st_mtime, stat.st_size)
        if kid not in self._keys:
            raise Unauthenticated(UNKNOWN_KEY)
        return self._keys[kid]


class JwksUrl:
    """Signing keys from a JWKS URL (https), cached by PyJWT and refetched for a new key id."""

    def __init__(self, url: str) -> None:
        if not url.startswith("https://"):
            raise ValueError("CSD_JWT_JWKS must be a file path or an https:// URL")
        self._client = jwt.PyJWKClient(url, cache_keys=True, lifespan=300)

    async def key(self, kid: str) -> jwt.PyJWK:
        try:
            return await asyncio.to_thread(self._client.get_signing_key, kid)
        except jwt.PyJWKClientError:
            raise Unauthenticated(
                "the token is signed by a key this gateway does not know"
            ) from None


def key_source(jwks: str) -> JwksFile | JwksUrl:
    """CSD_JWT_JWKS: a path to a JWKS file, or an https URL serving one."""
    if jwks.startswith(("https://", "http://")):
        return JwksUrl(jwks)
    path = Path(jwks)
    if not path.is_file():
        raise ValueError(f"CSD_JWT_JWKS {jwks!r} is neither a file nor an https URL")
    json.loads(path.read_text())  # fail at start-up, not at the first call
    return JwksFile(path)


class JwtAuthenticator:
    """The caller is the staff person a valid bearer token names."""

    def __init__(
        self,
        keys: JwksFile | JwksUrl,
        *,
        issuer: str,
        audience: str,
        staff: staff_pb2_grpc.StaffServiceStub,
    ) -> None:
        if not issuer or not audience:
            raise ValueError("CSD_JWT_ISSUER and CSD_JWT_AUDIENCE are required in jwt mode")
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._staff = staff
        self._callers = caller_cache()

    async def authenticate_metadata(self, metadata: Mapping[str, str]) -> Caller:
        if CALLER_KEY in metadata:
            raise Unauthenticated(
                f"{CALLER_KEY} is honoured only in dev mode; send `authorization: Bearer <token>`"
            )
        scheme, _, token = metadata.get(AUTHORIZATION, "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated(
                "send `authorization: Bearer <token>`: this gateway takes signed tokens only"
            )
        subject = await self._subject(token.strip())
        return await caller_from_directory(self._staff, subject, self._callers)

    async def _subject(self, token: str) -> str:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("the bearer token is not a JWT") from None
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthenticated("the token names no signing key (kid)")
        key = await self._keys.key(kid)
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=ALGORITHMS,
                audience=self._audience,
                issuer=self._issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired: get a new one") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated(f"the token is not for this gateway ({self._audience})") from None
        except jwt.InvalidIssuerError:
            raise Unauthenticated(f"the token is not from the issuer {self._issuer}") from None
        except jwt.MissingRequiredClaimError as err:
            raise Unauthenticated(f"the token lacks its {err.claim!r} claim") from None
        except jwt.PyJWTError:
            raise Unauthenticated("the token's signature does not verify") from None
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject:
            raise Unauthenticated("the token's subject is not a staff id")
        return subject
