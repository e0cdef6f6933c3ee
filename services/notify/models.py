"""The notify database: one row per delivery, keyed by the caller's idempotency key.

Enum-like columns hold the proto enum names in lower case ("email", "pending").
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, Integer, String, Text, TypeDecorator, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.runtime.idempotency import MAX_KEY_LENGTH

PENDING = "pending"
SENT = "sent"
FAILED = "failed"


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC time on every backend.

    SQLite stores no offset and hands back naive values; they were written as UTC, so they are
    read back as UTC, and a naive value is refused on the way in rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware time")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Metadata of the notify database."""


class Delivery(Base):
    """One message to send, its attempts and its outcome."""

    __tablename__ = "notify_deliveries"
    __table_args__ = (
        UniqueConstraint("idempotency_key", name="uq_notify_deliveries_idempotency_key"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    # sha256 of the request, to tell a retry from a different message under the same key.
    fingerprint: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(20))
    recipients: Mapped[str] = mapped_column(Text)  # a JSON list of addresses or phone numbers
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    reference: Mapped[str] = mapped_column(String(200), index=True)
    attempts: Mapped[int] = mapped_column(Integer)
    provider: Mapped[str] = mapped_column(String(40))
    provider_ref: Mapped[str] = mapped_column(Text)
    last_error: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    # Also the lease clock: a PENDING row not touched for a lease belongs to a crashed sender.
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
