"""Every log line of a process is one JSON object of the same shape, whether csd-ops's own
structlog loggers wrote it (straight to stderr) or a library's stdlib logger (through the
root handler): operators' log queries rely on the keys below."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from services.runtime.logging import configure_logging


@pytest.fixture
def stderr(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    """What the process writes to stderr (configure_logging binds the stream it is given)."""
    root = logging.getLogger()
    handlers, level, config = root.handlers[:], root.level, structlog.get_config()
    bound = structlog.contextvars.get_contextvars()
    yield capsys
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.configure(**config)
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(**bound)


def lines(stderr: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in stderr.readouterr().err.splitlines()]


def test_our_lines_and_a_librarys_lines_have_one_shape(stderr: pytest.CaptureFixture[str]) -> None:
    configure_logging("staff")
    with structlog.contextvars.bound_contextvars(request_id="r-1", rpc="/csd.staff.v1/GetPerson"):
        structlog.get_logger("csd.rpc").info("rpc", code="OK", elapsed_ms=1.5)
        logging.getLogger("grpc._cython").warning("channel %s closed", "staff")
    ours, library = lines(stderr)
    assert ours == {
        "event": "rpc",
        "code": "OK",
        "elapsed_ms": 1.5,
        "process": "staff",
        "request_id": "r-1",
        "rpc": "/csd.staff.v1/GetPerson",
        "level": "info",
        "logger": "csd.rpc",
        "timestamp": ours["timestamp"],
    }
    assert library == {
        "event": "channel staff closed",
        "process": "staff",
        "request_id": "r-1",
        "rpc": "/csd.staff.v1/GetPerson",
        "level": "warning",
        "logger": "grpc._cython",
        "timestamp": library["timestamp"],
    }
    assert str(ours["timestamp"]).endswith("Z")


def test_the_level_holds_for_both_and_an_exception_comes_in_full(
    stderr: pytest.CaptureFixture[str],
) -> None:
    configure_logging("worker", level="WARNING")
    log = structlog.get_logger("csd.worker")
    log.info("not shown")
    logging.getLogger("temporalio").info("not shown either")
    try:
        raise RuntimeError("the store is gone")
    except RuntimeError:
        log.exception("activity failed")
    [line] = lines(stderr)
    assert (line["event"], line["level"], line["logger"]) == ("activity failed", "error",
                                                              "csd.worker")  # fmt: skip
    assert "RuntimeError: the store is gone" in str(line["exception"])


def test_names_not_ascii_stay_readable(stderr: pytest.CaptureFixture[str]) -> None:
    configure_logging("notify")
    structlog.get_logger("csd.notify").info("sent", hospital="瑞金医院")
    assert '"hospital": "瑞金医院"' in stderr.readouterr().err


def test_a_process_may_log_to_a_file_instead(
    stderr: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """csd dev keeps its own log in var/log/dev.log, its terminal being for people."""
    with (tmp_path / "dev.log").open("a", encoding="utf-8") as file:
        configure_logging("dev", stream=file)
        structlog.get_logger("csd.dev").warning("part exited", part="notify")
        logging.getLogger("asyncio").error("a library speaks")
    written = [json.loads(line) for line in (tmp_path / "dev.log").read_text().splitlines()]
    assert [(w["event"], w["logger"]) for w in written] == [
        ("part exited", "csd.dev"),
        ("a library speaks", "asyncio"),
    ]
    assert stderr.readouterr().err == ""


class _Pipe(io.StringIO):
    """A pipe whose reader can go away (BrokenPipeError on write) and come back."""

    broken = True

    def write(self, text: str) -> int:
        if self.broken:
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(text)


def test_a_line_that_cannot_be_written_is_lost_not_raised(
    stderr: pytest.CaptureFixture[str],
) -> None:
    """The reader of stderr gone: the RPC or activity that logs goes on, and so does logging."""
    pipe = _Pipe()
    configure_logging("staff", stream=pipe)
    log = structlog.get_logger("csd.rpc")
    log.info("rpc", code="OK")
    log.warning("slow", elapsed_ms=900)
    log.error("refused")
    logging.getLogger("grpc._cython").error("a library speaks")
    pipe.broken = False
    log.info("rpc", code="OK", elapsed_ms=1.0)
    [line] = [json.loads(text) for text in pipe.getvalue().splitlines()]
    assert (line["event"], line["elapsed_ms"]) == ("rpc", 1.0)


def test_a_closed_stream_loses_the_line(stderr: pytest.CaptureFixture[str]) -> None:
    """A write to a closed file raises ValueError: lost too, not raised into the caller."""
    stream = io.StringIO()
    stream.close()
    configure_logging("staff", stream=stream)
    structlog.get_logger("csd.rpc").info("rpc", code="OK")
    logging.getLogger("grpc._cython").error("a library speaks")


def test_the_level_comes_from_csd_log_level(
    stderr: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CSD_LOG_LEVEL", "warning")
    configure_logging("gateway")
    structlog.get_logger("csd.rpc").info("rpc", code="OK")
    structlog.get_logger("csd.rpc").warning("slow", elapsed_ms=900)
    logging.getLogger("temporalio").info("polling")
    assert [line["event"] for line in lines(stderr)] == ["slow"]


@pytest.mark.parametrize("given", ["loud", "5", "INFO,DEBUG"])
def test_a_level_that_is_none_says_what_to_set(monkeypatch: pytest.MonkeyPatch, given: str) -> None:
    monkeypatch.setenv("CSD_LOG_LEVEL", given)
    with pytest.raises(SystemExit) as refused:
        configure_logging("staff")
    assert str(refused.value) == (
        f"CSD_LOG_LEVEL={given!r} is not a log level; set it to one of DEBUG, INFO, WARNING, "
        "ERROR, or leave it unset for INFO"
    )
