"""The business references callers name their cases by (workflow ids are built from them)."""

from __future__ import annotations

import re

from services.runtime.errors import InvalidArgument

_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")


def business_reference(value: str) -> str:
    """A caller's business key: a retry with the same reference is the same case."""
    if not _REFERENCE.match(value):
        raise InvalidArgument(
            "reference must be 1-80 letters, digits, '.', '_' or '-' (your business key, "
            "e.g. XA-2026-0042); a retry with the same reference returns the same case"
        )
    return value
