"""The codec endpoint the Temporal Web UI calls to show encrypted payloads in clear
(`temporal server start-dev --ui-codec-endpoint http://127.0.0.1:<port>`).

The UI POSTs `{"payloads": [{"metadata": {key: base64}, "data": base64}, ...]}` to `/decode`
from the user's browser and shows what comes back. This server decodes with the keyring and
answers only the UI's own origins. Who sees what in clear:
- with a `CaseAccess` (the gateway runs the endpoint so in jwt mode, CSD_CODEC_ADDRESS), the
  request must carry the person's bearer token (the Web UI forwards its sign-in token when its
  codec setting "pass access token" is on), and each payload is decoded only if that person may
  read its case (the case is named in the payload, authenticated by the encryption); otherwise
  the whole request is refused, 401 or 403, and nothing is decoded;
- without one (dev mode, loopback only), the machine's own Web UI sees everything, as the
  x-csd-user header already lets anyone at this machine be anyone.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import structlog
from temporalio.api.common.v1 import Payload

from services.runtime.errors import ServiceError
from services.runtime.payload_codec import ENCODING, EncryptionCodec, KeyringError, case_of

log = structlog.get_logger("csd.codec")

MAX_BODY_BYTES = 4 * 1024 * 1024
_HTTP_STATUS = {"UNAUTHENTICATED": 401, "PERMISSION_DENIED": 403, "UNAVAILABLE": 503}


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


class CaseAccess(Protocol):
    async def readable(self, headers: Mapping[str, str], cases: set[str]) -> set[str]:
        """Which of `cases` (workflow ids; "" for a payload of no case) the person the headers
        authenticate may read; raises Unauthenticated when they authenticate no one."""
        ...


class CodecServer:
    """POST /decode for the Web UI at `ui_origins` (the first answers a request without one);
    per case through `access` when given."""

    def __init__(
        self,
        codec: EncryptionCodec,
        *,
        ui_origins: Sequence[str],
        access: CaseAccess | None = None,
    ) -> None:
        self._codec = codec
        self._origins = tuple(ui_origins)
        self._access = access
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
        payloads = _payloads(json.loads(await reader.readexactly(length)))
        if self._access is not None:
            cases = {case_of(p) for p in payloads if p.metadata.get("encoding") == ENCODING}
            try:
                allowed = await self._access.readable(headers, cases)
            except ServiceError as err:
                status = _HTTP_STATUS.get(err.code.name, 400)
                log.warning("codec endpoint refused", reason=err.message)
                return origin, status, {"message": err.message}
            if denied := sorted(cases - allowed):
                log.warning("codec endpoint refused", cases=denied)
                shown = ", ".join(d or "(no case)" for d in denied)
                return origin, 403, {"message": f"you may not read {shown} in clear"}
        try:
            decoded = await self._codec.decode(payloads)
        except KeyringError as err:
            log.warning("codec endpoint refused", reason=str(err))
            return origin, 422, {"message": str(err)}
        return origin, 200, _json(decoded)
