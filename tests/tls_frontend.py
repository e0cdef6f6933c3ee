"""A TLS frontend for a plain-text gRPC server, for tests: OpenSSL (Python's ssl) terminates
TLS, demands a client certificate from the CA, offers ALPN "h2", and relays the bytes.

Debian's stunnel4 (5.68) was the first choice, but it does not negotiate ALPN, and Temporal's
Rust client refuses a TLS server that does not agree on h2 ("H2NotNegotiated"). A production
frontend (an L4 balancer passing TLS through to Temporal's own TLS, or an HTTP/2 proxy such as
nginx or Envoy) negotiates h2, as this one does.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from pathlib import Path

from services.runtime.dev_pki import DevPki
from services.runtime.tls import TEMPORAL


class TlsFrontend:
    @classmethod
    def for_temporal(cls, backend: str, pki: DevPki) -> TlsFrontend:
        """A frontend for the Temporal server at `backend`, with the certificate `pki` issues
        to Temporal (temporal.csd-ops), demanding a client certificate of `pki`'s CA."""
        server = pki.files(TEMPORAL)
        return cls(backend=backend, ca=pki.ca, cert=server.cert, key=server.key)

    def __init__(self, *, backend: str, ca: Path, cert: Path, key: Path) -> None:
        self._backend_host, port = backend.rsplit(":", 1)
        self._backend_port = int(port)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(ca))
        context.load_cert_chain(str(cert), str(key))
        context.verify_mode = ssl.CERT_REQUIRED
        context.set_alpn_protocols(["h2"])
        self._context = context
        self._server: asyncio.Server | None = None
        self._relays: set[asyncio.Task[None]] = set()

    @property
    def address(self) -> str:
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"{host}:{port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, "127.0.0.1", 0, ssl=self._context, ssl_handshake_timeout=5
        )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._relays):
            task.cancel()
        await asyncio.gather(*self._relays, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._relays.add(task)
        try:
            backend_reader, backend_writer = await asyncio.open_connection(
                self._backend_host, self._backend_port
            )
            await asyncio.gather(_pipe(reader, backend_writer), _pipe(backend_reader, writer))
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._relays.discard(task)
            with contextlib.suppress(Exception):
                writer.close()


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while chunk := await source.read(65536):
            sink.write(chunk)
            await sink.drain()
    finally:
        with contextlib.suppress(Exception):
            sink.close()
