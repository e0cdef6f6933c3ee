"""EF-1: rules are versioned data with an effective date."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from workflows import rulebook


def test_the_regulation_takes_effect_on_1_april() -> None:
    assert rulebook.in_force(date(2024, 4, 1)).version == "2024-v1"
    with pytest.raises(rulebook.NoRuleSetInForce):
        rulebook.in_force(date(2024, 3, 31))


def test_a_new_version_applies_from_its_date_and_old_ones_stay_readable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = rulebook.by_version("2024-v1")
    second = replace(
        first,
        version="2027-v2",
        effective_from=date(2027, 1, 1),
        assistance_reminder_after=timedelta(hours=8),
        fines_fen={"XA-1": 100_00},
    )
    monkeypatch.setattr(rulebook, "RULE_SETS", (first, second))
    assert rulebook.in_force(date(2026, 12, 31)) is first
    assert rulebook.in_force(date(2027, 1, 1)) is second
    # A process that started under 2024-v1 keeps its parameters.
    assert rulebook.by_version("2024-v1").fine_fen("XA-1") == 50_00
    assert rulebook.by_version("2027-v2").fine_fen("XA-1") == 100_00


def test_every_rule_set_is_distinct_and_fines_are_positive() -> None:
    versions = [r.version for r in rulebook.RULE_SETS]
    assert len(versions) == len(set(versions))
    for rules in rulebook.RULE_SETS:
        assert all(amount > 0 for amount in rules.fines_fen.values())
    with pytest.raises(rulebook.UnknownRule, match="no fine for"):
        rulebook.by_version("2024-v1").fine_fen("LV-1")
    with pytest.raises(rulebook.UnknownRule, match="unknown rule set version"):
        rulebook.by_version("1999-v0")
