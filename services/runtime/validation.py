"""Input checks every servicer shares; each refusal says what to send instead."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from services.runtime.errors import InvalidArgument

ID_LENGTH = 64
_ID = re.compile(rf"^[a-z0-9][a-z0-9._-]{{0,{ID_LENGTH - 1}}}$")


def require_id(value: str, what: str, *, length: int = ID_LENGTH) -> str:
    """A lower-case id: a person id, region code or version name."""
    if len(value) > length or not _ID.match(value):
        raise InvalidArgument(
            f"{what} {value!r} is not a valid id: use 1-{length} lower-case letters, digits, "
            "'.', '_' or '-', starting with a letter or digit"
        )
    return value


def require_text(value: str, what: str, *, limit: int) -> str:
    """Non-blank text of at most `limit` characters, stripped."""
    value = value.strip()
    if not value:
        raise InvalidArgument(f"{what} is required")
    return limit_text(value, what, limit=limit)


def limit_text(value: str, what: str, *, limit: int) -> str:
    if len(value) > limit:
        raise InvalidArgument(f"{what} is longer than {limit} characters")
    return value


def require_known(value: int, known: Sequence[int], what: str) -> int:
    """Proto3 enums are open: an unknown number arrives intact and must be refused here."""
    if value not in known:
        raise InvalidArgument(f"{what} {value} is not a known value")
    return value


def timestamp_value(stamp: Timestamp, what: str) -> datetime:
    """A protobuf Timestamp as an aware UTC datetime, refusing ones out of range."""
    try:
        return stamp.ToDatetime(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise InvalidArgument(f"{what} is not a representable time") from None
