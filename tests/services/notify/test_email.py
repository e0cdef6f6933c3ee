"""The SMTP mailer's TLS modes: chosen from the settings, refused when unknown, and really used."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import replace
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from services.mailsink import MailSink
from services.notify.delivery import Refused
from services.notify.email import SmtpMailer, TlsMode
from services.notify.server import mailer_from_settings
from services.runtime.settings import Settings
from tests.services.notify.conftest import MAIL_FROM, TroubledSink

TLS_VARIABLES = ("CSD_SMTP_TLS", "CSD_SMTP_STARTTLS")


@pytest.mark.parametrize(
    ("environment", "mode"),
    [
        ({}, "none"),
        ({"CSD_SMTP_TLS": "starttls"}, "starttls"),
        ({"CSD_SMTP_TLS": " Implicit "}, "implicit"),
        # The older variable still turns STARTTLS on, so an existing deployment stays encrypted.
        ({"CSD_SMTP_STARTTLS": "true"}, "starttls"),
        ({"CSD_SMTP_STARTTLS": "false"}, "none"),
        ({"CSD_SMTP_STARTTLS": "true", "CSD_SMTP_TLS": "implicit"}, "implicit"),
    ],
)
def test_the_tls_mode_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], mode: str
) -> None:
    for name in TLS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = Settings.from_env()
    assert settings.smtp_tls == mode
    assert mailer_from_settings(settings).tls == mode


@pytest.mark.parametrize("value", ["ssl", "tls", "true", ""])
def test_an_unknown_tls_mode_is_refused_at_start_up(value: str) -> None:
    settings = replace(Settings.from_env(), smtp_tls=value)
    with pytest.raises(ValueError, match="CSD_SMTP_TLS must be 'none', 'starttls'") as err:
        mailer_from_settings(settings)
    assert repr(value) in str(err.value)
    with pytest.raises(ValueError, match="must be 'none'"):
        SmtpMailer(host="127.0.0.1", port=25, mail_from=MAIL_FROM, tls=value)  # type: ignore[arg-type]


def test_the_settings_reach_the_mailer() -> None:
    settings = replace(
        Settings.from_env(),
        smtp_host="smtp.csd.example",
        smtp_port=465,
        smtp_tls="implicit",
        smtp_username="csd-ops",
        smtp_password="secret",
    )
    mailer = mailer_from_settings(settings)
    assert (mailer.host, mailer.port, mailer.tls) == ("smtp.csd.example", 465, "implicit")
    assert (mailer.username, mailer.password) == ("csd-ops", "secret")
    assert mailer.sender.addr_spec == settings.mail_from


def mailer(port: int, tls: TlsMode) -> SmtpMailer:
    return SmtpMailer(host="127.0.0.1", port=port, mail_from=MAIL_FROM, tls=tls, timeout=5)


async def send(mailer: SmtpMailer) -> str:
    return await mailer.send(
        to=["wang.qiang@csd.example"], cc=[], subject="TLS", body="测试", key="tls-test"
    )


async def test_without_tls_the_message_travels_in_the_clear(tmp_path: Path) -> None:
    sink = MailSink(tmp_path / "mail")
    await sink.start()
    try:
        await send(mailer(sink.port, "none"))
    finally:
        await sink.stop()
    assert len(sink.messages) == 1


async def test_starttls_insists_on_the_server_offering_it(tmp_path: Path) -> None:
    # The dev sink offers no STARTTLS: the mailer refuses to go on in the clear.
    sink = MailSink(tmp_path / "mail")
    await sink.start()
    try:
        with pytest.raises(smtplib.SMTPNotSupportedError, match="STARTTLS"):
            await send(mailer(sink.port, "starttls"))
    finally:
        await sink.stop()
    assert sink.messages == []


async def test_implicit_tls_starts_with_a_tls_handshake(tmp_path: Path) -> None:
    # A plain SMTP server greets in text where the mailer expects a TLS record: no handshake, no
    # mail. (A handshake that succeeds needs a certificate; the `cryptography` package that could
    # make one in the test is not a dependency.)
    sink = MailSink(tmp_path / "mail")
    await sink.start()
    try:
        with pytest.raises(ssl.SSLError):
            await send(mailer(sink.port, "implicit"))
    finally:
        await sink.stop()
    assert sink.messages == []


async def test_a_long_subject_is_never_folded_into_an_empty_encoded_word(tmp_path: Path) -> None:
    """Python's header folder wrote `=?utf-8?q??=` where a fold fell just before a non-ASCII
    word (the MT-3 invitation's "—"); the subject goes out unfolded and reads back whole."""
    subject = "[XA-1 XA-2026-0001] Ward report export times out on ward five — coordinating"
    sink = MailSink(tmp_path / "mail")
    await sink.start()
    try:
        await mailer(sink.port, "none").send(
            to=["wang.qiang@csd.example"], cc=[], subject=subject, body="x", key="fold-test"
        )
    finally:
        await sink.stop()
    [message] = sink.messages
    raw = dict(message.raw_items())["Subject"]
    assert "=?utf-8?q??=" not in raw and "\n" not in raw
    assert str(message["Subject"]) == subject


@pytest.mark.parametrize(("allowed", "refused"), [("", True), ("true", False)])
def test_a_password_is_not_sent_in_the_clear_unless_allowed(
    monkeypatch: pytest.MonkeyPatch, allowed: str, refused: bool
) -> None:
    for name, value in {
        "CSD_SMTP_TLS": "none",
        "CSD_SMTP_USERNAME": "csd-ops",
        "CSD_SMTP_PASSWORD": "secret",
        "CSD_SMTP_ALLOW_PLAINTEXT_AUTH": allowed,
    }.items():
        monkeypatch.setenv(name, value)
    if refused:
        with pytest.raises(ValueError, match="would send the password in the clear"):
            mailer_from_settings(Settings.from_env())
    else:
        assert mailer_from_settings(Settings.from_env()).username == "csd-ops"


async def _send(mailer: SmtpMailer, n: int, to: str = "wang.qiang@csd.example") -> str:
    return await mailer.send(to=[to], cc=[], subject=f"pool {n}", body="x", key=f"pool-{n}")


async def test_one_kept_session_carries_message_after_message(tmp_path: Path) -> None:
    sink = MailSink(tmp_path / "mail")
    await sink.start()
    mailer = SmtpMailer(host="127.0.0.1", port=sink.port, mail_from=MAIL_FROM, timeout=5)
    try:
        for n in range(5):
            await _send(mailer, n)
    finally:
        await mailer.aclose()
        await sink.stop()
    assert sorted(str(m["Subject"]) for m in sink.messages) == [f"pool {n}" for n in range(5)]
    assert mailer.opened == 1  # one connection, greeting and EHLO for all five


async def test_a_burst_opens_no_more_sessions_than_the_pool_holds(tmp_path: Path) -> None:
    sink = MailSink(tmp_path / "mail")
    await sink.start()
    mailer = SmtpMailer(
        host="127.0.0.1", port=sink.port, mail_from=MAIL_FROM, timeout=5, pool_size=3
    )
    opened_before = _sessions_opened()
    try:
        await asyncio.gather(*(_send(mailer, n) for n in range(30)))
    finally:
        await mailer.aclose()
        await sink.stop()
    assert len(sink.messages) == 30
    assert mailer.opened <= 3
    # What an operator reads: csd_smtp_sessions_opened_total beside the messages sent.
    assert _sessions_opened() - opened_before == mailer.opened


def _sessions_opened() -> float:
    return REGISTRY.get_sample_value("csd_smtp_sessions_opened_total") or 0.0


async def test_a_kept_session_the_server_dropped_is_replaced_before_the_message(
    tmp_path: Path,
) -> None:
    sink = MailSink(tmp_path / "mail")
    await sink.start()
    port = sink.port
    mailer = SmtpMailer(host="127.0.0.1", port=port, mail_from=MAIL_FROM, timeout=5)
    try:
        await _send(mailer, 1)
        # The relay restarts: the kept session's connection is gone.
        await sink.stop()
        await sink.start(port=port)
        await _send(mailer, 2)
    finally:
        await mailer.aclose()
        await sink.stop()
    assert [str(m["Subject"]) for m in sink.messages] == ["pool 1", "pool 2"]
    assert mailer.opened == 2


async def test_a_session_idle_too_long_is_not_reused(tmp_path: Path) -> None:
    sink = MailSink(tmp_path / "mail")
    await sink.start()
    mailer = SmtpMailer(
        host="127.0.0.1", port=sink.port, mail_from=MAIL_FROM, timeout=5, idle_seconds=0
    )
    try:
        await _send(mailer, 1)
        await _send(mailer, 2)
    finally:
        await mailer.aclose()
        await sink.stop()
    assert len(sink.messages) == 2 and mailer.opened == 2


async def test_after_a_refused_message_the_session_sends_the_next_one(tmp_path: Path) -> None:
    sink = TroubledSink(tmp_path / "mail")
    sink.data_reply = "550 5.7.1 content refused"
    await sink.start()
    mailer = SmtpMailer(host="127.0.0.1", port=sink.port, mail_from=MAIL_FROM, timeout=5)
    try:
        with pytest.raises(Refused, match="content refused"):
            await _send(mailer, 1)
        sink.data_reply = ""
        await _send(mailer, 2)
    finally:
        await mailer.aclose()
        await sink.stop()
    assert [str(m["Subject"]) for m in sink.messages] == ["pool 2"]
    assert mailer.opened == 1  # RSET, and on with the same session
