"""The frame of every csd-ops gRPC server: health, reflection, interceptor, graceful shutdown."""

from __future__ import annotations

import asyncio
import ipaddress
import signal
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from services.runtime.interceptors import RequestContextInterceptor
from services.runtime.metrics import serve_metrics
from services.runtime.peers import PeerAuthorisationInterceptor, allow_list_for
from services.runtime.settings import Settings
from services.runtime.tls import TlsFiles, TlsSettingsError, server_credentials

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
    tls: TlsFiles | None = None,
    callers: Mapping[str, frozenset[str]] | None = None,
) -> RunningServer:
    """Start a grpc.aio server on `address` ("127.0.0.1:0" picks a free port). `interceptors`
    run inside the request-context one, so what they raise becomes a status like any refusal.

    With `tls` the port speaks TLS only. With `callers` too (an internal service: the parts
    allowed per RPC, its callers.py) every caller must present a certificate from the CA, and
    each RPC answers only the parts on its list; without (the gateway) callers prove who they
    are by bearer token instead."""
    chain: list[grpc.aio.ServerInterceptor] = [RequestContextInterceptor()]
    if tls is not None and callers is not None:
        names = list(service_names)
        allow: dict[str, frozenset[str]] = {}
        for name in names:
            allow.update(allow_list_for(name, callers))
        chain.append(PeerAuthorisationInterceptor(allow))
    server = grpc.aio.server(interceptors=[*chain, *interceptors])
    register(server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = list(service_names)
    reflection.enable_server_reflection(
        [*names, reflection.SERVICE_NAME, health.SERVICE_NAME], server
    )
    if tls is None:
        port = server.add_insecure_port(address)
    else:
        port = server.add_secure_port(
            address, server_credentials(tls, require_client_cert=callers is not None)
        )
    if port == 0:
        raise OSError(f"cannot listen on {address}")
    await server.start()
    for name in ["", *names]:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return RunningServer(server, port, health_servicer, cleanup)


async def serve_until_signalled(
    running: RunningServer, *, name: str, metrics_address: str = ""
) -> None:
    """Block until SIGTERM or SIGINT, then shut down gracefully. With `metrics_address`
    (CSD_METRICS_ADDRESS) the part's RPC metrics are served there for Prometheus."""
    if metrics_address:
        log.info("metrics", service=name, port=serve_metrics(metrics_address))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("serving", service=name, port=running.port)
    await stop.wait()
    log.info("shutting down", service=name)
    await running.stop()
    log.info("stopped", service=name)


def is_loopback(address: str) -> bool:
    host = address.rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def listening_tls(settings: Settings, address: str) -> TlsFiles | None:
    """The TLS a part serves with (CSD_TLS_*). Plain text only in dev mode and on loopback: a
    port that any machine can reach answers only callers who prove who they are."""
    try:
        tls = settings.tls()
    except TlsSettingsError as err:
        raise SystemExit(str(err)) from None
    if tls is not None:
        return tls
    if settings.auth_mode == "dev" and is_loopback(address):
        return None
    raise SystemExit(
        f"{address} would answer anyone in plain text: set CSD_TLS_CA, CSD_TLS_CERT and "
        "CSD_TLS_KEY (each part's certificate from your CA), or CSD_AUTH_MODE=dev on a loopback "
        "address (`csd dev` makes a local CA under var/tls/)"
    )
