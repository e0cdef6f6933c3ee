"""How the csd command identifies its user to the gateway, in either mode."""

from __future__ import annotations

import os

from services.gateway.local_keys import ensure_local_keys, local_token
from services.runtime.interceptors import CALLER_KEY
from services.runtime.settings import Settings


def caller_metadata(settings: Settings, person_id: str) -> tuple[tuple[str, str], ...]:
    """Dev mode: x-csd-user. jwt mode: the token in CSD_TOKEN, or one signed with this
    machine's local key (what `csd dev` made under var/auth) for `person_id`."""
    if settings.auth_mode == "dev":
        return ((CALLER_KEY, person_id),)
    token = os.environ.get("CSD_TOKEN", "").strip()
    if not token:
        if settings.jwt_jwks:
            raise SystemExit("set CSD_TOKEN to a bearer token from your identity provider")
        token = local_token(ensure_local_keys(settings.var_dir), person_id)
    return (("authorization", f"Bearer {token}"),)
