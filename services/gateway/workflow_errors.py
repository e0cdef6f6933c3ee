"""How the outcome of a Temporal call becomes a gateway status.

Workflows reject updates with an ApplicationError whose type is a gRPC status name, so a refusal
reaches the caller with the code and message the workflow chose.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import grpc
from temporalio.client import WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from services.runtime import errors

T = TypeVar("T")

_BY_STATUS: dict[str, type[errors.ServiceError]] = {
    "INVALID_ARGUMENT": errors.InvalidArgument,
    "NOT_FOUND": errors.NotFound,
    "FAILED_PRECONDITION": errors.FailedPrecondition,
    "PERMISSION_DENIED": errors.PermissionDenied,
    "ALREADY_EXISTS": errors.AlreadyExists,
}


def _from_application_error(err: BaseException | None, fallback: str) -> errors.ServiceError:
    while err is not None and not isinstance(err, ApplicationError):
        err = err.__cause__
    if isinstance(err, ApplicationError) and err.type in _BY_STATUS:
        return _BY_STATUS[err.type](err.message)
    return errors.FailedPrecondition(fallback)


async def workflow_call(call: Awaitable[T], *, what: str) -> T:
    """Await an update or query of the workflow `what`, mapping failures to statuses."""
    try:
        return await call
    except WorkflowUpdateFailedError as err:
        raise _from_application_error(err.cause, f"{what} refused the change") from None
    except WorkflowQueryFailedError as err:
        raise errors.FailedPrecondition(f"{what} cannot answer yet: {err.message}") from None
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            if "completed" in err.message or "closed" in err.message:
                raise errors.FailedPrecondition(f"{what} is already finished") from None
            raise errors.NotFound(f"{what} does not exist") from None
        if err.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            raise errors.Unavailable(f"Temporal is unavailable: {err.message}") from None
        raise
    except grpc.aio.AioRpcError:
        raise
