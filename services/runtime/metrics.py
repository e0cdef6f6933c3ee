"""Every part's RPC metrics in the Prometheus text format (issue 15): per RPC the answers by
status code and the time to answer, recorded by the request interceptor for every call, the
refused and the failed ones too. `serve_metrics` exposes them over HTTP for a scraper; a part
started without CSD_METRICS_ADDRESS keeps them in memory only.

The packaged gRPC Prometheus interceptors do not support grpc.aio, hence this small one.
"""

from __future__ import annotations

import grpc
from prometheus_client import Counter, Histogram, start_http_server

REQUESTS = Counter("csd_rpc_requests", "RPCs answered, by method and status code", ["rpc", "code"])
DURATION = Histogram(
    "csd_rpc_duration_seconds",
    "Time to answer an RPC, by method",
    ["rpc"],
    # From a cached directory read (a millisecond) to a ledger write under load.
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def observe(rpc: str, code: grpc.StatusCode, seconds: float) -> None:
    REQUESTS.labels(rpc=rpc, code=code.name).inc()
    DURATION.labels(rpc=rpc).observe(seconds)


def serve_metrics(address: str) -> int:
    """Serve /metrics on `address` (host:port; port 0 picks one); returns the port."""
    host, _, port = address.rpartition(":")
    server, _thread = start_http_server(int(port), addr=host.strip("[]") or "127.0.0.1")
    return int(server.server_port)
