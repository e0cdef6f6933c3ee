"""A service's answer relayed to the gateway's caller: its refusals (bad input, a precondition,
something missing) are the caller's to read in the service's own words; anything else is an
outage the caller may retry."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import grpc
from google.protobuf import any_pb2
from google.rpc import status_pb2

from services.runtime import errors

T = TypeVar("T")
DETAILS_KEY = "grpc-status-details-bin"

_RELAYED: dict[grpc.StatusCode, type[errors.ServiceError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: errors.InvalidArgument,
    grpc.StatusCode.FAILED_PRECONDITION: errors.FailedPrecondition,
    grpc.StatusCode.NOT_FOUND: errors.NotFound,
    grpc.StatusCode.ALREADY_EXISTS: errors.AlreadyExists,
}


def status_details(err: grpc.aio.AioRpcError) -> list[any_pb2.Any]:
    """The refusal's details (google.rpc.Status), as the service packed them."""
    for key, value in err.trailing_metadata() or ():
        if key == DETAILS_KEY and isinstance(value, bytes):
            return list(status_pb2.Status.FromString(value).details)
    return []


async def relayed(
    call: Awaitable[T], *, service: str, purpose: str, judges_the_caller: bool = False
) -> T:
    """Await `call`, a gRPC call to `service`, made to `purpose` (e.g. "record the day"). A
    refusal reaches the caller in the service's words, with its details. PERMISSION_DENIED is
    relayed only from a call that `judges_the_caller` (the service decides what the gateway's
    caller may do); from any other it would be the gateway's own, a deployment's mistake."""
    try:
        return await call
    except grpc.aio.AioRpcError as err:
        if judges_the_caller and err.code() == grpc.StatusCode.PERMISSION_DENIED:
            raise errors.PermissionDenied(err.details() or "permission denied") from None
        refusal = _RELAYED.get(err.code())
        if refusal is not None:
            raise refusal(err.details() or err.code().name, details=status_details(err)) from None
        raise errors.Unavailable(
            f"the {service} service cannot {purpose} now ({err.code().name}); retry shortly"
        ) from None
