"""Run the mail sink as its own process until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Sequence
from pathlib import Path

import structlog

from services.mailsink.sink import MailSink
from services.runtime.logging import configure_logging

log = structlog.get_logger("csd.mailsink")


async def serve(*, host: str, port: int, maildir: Path | None) -> None:
    """Receive mail on `host:port` until the process is told to stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    sink = MailSink(maildir)
    await sink.start(host, port)
    try:
        await stop.wait()
    finally:
        log.info("shutting down", service="mailsink")
        await sink.stop()


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line, configure logging and serve."""
    parser = argparse.ArgumentParser(
        prog="python -m services.mailsink",
        description="An SMTP server that keeps every message it receives (for development).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8025, help="port to listen on (0: any)")
    parser.add_argument("--maildir", type=Path, default=None, help="keep each message here as .eml")
    args = parser.parse_args(argv)
    configure_logging("mailsink")
    asyncio.run(serve(host=args.host, port=args.port, maildir=args.maildir))


if __name__ == "__main__":
    main()
