"""EF-1: rules are versioned data with an effective date, in a package free of frameworks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from workflows import regulation
from workflows.regulation import cadences, dates, rule_sets, texts


def test_the_regulation_takes_effect_on_1_april() -> None:
    assert regulation.in_force(date(2024, 4, 1)).version == "2024-v1"
    with pytest.raises(regulation.NoRuleSetInForce):
        regulation.in_force(date(2024, 3, 31))
    # 1 April begins at 00:00 in Asia/Shanghai, 16:00 UTC the day before.
    assert regulation.in_force_at(datetime(2024, 3, 31, 16, 0, tzinfo=UTC)).version == "2024-v1"
    with pytest.raises(regulation.NoRuleSetInForce):
        regulation.in_force_at(datetime(2024, 3, 31, 15, 59, tzinfo=UTC))


def test_a_new_version_applies_from_its_date_and_old_ones_stay_readable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = regulation.by_version("2024-v1")
    second = replace(
        first,
        version="2027-v2",
        effective_from=date(2027, 1, 1),
        assistance_reminder_after=timedelta(hours=8),
        fines_fen={"XA-1": 100_00},
    )
    monkeypatch.setattr(rule_sets, "RULE_SETS", (first, second))
    assert regulation.in_force(date(2026, 12, 31)) is first
    assert regulation.in_force(date(2027, 1, 1)) is second
    # A process that started under 2024-v1 keeps its parameters.
    assert regulation.by_version("2024-v1").fine_fen("XA-1") == 50_00
    assert regulation.by_version("2027-v2").fine_fen("XA-1") == 100_00


def test_every_rule_set_is_distinct_and_fines_are_positive() -> None:
    versions = [r.version for r in regulation.RULE_SETS]
    assert len(versions) == len(set(versions))
    for rules in regulation.RULE_SETS:
        assert all(amount > 0 for amount in rules.fines_fen.values())
    with pytest.raises(regulation.UnknownRule, match="no fine for"):
        regulation.by_version("2024-v1").fine_fen("LV-1")
    with pytest.raises(regulation.UnknownRule, match="unknown rule set version"):
        regulation.by_version("1999-v0")


def test_a_refusal_is_a_plain_exception_naming_its_status() -> None:
    """No Temporal type reaches the gateway through the rules: the layers map the code."""
    with pytest.raises(regulation.UnknownRule) as err:
        regulation.by_version("1999-v0")
    assert not any(c.__module__.startswith("temporalio") for c in type(err.value).__mro__)
    assert err.value.code == "INVALID_ARGUMENT"
    assert regulation.NotAllowed("x").code == "PERMISSION_DENIED"
    assert regulation.NotNow("x").code == "FAILED_PRECONDITION"


def test_meetings_cadences_and_allowances_are_versioned_rule_data() -> None:
    rules = regulation.by_version("2024-v1")
    assert rules.meeting("MT-3").minutes_role == "department_assistant"
    assert rules.meeting("MT-1").agenda[0] == "The month's customer service in the region"
    with pytest.raises(regulation.UnknownRule, match="no routine meeting"):
        rules.meeting("MT-9")
    sync = rules.cadence(cadences.RQ2_SYNC)
    assert sync.weekdays == (cadences.MONDAY, cadences.THURSDAY)
    # The RQ-2 sync falls on Mondays and Thursdays, in order, before any holiday rule.
    assert sync.nominal_days(date(2026, 11, 30), date(2026, 12, 10)) == [
        date(2026, 11, 30), date(2026, 12, 3), date(2026, 12, 7), date(2026, 12, 10)
    ]  # fmt: skip
    with pytest.raises(regulation.UnknownRule, match="no cadence"):
        rules.cadence("never")
    assert rules.allowances.lodging_nightly_cap["engineer"] == 100


def test_text_limits_are_one_table_with_plain_words() -> None:
    assert texts.required("  why  ", "purpose") == "why"
    with pytest.raises(regulation.InvalidInput, match="purpose is required: say why"):
        texts.required(" ", "purpose", why="say why")
    with pytest.raises(regulation.InvalidInput, match=f"longer than {texts.TEXT}"):
        texts.bounded("x" * (texts.TEXT + 1), "note")


def test_instants_are_shown_in_the_company_zone() -> None:
    assert regulation.shown(datetime(2026, 12, 1, 2, 0, tzinfo=UTC)) == "2026-12-01T10:00:00+08:00"
    with pytest.raises(ValueError, match="naive"):
        regulation.shown(datetime(2026, 12, 1, 2, 0))


def test_days_and_instants_have_one_reading() -> None:
    assert dates.day("2026-12-14", "start_date") == date(2026, 12, 14)
    for bad in ("2026-W50-1", "20261214", "2026-02-30", ""):
        with pytest.raises(regulation.InvalidInput, match="is not a date: use YYYY-MM-DD"):
            dates.day(bad, "start_date")
    assert dates.instant("2026-12-14T09:00:00+08:00", "at").utcoffset() == timedelta(hours=8)
    with pytest.raises(regulation.InvalidInput, match="has no offset"):
        dates.instant("2026-12-14T09:00:00", "at")
