"""Who may call an internal service: the caller's certificate names a part, and each RPC has an
allow-list of parts (each service's `callers.py`). Anything else is refused PERMISSION_DENIED
before the RPC's code runs, so nothing is read or written.

Health checks and reflection answer any holder of a certificate from the CA: they reveal no
data, and `csd status` and the probes of an orchestrator must reach them. A server started
without TLS (tests, and a single service run by hand in dev mode on loopback) has no caller
identity to check; `serve()` refuses to start that way outside dev mode.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import grpc
import structlog

from services.runtime.errors import PermissionDenied
from services.runtime.tls import caller_part

log = structlog.get_logger("csd.peers")

OPEN_SERVICES = ("/grpc.health.v1.Health/", "/grpc.reflection.")

AllowList = Mapping[str, frozenset[str]]


def allow_list_for(service_full_name: str, callers: Mapping[str, frozenset[str]]) -> AllowList:
    """`callers` by RPC name, keyed by the full method path gRPC routes by."""
    return {f"/{service_full_name}/{method}": parts for method, parts in callers.items()}


class PeerAuthorisationInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Refuse a call unless the caller's certificate names a part on the RPC's allow-list."""

    def __init__(self, allow: AllowList) -> None:
        self._allow = dict(allow)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        method = details.method
        if handler is None or handler.unary_unary is None or method.startswith(OPEN_SERVICES):
            return handler
        # A method missing from the list is nobody's: a new RPC stays shut until it says who
        # calls it (tests/services/test_callers.py checks that none is missing).
        allowed = self._allow.get(method, frozenset())
        behavior = handler.unary_unary

        async def authorised(request: Any, context: grpc.aio.ServicerContext) -> Any:
            part = caller_part(context)
            if part not in allowed:
                log.warning("caller refused", caller_part=part or "none", rpc=method)
                who = f"the {part} part" if part else "a caller without a csd-ops certificate"
                may = ", ".join(sorted(allowed)) or "no one"
                raise PermissionDenied(f"{method} is not open to {who}; it answers: {may}")
            with structlog.contextvars.bound_contextvars(caller_part=part):
                return await behavior(request, context)

        return grpc.unary_unary_rpc_method_handler(
            authorised,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
