"""An in-process SMTP server that keeps every message it receives: `csd dev` and the tests use it
so that mail is really sent over SMTP and can be read back."""

from services.mailsink.sink import MailSink, envelope_recipients

__all__ = ["MailSink", "envelope_recipients"]
