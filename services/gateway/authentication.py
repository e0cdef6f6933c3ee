"""Every GatewayService call is authenticated before its RPC code runs.

The interceptor asks the configured `Authenticator` who is calling and puts the answer in a
contextvar for the length of the call; RPC code reads it with `current_caller()` and never
parses metadata itself. A call that cannot be authenticated is refused UNAUTHENTICATED before
anything is read or written. Health checks and reflection stay open (they reveal no data).
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import structlog

from services.gateway.identity import Authenticator, Caller, call_metadata

GATEWAY_METHODS = "/csd.gateway.v1.GatewayService/"

_CALLER: contextvars.ContextVar[Caller] = contextvars.ContextVar("csd_gateway_caller")


def current_caller() -> Caller:
    """The authenticated caller of the call being served."""
    try:
        return _CALLER.get()
    except LookupError:
        raise RuntimeError("no authenticated caller: the RPC ran outside the interceptor") from None


class AuthenticationInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Authenticate each GatewayService call and bind its caller."""

    def __init__(self, authenticator: Authenticator) -> None:
        self._authenticator = authenticator

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if (
            handler is None
            or handler.unary_unary is None
            or not details.method.startswith(GATEWAY_METHODS)
        ):
            return handler
        behavior = handler.unary_unary
        authenticator = self._authenticator

        async def authenticated(request: Any, context: grpc.aio.ServicerContext) -> Any:
            caller = await authenticator.authenticate_metadata(call_metadata(context))
            token = _CALLER.set(caller)
            try:
                with structlog.contextvars.bound_contextvars(caller=caller.id):
                    return await behavior(request, context)
            finally:
                _CALLER.reset(token)

        return grpc.unary_unary_rpc_method_handler(
            authenticated,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
