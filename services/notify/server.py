"""Run the notify service: `python -m services.notify.server` or `csd serve notify`."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from csd.notify.v1 import notify_pb2, notify_pb2_grpc

from services.notify.callers import CALLERS
from services.notify.delivery import DEFAULT_LEASE
from services.notify.email import Mailer, SmtpMailer, tls_mode
from services.notify.phone import PhoneProvider, provider_from_settings
from services.notify.servicer import NotifyServicer
from services.runtime.database import create_engine, migrate, session_factory
from services.runtime.logging import configure_logging
from services.runtime.server import (
    RunningServer,
    listening_tls,
    serve_until_signalled,
    start_server,
)
from services.runtime.settings import Settings
from services.runtime.tls import TlsFiles

MIGRATIONS = Path(__file__).parent / "migrations"
SERVICE_NAME = notify_pb2.DESCRIPTOR.services_by_name["NotifyService"].full_name


async def start(
    *,
    address: str,
    database_url: str,
    mailer: Mailer,
    phone: PhoneProvider,
    lease: timedelta = DEFAULT_LEASE,
    tls: TlsFiles | None = None,
) -> RunningServer:
    """Migrate the database and start serving on `address`, sending through `mailer` and `phone`.

    `lease` is how long a send may stay in progress before a retry presumes its sender dead and
    takes over; keep it above the channels' own timeouts. Stopping the server waits up to a lease
    for the sends under way to record their outcome. With `tls`, mutual TLS and each RPC open
    only to the parts services/notify/callers.py names.
    """
    engine = create_engine(database_url)
    await migrate(engine, migrations=MIGRATIONS, version_table="notify_alembic_version")
    servicer = NotifyServicer(session_factory(engine), mailer=mailer, phone=phone, lease=lease)
    return await start_server(
        address=address,
        register=lambda server: notify_pb2_grpc.add_NotifyServiceServicer_to_server(
            servicer, server
        ),
        service_names=[SERVICE_NAME],
        # The sends still write to the database, so they finish before the engine goes.
        # The kept SMTP sessions say QUIT once the sends under way are recorded.
        cleanup=[
            servicer.drain,
            *([mailer.aclose] if isinstance(mailer, SmtpMailer) else []),
            engine.dispose,
        ],
        tls=tls,
        callers=CALLERS,
    )


def mailer_from_settings(settings: Settings) -> SmtpMailer:
    """The SMTP relay CSD_SMTP_* names (the dev mail sink by default); refuses an unknown
    CSD_SMTP_TLS at start-up."""
    try:
        tls = tls_mode(settings.smtp_tls)
    except ValueError as err:
        raise ValueError(f"CSD_SMTP_TLS {err}") from None
    if settings.smtp_username and tls == "none" and not settings.smtp_allow_plaintext_auth:
        raise ValueError(
            "CSD_SMTP_USERNAME with CSD_SMTP_TLS=none would send the password in the clear: use "
            "starttls or implicit, or set CSD_SMTP_ALLOW_PLAINTEXT_AUTH=true for a relay on a "
            "network you trust"
        )
    return SmtpMailer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        tls=tls,
        username=settings.smtp_username,
        password=settings.smtp_password,
        mail_from=settings.mail_from,
    )


async def serve(settings: Settings) -> None:
    """Serve with the SMTP relay and phone provider the settings name, until signalled."""
    configure_logging("notify")
    running = await start(
        address=settings.notify_address,
        database_url=settings.database_url("notify"),
        mailer=mailer_from_settings(settings),
        phone=provider_from_settings(settings),
        tls=listening_tls(settings, settings.notify_address),
    )
    await serve_until_signalled(running, name="notify", metrics_address=settings.metrics_address)


if __name__ == "__main__":
    asyncio.run(serve(Settings.from_env()))
