"""A voice/SMS gateway over real HTTP, for the webhook phone provider in tests."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class GatewayRequest:
    headers: dict[str, str]
    body: dict[str, Any]
    raw: bytes = b""


class PhoneGateway:
    """A voice/SMS gateway over real HTTP that records each POST.

    It answers 500 to the next `failures` requests, then 200 with {"id": "gw-<n>"}.
    """

    def __init__(self) -> None:
        self.requests: list[GatewayRequest] = []
        self.failures = 0
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                gateway.requests.append(
                    GatewayRequest(dict(self.headers.items()), json.loads(raw), raw)
                )
                if gateway.failures:
                    gateway.failures -= 1
                    self._answer(500, {"error": "voice gateway overloaded"})
                else:
                    self._answer(200, {"id": f"gw-{len(gateway.requests)}"})

            def _answer(self, status: int, payload: dict[str, str]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                """Keep the test output quiet."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/calls"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
