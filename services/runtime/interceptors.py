"""The server interceptor every csd-ops service runs.

It binds the request id and the caller into structlog's contextvars for the whole call, logs one
line per call with its status and duration, and maps business errors (and a lost database) to
gRPC statuses, so no servicer has to. Whatever else goes wrong is logged here in full and reaches
the caller only as INTERNAL with the request id: never SQL, parameters or a stack trace.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import structlog
from google.protobuf import any_pb2
from google.protobuf.message import DecodeError
from google.rpc import status_pb2
from grpc_status import rpc_status
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from services.runtime import metrics
from services.runtime.errors import InvalidArgument, ServiceError
from workflows.regulation import Refusal

REQUEST_ID_KEY = "x-request-id"
CALLER_KEY = "x-csd-user"

log = structlog.get_logger("csd.rpc")


class RequestContextInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Bind request context, log the call, and map errors to statuses."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None or handler.unary_unary is None:
            return handler
        metadata = {k: v for k, v in (details.invocation_metadata or ()) if isinstance(v, str)}
        behavior = handler.unary_unary
        method = details.method
        deserialize = handler.request_deserializer

        async def wrapped(raw: Any, context: grpc.aio.ServicerContext) -> Any:
            request_id = metadata.get(REQUEST_ID_KEY) or uuid.uuid4().hex
            with structlog.contextvars.bound_contextvars(
                request_id=request_id, caller=metadata.get(CALLER_KEY, ""), rpc=method
            ):
                started = time.perf_counter()
                try:
                    # Parsed here, not by gRPC: a corrupt message or a string that is not UTF-8
                    # is the caller's mistake (INVALID_ARGUMENT), not an unknown failure.
                    request = _parsed(deserialize, raw, method)
                    response = await behavior(request, context)
                except ServiceError as err:
                    _log_call(method, started, err.code, err.message)
                    if err.details:
                        await context.abort_with_status(_rich_status(err))
                    await context.abort(err.code, _details(err.message))
                except Refusal as err:
                    # A rule's own refusal (workflows/regulation): the same words the workflow
                    # would give, under the status its class names.
                    code = grpc.StatusCode[err.code]
                    _log_call(method, started, code, err.message)
                    await context.abort(code, _details(err.message))
                except DBAPIError as err:
                    if _is_connection_loss(err):
                        _log_call(
                            method, started, grpc.StatusCode.UNAVAILABLE, "database unavailable"
                        )
                        await context.abort(
                            grpc.StatusCode.UNAVAILABLE,
                            f"the database is unavailable; retry shortly (request id {request_id})",
                        )
                    elif isinstance(err, IntegrityError):
                        # A unique constraint the servicer did not check first, such as two
                        # requests racing for one natural key: the request conflicts, and the
                        # constraint's text (SQL, values) stays in the log.
                        _log_call(method, started, grpc.StatusCode.ALREADY_EXISTS, str(err.orig))
                        await context.abort(
                            grpc.StatusCode.ALREADY_EXISTS,
                            "this conflicts with an existing record: one of its unique values is "
                            f"already taken (request id {request_id})",
                        )
                    else:
                        await _internal(context, method, started, request_id)
                except grpc.aio.AbortError:
                    _log_call(method, started, context.code() or grpc.StatusCode.UNKNOWN, "aborted")
                    raise
                except Exception:
                    await _internal(context, method, started, request_id)
                else:
                    _log_call(method, started, grpc.StatusCode.OK, None)
                    return response

        return grpc.unary_unary_rpc_method_handler(
            wrapped, request_deserializer=None, response_serializer=handler.response_serializer
        )


def _parsed(deserialize: Callable[[bytes], Any] | None, raw: Any, method: str) -> Any:
    if deserialize is None:
        return raw
    try:
        return deserialize(raw)
    except DecodeError:
        raise InvalidArgument(
            f"the request to {method} is not a valid message: corrupt bytes, or text that is "
            "not UTF-8"
        ) from None


async def _internal(
    context: grpc.aio.ServicerContext, method: str, started: float, request_id: str
) -> None:
    """Log the exception being handled, in full, and tell the caller only the request id."""
    log.exception("rpc failed", elapsed_ms=_elapsed_ms(started))
    metrics.observe(method, grpc.StatusCode.INTERNAL, time.perf_counter() - started)
    await context.abort(
        grpc.StatusCode.INTERNAL, f"internal error; quote request id {request_id} to the operators"
    )


# The details travel in the grpc-message header, percent-encoded (up to 3 bytes a UTF-8 byte),
# and a client may drop a reply whose headers pass 8 KiB (RESOURCE_EXHAUSTED, "Stream removed"):
# a refusal quoting a huge input would lose its status. The log keeps the whole message.
MAX_DETAILS_BYTES = 2000


def _rich_status(err: ServiceError) -> grpc.Status:
    """The refusal with its details packed in, as grpcio-status carries them."""
    packed = []
    for detail in err.details:
        if isinstance(detail, any_pb2.Any):
            packed.append(detail)  # relayed as the service packed it
            continue
        any_detail = any_pb2.Any()
        any_detail.Pack(detail)
        packed.append(any_detail)
    status = status_pb2.Status(
        code=err.code.value[0], message=_details(err.message), details=packed
    )
    return rpc_status.to_status(status)


def _details(message: str) -> str:
    encoded = message.encode()
    if len(encoded) <= MAX_DETAILS_BYTES:
        return message
    return encoded[: MAX_DETAILS_BYTES - 3].decode(errors="ignore") + "…"


# SQLSTATEs of a server that cannot serve right now: class 08 (connection exception), shutting
# down or crashed (57P01, 57P02), starting up or shutting down (57P03), out of connections (53300).
# asyncpg reports them as plain DB-API errors, so the driver's class alone does not tell.
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")


def _is_connection_loss(err: DBAPIError) -> bool:
    sqlstate = getattr(err.orig, "sqlstate", None)
    return (
        bool(err.connection_invalidated)
        or isinstance(err, OperationalError)
        or (isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATES))
    )


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def _log_call(method: str, started: float, code: grpc.StatusCode, message: str | None) -> None:
    seconds = time.perf_counter() - started
    log.info("rpc", code=code.name, message=message, elapsed_ms=round(seconds * 1000, 2))
    metrics.observe(method, code, seconds)
