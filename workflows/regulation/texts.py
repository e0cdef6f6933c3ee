"""How long free text may be, one table for every process: the same limit at the gateway, at a
workflow's start and in its update validators."""

from __future__ import annotations

import re

from workflows.regulation.refusals import InvalidInput

# A name, a reference, a version, a file reference: one line.
LINE = 200
# A note, a reason, a description, a root cause: a few paragraphs.
TEXT = 4_000
# Minutes of a meeting, a weekly report's sections together.
DOCUMENT = 20_000

_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def required(value: str, field: str, *, limit: int = TEXT, why: str = "") -> str:
    """`value` stripped; refused when empty or longer than `limit`."""
    text = value.strip()
    if not text:
        raise InvalidInput(f"{field} is required" + (f": {why}" if why else ""))
    return bounded(text, field, limit=limit)


def bounded(value: str, field: str, *, limit: int = TEXT) -> str:
    """`value` stripped; refused when longer than `limit` characters."""
    if len(value) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters ({len(value)})")
    return value.strip()


def reference(value: str, field: str = "reference") -> str:
    """A case's own reference, part of its workflow id: 1-64 letters, digits, '.', '_', '-'."""
    if not _REFERENCE.match(value):
        raise InvalidInput(f"{field} {value[:80]!r}: 1-64 letters, digits, '.', '_' or '-'")
    return value
