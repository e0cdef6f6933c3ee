#!/usr/local/bin/python
"""`csd-healthcheck <part>`: exit 0 when the part in this container is healthy.

staff, finance, notify, gateway: the standard gRPC health check (grpc.health.v1.Health/Check,
service "") on the part's own port, over the same mutual TLS as any caller, presenting the part's
own certificate (health checks answer any certificate of the CA). The kubelet's built-in `grpc:`
probe cannot do this: it dials in plain text (no TLS support, kubernetes/enhancements#4939) and
the parts speak only TLS outside dev mode. worker: it has no gRPC server, so its /metrics
endpoint at CSD_METRICS_ADDRESS must answer.
"""

import asyncio
import sys
import urllib.request

from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.runtime.settings import Settings
from services.runtime.tls import open_channel

TIMEOUT_SECONDS = 3.0
SERVICES = ("staff", "finance", "notify", "gateway")


def _loopback(address: str) -> str:
    """This container's own port of a listening address such as 0.0.0.0:50052."""
    return f"127.0.0.1:{address.rpartition(':')[2]}"


async def _serving(part: str, settings: Settings) -> bool:
    address = _loopback(getattr(settings, f"{part}_address"))
    async with open_channel(address, to=part, tls=settings.tls()) as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=""), timeout=TIMEOUT_SECONDS
        )
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def _metrics_answer(settings: Settings) -> bool:
    url = f"http://{_loopback(settings.metrics_address)}/metrics"
    with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as reply:
        return bool(reply.status == 200)


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in (*SERVICES, "worker"):
        print("usage: csd-healthcheck staff|finance|notify|gateway|worker", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    try:
        if argv[0] == "worker":
            healthy = _metrics_answer(settings)
        else:
            healthy = asyncio.run(_serving(argv[0], settings))
    except Exception as err:
        print(f"{argv[0]}: unhealthy: {err}", file=sys.stderr)
        return 1
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
