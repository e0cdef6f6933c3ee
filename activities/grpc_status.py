"""How a gRPC status from a service becomes a Temporal activity outcome.

A refusal is a business fact (retrying cannot change it) and fails the activity for good, with
the status name as the error type so a workflow can tell them apart; anything else, such as
UNAVAILABLE or DEADLINE_EXCEEDED, is retried under the caller's retry policy.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import grpc
from temporalio.exceptions import ApplicationError

T = TypeVar("T")

# The deadline of one gRPC call made by an activity; shorter than any start_to_close_timeout
# in workflows.retry_policies, so a stuck call fails the attempt instead of the activity.
CALL_DEADLINE_SECONDS = 5.0

REFUSALS = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.UNAUTHENTICATED,
    }
)


def as_application_error(err: grpc.aio.AioRpcError) -> ApplicationError:
    code = err.code()
    return ApplicationError(
        f"{code.name}: {err.details()}", type=code.name, non_retryable=code in REFUSALS
    )


async def call(rpc: Awaitable[T]) -> T:
    """Await a stub call, translating its failure for Temporal."""
    try:
        return await rpc
    except grpc.aio.AioRpcError as err:
        raise as_application_error(err) from None
