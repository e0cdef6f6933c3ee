"""How the csd command identifies itself: its user to the gateway (either mode), and the
operators' admin part to the internal services (mutual TLS)."""

from __future__ import annotations

import os

from services.gateway.local_keys import ensure_local_keys, local_token
from services.runtime.interceptors import CALLER_KEY
from services.runtime.settings import Settings
from services.runtime.tls import ADMIN, TlsFiles, TlsSettingsError


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


def operator_tls(settings: Settings) -> TlsFiles | None:
    """The certificate the csd admin commands (seed, schedules, status, tracking-sheet) present:
    CSD_TLS_* when set (production: the admin certificate from your CA), else the admin
    certificate of the dev CA that `csd dev` made under var/tls/, else none (plain text, for a
    dev-mode part run by hand)."""
    try:
        tls = settings.tls()
    except TlsSettingsError as err:
        raise SystemExit(str(err)) from None
    if tls is not None:
        return tls
    # Imported here: only a machine that ran csd dev has a dev CA to look for.
    from services.runtime.dev_pki import DevPki

    dev = DevPki(settings.var_dir / "tls").files(ADMIN)
    if dev.ca.is_file() and dev.cert.is_file() and dev.key.is_file():
        return dev
    return None
