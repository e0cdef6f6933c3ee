"""The codec endpoint the Temporal Web UI calls to show encrypted payloads in clear
(`temporal server start-dev --ui-codec-endpoint http://127.0.0.1:<port>`).

The UI POSTs `{"payloads": [{"metadata": {key: base64}, "data": base64}, ...]}` to `/decode`
from the user's browser and shows what comes back. This server decodes with the keyring and
answers only the UI's own origin; it listens on loopback only (`csd dev`), so only someone at
this machine reads cases in clear. Deployed, it sits behind the same sign-in as the Web UI.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Sequence
from typing import Any

import structlog
from temporalio.api.common.v1 import Payload

from services.runtime.payload_codec import EncryptionCodec, KeyringError

log = structlog.get_logger("csd.codec")

MAX_BODY_BYTES = 4 * 1024 * 1024


def _payloads(body: dict[str, Any]) -> list[Payload]:
    return [
        Payload(
            metadata={k: base64.b64decode(v) for k, v in p.get("metadata", {}).items()},
            data=base64.b64decode(p.get("data", "")),
        )
        for p in body.get("payloads", [])
    ]


def _json(payloads: Sequence[Payload]) -> dict[str, Any]:
    return {
        "payloads": [
            {
                "metadata": {k: base64.b64encode(v).decode() for k, v in p.metadata.items()},
                "data": base64.b64encode(p.data).decode(),
            }
            for p in payloads
        ]
    }


class CodecServer:
    """POST /decode for the Web UI at `ui_origins` (the first answers a request without one)."""

    def __init__(self, codec: EncryptionCodec, *, ui_origins: Sequence[str]) -> None:
        self._codec = codec
        self._origins = tuple(ui_origins)
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = await asyncio.start_server(self._serve, host, port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        origin = self._origins[0]
        try:
            origin, status, body = await self._answer(reader)
        except (ValueError, KeyError, IndexError, asyncio.IncompleteReadError):
            status, body = 400, {"message": "send {'payloads': [...]} as JSON"}
        payload = json.dumps(body).encode() if body is not None else b""
        head = [
            f"HTTP/1.1 {status} {'OK' if status < 400 else 'Refused'}",
            f"Access-Control-Allow-Origin: {origin}",
            "Access-Control-Allow-Methods: POST, OPTIONS",
            "Access-Control-Allow-Headers: content-type, x-namespace, authorization",
            "Access-Control-Allow-Credentials: true",
            "Content-Type: application/json",
            f"Content-Length: {len(payload)}",
            "Connection: close",
        ]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        await writer.drain()
        writer.close()

    async def _answer(self, reader: asyncio.StreamReader) -> tuple[str, int, dict[str, Any] | None]:
        request_line = (await reader.readline()).decode("latin-1").split()
        headers: dict[str, str] = {}
        while (line := (await reader.readline()).decode("latin-1").strip()) != "":
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        method, path = request_line[0], request_line[1]
        origin = headers.get("origin", self._origins[0])
        if origin not in self._origins:
            return self._origins[0], 403, {"message": "only this machine's Web UI may decode"}
        if method == "OPTIONS":
            return origin, 204, None
        if method != "POST" or path.rstrip("/") != "/decode":
            return origin, 404, {"message": "POST /decode"}
        length = int(headers.get("content-length", "0"))
        if not 0 < length <= MAX_BODY_BYTES:
            return origin, 413, {"message": f"a body of 1 to {MAX_BODY_BYTES} bytes"}
        body = json.loads(await reader.readexactly(length))
        try:
            decoded = await self._codec.decode(_payloads(body))
        except KeyringError as err:
            log.warning("codec endpoint refused", reason=str(err))
            return origin, 422, {"message": str(err)}
        return origin, 200, _json(decoded)
