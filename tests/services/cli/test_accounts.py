"""`csd accounts` (ACC-1): a region's year from the ledger as CSV and as a chart, income and
fines against allowances and reimbursements, month by month."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from csd.finance.v1 import finance_pb2 as F
from csd.finance.v1.finance_pb2_grpc import FinanceServiceStub

from services.cli.accounts import as_csv, as_svg, year_of
from tests.services.finance.builders import entry
from tests.stack import Stack


async def test_a_regions_year_as_csv_and_chart(stack: Stack) -> None:
    finance = FinanceServiceStub(stack.finance)
    for key, changes in {
        "fine": {"month": "2026-03", "amount_fen": 50_00},
        "income": {"month": "2026-03", "kind": F.ENTRY_KIND_INCOME, "amount_fen": 10_000_00,
                   "person_id": "", "rule_id": "ACC-1"},
        "paid": {"month": "2026-04", "kind": F.ENTRY_KIND_REIMBURSEMENT, "amount_fen": 155_00,
                 "rule_id": "RB-1"},
    }.items():  # fmt: skip
        await finance.RecordEntry(F.RecordEntryRequest(idempotency_key=key, entry=entry(**changes)))
    months = await year_of(finance, "east", 2026)
    assert [m.month for m in months] == [f"2026-{n:02d}" for n in range(1, 13)]
    march, april = months[2], months[3]
    assert (march.income_fen, march.expenses_fen, march.balance_fen) == (10_050_00, 0, 10_050_00)
    assert (april.income_fen, april.expenses_fen, april.balance_fen) == (0, 155_00, -155_00)
    lines = as_csv(months).splitlines()
    assert lines[0] == "month,income_fen,expenses_fen,balance_fen,entries"
    assert lines[3] == "2026-03,1005000,0,1005000,2"
    chart = ET.fromstring(as_svg("east", 2026, months))
    titles = [t.text for t in chart.iter("{http://www.w3.org/2000/svg}title")]
    assert "2026-03: 10,050" in titles and "2026-04: 155" in titles
