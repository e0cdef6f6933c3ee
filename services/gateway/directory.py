"""The gateway's questions to the staff directory: one deadline, one reading of its failures."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import grpc

from services.runtime import errors

T = TypeVar("T")

LOOKUP_DEADLINE_SECONDS = 3.0

# What the directory answers for an id it does not hold, or one it could never hold.
_MISSING = (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT)


async def ask_staff(
    call: Awaitable[T], *, purpose: str, missing: errors.ServiceError | None = None
) -> T:
    """Await a staff RPC made with `timeout=LOOKUP_DEADLINE_SECONDS`.

    An unknown id raises `missing` when one is given; any other failure means the directory
    cannot answer now, and the caller may retry: UNAVAILABLE, saying what could not be done.
    """
    try:
        return await call
    except grpc.aio.AioRpcError as err:
        if missing is not None and err.code() in _MISSING:
            raise missing from None
        raise errors.Unavailable(
            f"the staff service cannot {purpose} now ({err.code().name}); retry shortly"
        ) from None
