"""The real csd-ops services on loopback, for workflow, gateway and end-to-end tests."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import grpc
from csd.finance.v1 import finance_pb2_grpc
from csd.notify.v1 import notify_pb2_grpc
from csd.staff.v1 import staff_pb2_grpc
from temporalio.client import Client
from temporalio.worker import Worker

from services.finance import server as finance_server
from services.finance.regulation import publish_regulation_policy
from services.mailsink.sink import MailSink
from services.notify import server as notify_server
from services.notify.email import SmtpMailer
from services.notify.phone import LogProvider, PhoneProvider
from services.runtime.server import RunningServer
from services.staff import server as staff_server
from services.staff.demo import load_demo
from services.worker.main import build_worker


@dataclass
class Stack:
    """Staff (demo organisation), finance (regulation policy), notify (real SMTP to a sink)."""

    mail: MailSink
    phone_log: Path
    servers: list[RunningServer]
    staff: grpc.aio.Channel
    finance: grpc.aio.Channel
    notify: grpc.aio.Channel

    def worker(self, client: Client, task_queue: str) -> Worker:
        """The csd-ops worker over these services, on `task_queue`."""
        return build_worker(
            client,
            staff=self.staff,
            finance=self.finance,
            notify=self.notify,
            task_queue=task_queue,
        )

    @property
    def staff_address(self) -> str:
        return f"127.0.0.1:{self.servers[0].port}"

    @property
    def finance_address(self) -> str:
        return f"127.0.0.1:{self.servers[1].port}"

    async def aclose(self) -> None:
        for channel in (self.staff, self.finance, self.notify):
            await channel.close()
        for running in reversed(self.servers):
            await running.stop(grace=0)
        await self.mail.stop()


def _channel(running: RunningServer) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(f"127.0.0.1:{running.port}")


async def _start_servers(
    url: Callable[[str], str], mail: MailSink, phone: PhoneProvider
) -> list[RunningServer]:
    staff = await staff_server.start(address="127.0.0.1:0", database_url=url("staff"))
    finance = await finance_server.start(
        address="127.0.0.1:0",
        database_url=url("finance"),
        staff_address=f"127.0.0.1:{staff.port}",
    )
    notify = await notify_server.start(
        address="127.0.0.1:0",
        database_url=url("notify"),
        mailer=SmtpMailer(host="127.0.0.1", port=mail.port, mail_from="csd-ops@csd.example"),
        phone=phone,
    )
    return [staff, finance, notify]


_DATABASES = ("staff", "finance", "notify")
_template: Path | None = None
_template_lock = asyncio.Lock()


async def _seeded_template() -> Path:
    """SQLite files migrated and seeded (demo organisation, regulation policy) once per test
    process: each stack starts on its own copy, which is what a fresh migration and seeding
    would give, a third of a second sooner."""
    global _template
    async with _template_lock:
        if _template is None:
            folder = Path(tempfile.mkdtemp(prefix="csd-stack-template-"))
            mail = MailSink(maildir=folder / "mail")
            await mail.start(host="127.0.0.1", port=0)
            servers = await _start_servers(
                lambda name: f"sqlite+aiosqlite:///{folder}/{name}.db",
                mail,
                LogProvider(folder / "phone.log"),
            )
            staff, finance = _channel(servers[0]), _channel(servers[1])
            await load_demo(staff_pb2_grpc.StaffServiceStub(staff))
            await publish_regulation_policy(finance_pb2_grpc.FinanceServiceStub(finance))
            await staff.close()
            await finance.close()
            for running in reversed(servers):
                await running.stop(grace=0)  # the last connection folds the WAL into the file
            await mail.stop()
            _template = folder
        return _template


async def start_stack(
    tmp_path: Path, *, database_url: str | None = None, phone: PhoneProvider | None = None
) -> Stack:
    """The services on `database_url` (migrated and seeded here), or on copies of the seeded
    SQLite template in `tmp_path`."""
    if database_url is None:
        template = await _seeded_template()
        for name in _DATABASES:
            shutil.copyfile(template / f"{name}.db", tmp_path / f"{name}.db")

    def url(name: str) -> str:
        return database_url or f"sqlite+aiosqlite:///{tmp_path}/{name}.db"

    mail = MailSink(maildir=tmp_path / "mail")
    await mail.start(host="127.0.0.1", port=0)
    phone_log = tmp_path / "phone.log"
    servers = await _start_servers(url, mail, phone or LogProvider(phone_log))
    staff, finance, notify = servers
    stack = Stack(mail, phone_log, servers, _channel(staff), _channel(finance), _channel(notify))
    if database_url is not None:
        await load_demo(staff_pb2_grpc.StaffServiceStub(stack.staff))
        await publish_regulation_policy(finance_pb2_grpc.FinanceServiceStub(stack.finance))
    return stack


def notify_stub(stack: Stack) -> notify_pb2_grpc.NotifyServiceStub:
    return notify_pb2_grpc.NotifyServiceStub(stack.notify)
