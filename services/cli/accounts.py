"""`csd accounts --region R --year Y`: a region's year of independent accounts (ACC-1) as CSV
on standard output and, with --out, as a picture (SVG) the assistant can open or print.

Income is the region's income (maintenance fees, secondary sales, final payments) and its fines
(ACC-1: fines are income to the department); expenses are the allowances and reimbursements
paid; the balance is their difference, month by month, from FinanceService.SummarizeRegionMonth.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from html import escape

from csd.finance.v1 import finance_pb2, finance_pb2_grpc

from services.cli.credentials import operator_tls
from services.runtime.settings import Settings
from services.runtime.tls import FINANCE, open_channel


@dataclass(frozen=True)
class Month:
    month: str
    income_fen: int  # income and fines
    expenses_fen: int  # allowances and reimbursements
    balance_fen: int
    entries: int


async def year_of(
    finance: finance_pb2_grpc.FinanceServiceStub, region: str, year: int
) -> list[Month]:
    months = []
    for m in range(1, 13):
        s = await finance.SummarizeRegionMonth(
            finance_pb2.SummarizeRegionMonthRequest(region_code=region, month=f"{year}-{m:02d}"),
            timeout=10,
        )
        months.append(
            Month(
                s.month,
                s.income_fen + s.fines_fen,
                s.allowances_fen + s.reimbursements_fen,
                s.balance_fen,
                s.entry_count,
            )
        )
    return months


async def accounts(settings: Settings, region: str, year: int) -> list[Month]:
    tls = operator_tls(settings)
    async with open_channel(settings.finance_address, to=FINANCE, tls=tls) as channel:
        return await year_of(finance_pb2_grpc.FinanceServiceStub(channel), region, year)


def as_csv(months: list[Month]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["month", "income_fen", "expenses_fen", "balance_fen", "entries"])
    for m in months:
        writer.writerow([m.month, m.income_fen, m.expenses_fen, m.balance_fen, m.entries])
    return out.getvalue()


def _yuan(fen: int) -> str:
    return f"{fen / 100:,.0f}"  # display only: the figures themselves stay in fen


def as_svg(region: str, year: int, months: list[Month]) -> str:
    """Income and expenses as bars per month, the balance as a line, in yuan."""
    width, height, left, top, bottom = 760, 360, 70, 50, 300
    peak = max([1, *(m.income_fen for m in months), *(m.expenses_fen for m in months)])
    low = min([0, *(m.balance_fen for m in months)])
    span = peak - low

    def y(fen: int) -> float:
        return bottom - (fen - low) / span * (bottom - top)

    step = (width - left - 20) / 12
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="Helvetica, Arial, sans-serif" font-size="11">',
        f'<text x="{left}" y="24" font-size="15" font-weight="bold">'
        f"{escape(region)} {year}: regional accounts (ACC-1), yuan</text>",
        f'<line x1="{left}" y1="{y(0):.1f}" x2="{width - 20}" y2="{y(0):.1f}" stroke="#888"/>',
        f'<text x="{left - 8}" y="{y(peak):.1f}" text-anchor="end">{_yuan(peak)}</text>',
        f'<text x="{left - 8}" y="{y(0):.1f}" text-anchor="end">0</text>',
    ]
    points = []
    for i, m in enumerate(months):
        x = left + i * step
        for offset, fen, colour in (
            (4, m.income_fen, "#3a7a4a"),
            (step / 2, m.expenses_fen, "#b04a3a"),
        ):
            top_y = y(fen)
            parts.append(
                f'<rect x="{x + offset:.1f}" y="{top_y:.1f}" width="{step / 2 - 6:.1f}" '
                f'height="{max(y(0) - top_y, 0):.1f}" fill="{colour}"><title>{m.month}: '
                f"{_yuan(fen)}</title></rect>"
            )
        points.append(f"{x + step / 2:.1f},{y(m.balance_fen):.1f}")
        parts.append(
            f'<text x="{x + step / 2:.1f}" y="{bottom + 16}" text-anchor="middle">'
            f"{m.month[5:]}</text>"
        )
    parts += [
        f'<polyline points="{" ".join(points)}" fill="none" stroke="#2a4a8a" stroke-width="2"/>',
        f'<rect x="{left}" y="{bottom + 30}" width="10" height="10" fill="#3a7a4a"/>',
        f'<text x="{left + 14}" y="{bottom + 39}">income and fines</text>',
        f'<rect x="{left + 130}" y="{bottom + 30}" width="10" height="10" fill="#b04a3a"/>',
        f'<text x="{left + 144}" y="{bottom + 39}">allowances and reimbursements</text>',
        f'<line x1="{left + 330}" y1="{bottom + 35}" x2="{left + 350}" y2="{bottom + 35}" '
        'stroke="#2a4a8a" stroke-width="2"/>',
        f'<text x="{left + 354}" y="{bottom + 39}">balance</text>',
        "</svg>",
    ]
    return "\n".join(parts) + "\n"
