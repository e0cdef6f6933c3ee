"""The monthly pay statement (PAY-2, PAY-3, PAY-5, PAY-6), against the regulation's tables: a
full month against one missing day, a verified on-call miss against none."""

from __future__ import annotations

from services.finance.settlement import Day, Statement, settle
from workflows.regulation.allowances import ALLOWANCES_2024, ENGINEER


def rate(item: str, tier: str) -> int | None:
    if item == "travel_daily":
        yuan = ALLOWANCES_2024.travel_daily[ENGINEER].get(tier)
    else:
        yuan = getattr(ALLOWANCES_2024, item).get(ENGINEER)
    return None if yuan is None else yuan * 100


DAYS = [Day("on_site", "tier_1")] * 10 + [Day("travelling", "tier_2")] * 2 + [Day("office", "")] * 9


def statement(**changes: object) -> Statement:
    fields: dict[str, object] = {
        "base_fen": 8_000_00,
        "performance_fen": 1_200_00,
        "days": DAYS,
        "full_month": True,
        "communication_forfeited": False,
        "rate": rate,
    } | changes
    return settle(**fields)  # type: ignore[arg-type]


def paid(result: Statement) -> dict[str, int]:
    totals: dict[str, int] = {}
    for line in result.lines:
        totals[line.item] = totals.get(line.item, 0) + line.amount_fen
    return totals


def test_a_full_month_pays_salary_performance_and_every_allowance() -> None:
    result = statement()
    assert paid(result) == {
        "base_salary": 8_000_00,
        "performance_pay": 1_200_00,
        "travel_allowance": 10 * 55_00 + 2 * 45_00,  # PAY-3 per day at the place's tier
        "communication_allowance": 100_00,
        "transport_allowance": 150_00,
    }
    assert result.total_fen == 8_000_00 + 1_200_00 + 640_00 + 100_00 + 150_00
    assert result.not_paid == []


def test_one_missing_day_withholds_the_travel_allowance() -> None:
    result = statement(full_month=False)
    assert "travel_allowance" not in paid(result)
    [withheld] = result.not_paid
    assert withheld.rule == "PAY-3" and "requires a full month of attendance" in withheld.words


def test_a_verified_on_call_miss_forfeits_only_the_communication_allowance() -> None:
    result = statement(communication_forfeited=True)
    assert "communication_allowance" not in paid(result)
    assert paid(result)["transport_allowance"] == 150_00
    [forfeited] = result.not_paid
    assert (forfeited.rule, forfeited.item) == ("PAY-5", "communication_allowance")
    assert "OC-1" in forfeited.words


def test_no_salary_record_and_no_performance_pay_are_said_not_guessed() -> None:
    result = statement(base_fen=None, performance_fen=None)
    assert {line.item for line in result.not_paid} == {"base_salary", "performance_pay"}
