"""The frame of every csd-ops gRPC server: health, reflection, interceptor, graceful shutdown."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable, Iterable, Sequence

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from services.runtime.interceptors import RequestContextInterceptor

log = structlog.get_logger("csd.server")

SHUTDOWN_GRACE_SECONDS = 5.0


class RunningServer:
    """A started server with its bound port and health servicer."""

    def __init__(
        self,
        server: grpc.aio.Server,
        port: int,
        health: health.aio.HealthServicer,
        cleanup: Iterable[Callable[[], Awaitable[None]]] = (),
    ):
        self.server = server
        self.port = port
        self.health = health
        self._cleanup = list(cleanup)

    async def stop(self, grace: float = SHUTDOWN_GRACE_SECONDS) -> None:
        """Report NOT_SERVING first so clients drain, finish in-flight calls, then clean up."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
        for step in self._cleanup:
            await step()


async def start_server(
    *,
    address: str,
    register: Callable[[grpc.aio.Server], None],
    service_names: Iterable[str],
    cleanup: Iterable[Callable[[], Awaitable[None]]] = (),
    interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
) -> RunningServer:
    """Start a grpc.aio server on `address` ("127.0.0.1:0" picks a free port). `interceptors`
    run inside the request-context one, so what they raise becomes a status like any refusal."""
    server = grpc.aio.server(interceptors=[RequestContextInterceptor(), *interceptors])
    register(server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = list(service_names)
    reflection.enable_server_reflection(
        [*names, reflection.SERVICE_NAME, health.SERVICE_NAME], server
    )
    port = server.add_insecure_port(address)
    if port == 0:
        raise OSError(f"cannot listen on {address}")
    await server.start()
    for name in ["", *names]:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return RunningServer(server, port, health_servicer, cleanup)


async def serve_until_signalled(running: RunningServer, *, name: str) -> None:
    """Block until SIGTERM or SIGINT, then shut down gracefully."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("serving", service=name, port=running.port)
    await stop.wait()
    log.info("shutting down", service=name)
    await running.stop()
    log.info("stopped", service=name)
