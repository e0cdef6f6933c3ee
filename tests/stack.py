"""The real csd-ops services on loopback, for workflow, gateway and end-to-end tests."""

from __future__ import annotations

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


async def start_stack(
    tmp_path: Path, *, database_url: str | None = None, phone: PhoneProvider | None = None
) -> Stack:
    def url(name: str) -> str:
        return database_url or f"sqlite+aiosqlite:///{tmp_path}/{name}.db"

    mail = MailSink(maildir=tmp_path / "mail")
    await mail.start(host="127.0.0.1", port=0)
    phone_log = tmp_path / "phone.log"
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
        phone=phone or LogProvider(phone_log),
    )
    stack = Stack(
        mail,
        phone_log,
        [staff, finance, notify],
        _channel(staff),
        _channel(finance),
        _channel(notify),
    )
    await load_demo(staff_pb2_grpc.StaffServiceStub(stack.staff))
    await publish_regulation_policy(finance_pb2_grpc.FinanceServiceStub(stack.finance))
    return stack


def notify_stub(stack: Stack) -> notify_pb2_grpc.NotifyServiceStub:
    return notify_pb2_grpc.NotifyServiceStub(stack.notify)
