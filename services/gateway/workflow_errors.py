"""How the outcome of a Temporal call becomes a gateway status.

Workflows reject updates with an ApplicationError whose type is a gRPC status name (the
regulation's refusals, raised through `rule_refusals()`), so a refusal reaches the caller with
the code and message the workflow chose. Everything is mapped by type, never by message text;
an error of no known type is a fault of ours, logged in full and answered INTERNAL with the
request id by the interceptor, never guessed at. Temporal down, or no worker answering in time,
is UNAVAILABLE: the caller may retry, and a retry is safe.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio.client import (
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from services.runtime import errors

T = TypeVar("T")

# How long a caller waits for Temporal and a worker. Pass it as the call's rpc_timeout too, so
# Temporal stops waiting when the caller does.
TEMPORAL_TIMEOUT = timedelta(seconds=10)

_BY_STATUS: dict[str, type[errors.ServiceError]] = {
    "INVALID_ARGUMENT": errors.InvalidArgument,
    "NOT_FOUND": errors.NotFound,
    "FAILED_PRECONDITION": errors.FailedPrecondition,
    "PERMISSION_DENIED": errors.PermissionDenied,
    "ALREADY_EXISTS": errors.AlreadyExists,
}


class UnexpectedWorkflowError(Exception):
    """A workflow failed a call in a way no rule names: a fault of ours, not the caller's."""


def mapped_error(err: BaseException | None, what: str) -> Exception:
    cause = err
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = cause.__cause__
    if isinstance(cause, ApplicationError) and cause.type in _BY_STATUS:
        return _BY_STATUS[cause.type](cause.message)
    return UnexpectedWorkflowError(f"{what} failed the call unexpectedly: {err!r}")


def _no_answer(what: str, timeout: timedelta) -> errors.Unavailable:
    return errors.Unavailable(
        f"no worker answered for {what} within {timeout.total_seconds():g} s; "
        "the request is safe, retry later"
    )


async def workflow_call(
    call: Awaitable[T],
    *,
    what: str,
    give_up_after: timedelta = TEMPORAL_TIMEOUT,
    handle: WorkflowHandle[Any, Any] | None = None,
) -> T:
    """Await a Temporal call about the workflow `what` (a start, an update, a query, its
    history), mapping failures to statuses and giving up after `give_up_after`.

    The SDK re-polls an update whose RPC deadline passed, so this bounds the whole call, not
    each RPC. WorkflowAlreadyStartedError is the caller's to handle and passes through. Given
    the `handle` the call was made on, a NOT_FOUND is told apart by asking the server whether
    the workflow exists (finished: FAILED_PRECONDITION) or not (NOT_FOUND).
    """
    try:
        async with asyncio.timeout(give_up_after.total_seconds()):
            return await call
    except WorkflowUpdateFailedError as err:
        raise mapped_error(err.cause, what) from None
    except WorkflowQueryFailedError as err:
        raise errors.FailedPrecondition(f"{what} cannot answer yet: {err.message}") from None
    except (WorkflowUpdateRPCTimeoutOrCancelledError, TimeoutError):
        raise _no_answer(what, give_up_after) from None
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            if handle is not None and await _finished(handle, give_up_after):
                raise errors.FailedPrecondition(f"{what} is already finished") from None
            raise errors.NotFound(f"{what} does not exist") from None
        if err.status in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED):
            # The RPC's own deadline: a query waits for a worker to answer it.
            raise _no_answer(what, give_up_after) from None
        if err.status == RPCStatusCode.UNIMPLEMENTED:
            raise errors.FailedPrecondition(
                f"this Temporal server cannot serve {what} ({err.message})"
            ) from None
        if err.status == RPCStatusCode.UNAVAILABLE:
            raise errors.Unavailable(
                f"Temporal is unavailable ({err.message}); the request is safe, retry later"
            ) from None
        raise


async def _finished(handle: WorkflowHandle[Any, Any], rpc_timeout: timedelta) -> bool:
    """Whether the workflow behind a NOT_FOUND exists and is closed."""
    try:
        description = await handle.describe(rpc_timeout=rpc_timeout)
    except RPCError:
        return False
    return description.status not in (None, WorkflowExecutionStatus.RUNNING)
