"""A person's monthly pay statement (PAY-2, PAY-3, PAY-5, PAY-6): pay is base salary +
performance pay + allowances.

Pure, like the claim audit: the caller hands in the salary in force, the performance pay the
department manager entered, the month's attendance (each day's status and the place's tier)
and whether every working day of it is reported or excused, whether a verified missed on-call
call forfeited the communication allowance, and the policy rates for the pay group. Each line
says its rule and, where something is not paid, why.

- PAY-3: the travel allowance is paid per day on site or travelling, at the rate of the place's
  tier, and only for a full month of attendance.
- PAY-5: the communication allowance, unless forfeited (OC-1).
- PAY-6: the transport allowance.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

AT_A_PLACE = ("on_site", "travelling")

Rate = Callable[[str, str], int | None]  # (item, tier) -> fen in force for the month


@dataclass(frozen=True)
class Day:
    status: str
    tier: str  # the place's tier on a day at a place


@dataclass
class StatementLine:
    item: str
    rule: str
    amount_fen: int
    words: str


@dataclass
class Statement:
    lines: list[StatementLine] = field(default_factory=list)
    not_paid: list[StatementLine] = field(default_factory=list)  # amount 0, with the reason

    @property
    def total_fen(self) -> int:
        return sum(line.amount_fen for line in self.lines)


def settle(
    *,
    base_fen: int | None,
    performance_fen: int | None,
    days: Sequence[Day],
    full_month: bool,
    communication_forfeited: bool,
    rate: Rate,
    adjusted: Mapping[str, str] = {},
) -> Statement:
    """`adjusted` names the tiers whose travel rate `rate` answers from an approved dispute
    (PAY-3), each with the adjustment's reference, so the statement says so."""
    statement = Statement()

    def pay(item: str, rule: str, fen: int, words: str) -> None:
        statement.lines.append(StatementLine(item, rule, fen, words))

    def not_paid(item: str, rule: str, words: str) -> None:
        statement.not_paid.append(StatementLine(item, rule, 0, words))

    if base_fen is None:
        not_paid("base_salary", "PAY-2", "no salary record is in force for the month")
    else:
        pay("base_salary", "PAY-2", base_fen, "base salary in force for the month")
    if performance_fen is None:
        not_paid("performance_pay", "PAY-2", "the department manager has entered none")
    else:
        pay("performance_pay", "PAY-2", performance_fen, "entered by the department manager")

    tiers = Counter(day.tier for day in days if day.status in AT_A_PLACE)
    if not tiers:
        pass
    elif not full_month:
        not_paid(
            "travel_allowance",
            "PAY-3",
            f"{sum(tiers.values())} day(s) away, but the month's attendance is not complete: "
            "the travel allowance requires a full month of attendance",
        )
    else:
        for tier, count in sorted(tiers.items()):
            daily = rate("travel_daily", tier)
            if daily is None:
                not_paid("travel_allowance", "PAY-3", f"PAY-3 sets no rate at tier {tier}")
            else:
                why = f" (rate adjusted: {adjusted[tier]})" if tier in adjusted else ""
                pay(
                    "travel_allowance",
                    "PAY-3",
                    daily * count,
                    f"{count} day(s) at tier {tier}, {daily // 100}.{daily % 100:02d} a day{why}",
                )

    communication = rate("communication_monthly", "any")
    if communication is not None:
        if communication_forfeited:
            not_paid(
                "communication_allowance",
                "PAY-5",
                "forfeited for the month: a verified missed on-call call (OC-1)",
            )
        else:
            pay("communication_allowance", "PAY-5", communication, "the month's allowance")
    transport = rate("transport_monthly", "any")
    if transport is not None:
        pay("transport_allowance", "PAY-6", transport, "the month's allowance")
    return statement
