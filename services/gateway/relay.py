"""A service's answer relayed to the gateway's caller: its refusals (bad input, a precondition,
something missing) are the caller's to read in the service's own words; anything else is an
outage the caller may retry."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import grpc

from services.runtime import errors

T = TypeVar("T")

_RELAYED: dict[grpc.StatusCode, type[errors.ServiceError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: errors.InvalidArgument,
    grpc.StatusCode.FAILED_PRECONDITION: errors.FailedPrecondition,
    grpc.StatusCode.NOT_FOUND: errors.NotFound,
    grpc.StatusCode.ALREADY_EXISTS: errors.AlreadyExists,
}


async def relayed(call: Awaitable[T], *, service: str, purpose: str) -> T:
    """Await `call`, a gRPC call to `service`, made to `purpose` (e.g. "record the day")."""
    try:
        return await call
    except grpc.aio.AioRpcError as err:
        refusal = _RELAYED.get(err.code())
        if refusal is not None:
            raise refusal(err.details() or err.code().name) from None
        raise errors.Unavailable(
            f"the {service} service cannot {purpose} now ({err.code().name}); retry shortly"
        ) from None
