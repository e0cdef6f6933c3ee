"""`csd seed`: load the demo organisation and the regulation's policy tables through the APIs."""

from __future__ import annotations

from csd.finance.v1 import finance_pb2_grpc
from csd.staff.v1 import staff_pb2_grpc

from services.cli.credentials import operator_tls
from services.finance.regulation import publish_regulation_policy
from services.runtime.settings import Settings
from services.runtime.tls import FINANCE, STAFF, open_channel
from services.staff.demo import load_demo


async def seed(settings: Settings) -> str:
    """Idempotent: a second run changes nothing. Writes as the admin part."""
    tls = operator_tls(settings)
    async with (
        open_channel(settings.staff_address, to=STAFF, tls=tls) as staff,
        open_channel(settings.finance_address, to=FINANCE, tls=tls) as finance,
    ):
        records = await load_demo(staff_pb2_grpc.StaffServiceStub(staff))
        policy = await publish_regulation_policy(finance_pb2_grpc.FinanceServiceStub(finance))
    return (
        f"demo organisation: {records} records; "
        f"policy {policy.version} from {policy.effective_from}"
    )
