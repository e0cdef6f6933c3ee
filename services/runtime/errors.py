"""Business errors that servicers raise and the request interceptor turns into gRPC statuses.

Raising one of these is the only way a servicer reports bad input, so every refusal carries a
proper status code and a message a person can act on, never a stack trace.
"""

from __future__ import annotations

from collections.abc import Sequence

import grpc
from google.protobuf.message import Message


class ServiceError(Exception):
    """A refusal with a gRPC status code and a human message, and for a program that wants to
    act on it without reading the words, messages in the status details (google.rpc.Status)."""

    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN

    def __init__(self, message: str, *, details: Sequence[Message] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.details = tuple(details)


class InvalidArgument(ServiceError):
    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(ServiceError):
    code = grpc.StatusCode.NOT_FOUND


class FailedPrecondition(ServiceError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class PermissionDenied(ServiceError):
    code = grpc.StatusCode.PERMISSION_DENIED


class Unauthenticated(ServiceError):
    code = grpc.StatusCode.UNAUTHENTICATED


class AlreadyExists(ServiceError):
    code = grpc.StatusCode.ALREADY_EXISTS


class Unavailable(ServiceError):
    code = grpc.StatusCode.UNAVAILABLE


class Aborted(ServiceError):
    """A concurrent request holds the same idempotency key; retrying is safe."""

    code = grpc.StatusCode.ABORTED
