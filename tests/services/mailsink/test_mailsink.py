"""The mail sink over real SMTP: what arrives is kept in memory and on disk, UTF-8 intact."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import smtplib
import sys
from collections.abc import AsyncIterator
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from pathlib import Path

import pytest

from services.mailsink import MailSink, envelope_recipients

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
async def sink(tmp_path: Path) -> AsyncIterator[MailSink]:
    running = MailSink(tmp_path / "mail")
    await running.start()
    yield running
    await running.stop()


def _leave_request() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "张伟 <zhang.wei@csd.example>"
    message["To"] = "王强 <wang.qiang@csd.example>"
    message["Subject"] = "请假申请 - 张伟 3 天"
    message.set_content("王经理您好\n\n我申请 12 月 1 日至 3 日请假。\n")
    return message


def _send(port: int, message: EmailMessage, *, to: list[str], smtputf8: bool = False) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
        if smtputf8:
            # Raw UTF-8 headers, as a client that speaks SMTPUTF8 sends them.
            data = message.as_bytes(policy=default.clone(utf8=True, linesep="\r\n"))
            smtp.sendmail(
                "zhang.wei@csd.example", to, data, mail_options=["SMTPUTF8", "BODY=8BITMIME"]
            )
        else:
            smtp.send_message(message, to_addrs=to)


@pytest.mark.parametrize("smtputf8", [False, True], ids=["rfc2047", "smtputf8"])
async def test_received_mail_keeps_chinese_names_and_envelope(
    sink: MailSink, tmp_path: Path, smtputf8: bool
) -> None:
    to = ["wang.qiang@csd.example", "chen.jing@csd.example"]
    await asyncio.to_thread(_send, sink.port, _leave_request(), to=to, smtputf8=smtputf8)

    # The 250 reply comes after the message is stored: no waiting needed once the send returned.
    assert len(sink.messages) == 1
    received = sink.messages[0]
    assert received["Subject"] == "请假申请 - 张伟 3 天"
    assert received["From"].addresses[0].display_name == "张伟"
    assert received["To"].addresses[0].display_name == "王强"
    assert "12 月 1 日" in received.get_content()
    assert envelope_recipients(received) == to
    assert received["X-MailFrom"] == "zhang.wei@csd.example"

    files = sorted((tmp_path / "mail").iterdir())
    assert [f.suffix for f in files] == [".eml"]
    stored = BytesParser(policy=default).parse(files[0].open("rb"))
    assert stored["X-RcptTo"] == ", ".join(to)
    assert "12 月 1 日" in stored.get_content()


async def test_wait_for_returns_a_later_message_and_times_out_clearly(sink: MailSink) -> None:
    waiting = asyncio.create_task(sink.wait_for(lambda m: "请假" in str(m["Subject"]), timeout=5))
    await asyncio.sleep(0)
    await asyncio.to_thread(_send, sink.port, _leave_request(), to=["wang.qiang@csd.example"])
    assert (await waiting)["Subject"] == "请假申请 - 张伟 3 天"

    with pytest.raises(TimeoutError, match="请假申请"):
        await sink.wait_for(lambda m: m["Subject"] == "something else", timeout=0.2)


async def test_without_a_maildir_messages_stay_in_memory_only(tmp_path: Path) -> None:
    sink = MailSink()
    await sink.start()
    try:
        await asyncio.to_thread(_send, sink.port, _leave_request(), to=["a@csd.example"])
        assert len(sink.messages) == 1
    finally:
        await sink.stop()
    assert not any(tmp_path.iterdir())  # noqa: ASYNC240 - a tiny directory, after the fact


async def test_stop_closes_the_port_and_open_sessions(sink: MailSink) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", sink.port)
    assert (await reader.readline()).startswith(b"220 ")
    await sink.stop()
    assert await reader.read() == b""  # the idle session was closed by the server
    writer.close()
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", sink.port)


async def test_module_entry_point_serves_until_sigterm(tmp_path: Path) -> None:
    maildir = tmp_path / "mail"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.mailsink",
        "--port",
        "0",
        "--maildir",
        str(maildir),
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'protos'}"},
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    try:
        port = 0
        async with asyncio.timeout(30):
            while not port:
                line = await process.stderr.readline()
                assert line, "the mail sink exited before listening"
                event = json.loads(line)
                if event.get("event") == "mail sink listening":
                    assert event["process"] == "mailsink"
                    port = event["port"]
        await asyncio.to_thread(_send, port, _leave_request(), to=["wang.qiang@csd.example"])
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            await process.communicate()
    assert process.returncode == 0
    assert len(list(maildir.glob("*.eml"))) == 1
