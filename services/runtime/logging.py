"""structlog JSON logging, configured once per process.

Our own loggers render their JSON line in structlog and write it straight to the stream: one line
per RPC is the services' access log, and the standard library's record, handler and formatter
machinery was a tenth of a busy service's event loop (bench/README.md, service reads). The
stdlib root logger goes through structlog's ProcessorFormatter with the same processors, so
grpc's, SQLAlchemy's and Temporal's loggers come out as the same JSON lines as our own.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import Any, TextIO

import structlog

_SHARED: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]
_RENDER: list[structlog.types.Processor] = [
    structlog.processors.format_exc_info,
    structlog.processors.JSONRenderer(ensure_ascii=False),
]


class _NamedWriteLogger(structlog.WriteLogger):
    """A line writer that knows its logger's name, for the "logger" key."""

    def __init__(self, name: str, file: TextIO) -> None:
        super().__init__(file)
        self.name = name

    def msg(self, message: str) -> None:
        # A line that cannot be written (the reader of a pipe gone, the disk full, the file
        # closed) is lost, as the standard library's handlers lose theirs: a log line must never
        # fail the RPC or the activity that wrote it.
        try:
            super().msg(message)
        except (OSError, ValueError):
            pass

    log = debug = info = warn = warning = err = error = critical = exception = fatal = msg


def _writers(file: TextIO) -> Callable[..., _NamedWriteLogger]:
    """structlog's logger factory: get_logger("csd.rpc") names the line's logger."""

    def make(*args: Any) -> _NamedWriteLogger:
        return _NamedWriteLogger(str(args[0]) if args else "csd", file)

    return make


LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def level_from_env() -> str:
    """CSD_LOG_LEVEL (DEBUG, INFO, WARNING or ERROR; INFO when unset); SystemExit with what to
    set when it is none of them. At WARNING the per-RPC access lines (INFO) are left out."""
    given = os.environ.get("CSD_LOG_LEVEL", "").strip()
    if not given:
        return "INFO"
    if given.upper() not in LEVELS:
        raise SystemExit(
            f"CSD_LOG_LEVEL={given!r} is not a log level; set it to one of {', '.join(LEVELS)}, "
            "or leave it unset for INFO"
        )
    return given.upper()


def configure_logging(
    process: str, *, level: str | None = None, stream: TextIO | None = None
) -> None:
    """Send every log line of this process at `level` (CSD_LOG_LEVEL) or above to `stream`
    (stderr) as one JSON object."""
    level = level or level_from_env()
    stream = stream or sys.stderr
    structlog.configure(
        processors=[*_SHARED, *_RENDER],
        logger_factory=_writers(stream),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *_RENDER],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(process=process)
