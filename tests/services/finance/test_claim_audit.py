"""The claim audit, rule by rule at its boundaries (RB-3..RB-5, PAY-3..PAY-7), against the
regulation's own tables: every cap at, one fen under and one fen over its limit for each role
and tier; a cost where attendance does not show the person; taxis and local transport; a
pre-approval's amount; the month's cap; a shared room; a policy change inside the month."""

from __future__ import annotations

from datetime import date

import pytest

from services.finance.claim_audit import (
    BUSINESS,
    COMMUNICATION,
    HOSPITALITY,
    LODGING,
    REFUSE,
    TAXI,
    TRANSPORT,
    TRAVEL_ALLOWANCE,
    WARN,
    AttendanceDay,
    Audit,
    ClaimError,
    Line,
    PreApproval,
    Rate,
    audit,
)
from workflows.regulation.allowances import (
    ALLOWANCES_2024,
    CUSTOMER_SERVICE_MANAGER,
    ENGINEER,
    LEAD_OR_MANAGER,
    AllowanceTables,
)

MONTH = "2025-03"
DAY = date(2025, 3, 10)
SHANGHAI = AttendanceDay("on_site", "Shanghai", "tier_1")


def rates(group: str, tables: AllowanceTables = ALLOWANCES_2024) -> Rate:
    """The regulation's tables as the finance policy publishes them, in fen."""

    def rate(item: str, tier: str, day: date) -> int | None:
        if item == "travel_daily":
            yuan = tables.travel_daily.get(group, {}).get(tier)
        else:
            yuan = getattr(tables, item).get(group)
        return None if yuan is None else yuan * 100

    return rate


def one(
    line: Line,
    group: str = ENGINEER,
    attendance: AttendanceDay | None = SHANGHAI,
    pre_approvals: dict[str, PreApproval] | None = None,
) -> Audit:
    return audit(
        [line],
        month=MONTH,
        attendance={line.day: attendance} if attendance else {},
        rate=rates(group),
        pre_approvals=pre_approvals or {},
    )


def codes(result: Audit) -> list[tuple[str, str, str]]:
    return [(e.code, e.rule, e.level) for line in result.lines for e in line.exceptions]


CAPS = [
    (group, tier, yuan)
    for group in (ENGINEER, LEAD_OR_MANAGER)
    for tier, yuan in ALLOWANCES_2024.travel_daily[group].items()
]


@pytest.mark.parametrize(("group", "tier", "yuan"), CAPS)
@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_the_travel_allowance_is_capped_per_role_and_tier(
    group: str, tier: str, yuan: int, offset: int
) -> None:
    cap = yuan * 100
    at = AttendanceDay("travelling", "Shanghai", tier)
    result = one(Line(1, TRAVEL_ALLOWANCE, DAY, "Shanghai", cap + offset), group, at)
    [line] = result.lines
    assert line.sanctioned_fen == min(cap, cap + offset)
    if offset > 0:
        [refused] = line.exceptions
        assert (refused.code, refused.rule, refused.level, refused.fen) == (
            "over_travel_rate",
            "PAY-3",
            REFUSE,
            1,
        )
    else:
        assert line.exceptions == []


@pytest.mark.parametrize(("group", "yuan"), sorted(ALLOWANCES_2024.lodging_nightly_cap.items()))
@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_lodging_is_capped_per_night(group: str, yuan: int, offset: int) -> None:
    cap = yuan * 100
    result = one(Line(1, LODGING, DAY, "Shanghai", cap + offset), group)
    assert result.lines[0].sanctioned_fen == min(cap, cap + offset)
    assert codes(result) == ([("over_lodging_cap", "PAY-4", REFUSE)] if offset > 0 else [])


def test_a_rate_the_source_does_not_set_is_refused_saying_so() -> None:
    result = one(Line(1, TRAVEL_ALLOWANCE, DAY, "Shanghai", 5000), CUSTOMER_SERVICE_MANAGER)
    assert result.sanctioned_fen == 0
    assert codes(result) == [("travel_rate_not_set", "PAY-3", REFUSE)]


def test_two_people_sharing_a_room_are_settled_as_one_cap() -> None:
    room = Line(1, LODGING, DAY, "Shanghai", 180_00, shared_with=("liu.yang",))
    [line] = one(room).lines
    assert line.sanctioned_fen == 100_00  # one engineer's cap for the room, not two
    assert "shared with liu.yang (one person's cap)" in line.exceptions[0].words


@pytest.mark.parametrize(
    ("attendance", "code"),
    [
        (None, "no_attendance"),
        (AttendanceDay("on_site", "Beijing", "tier_1"), "place_not_in_attendance"),
        (AttendanceDay("office", "", ""), "place_not_in_attendance"),
    ],
)
def test_a_cost_where_attendance_does_not_show_the_person_is_refused(
    attendance: AttendanceDay | None, code: str
) -> None:
    result = one(Line(1, LODGING, DAY, "Shanghai", 90_00), attendance=attendance)
    assert result.sanctioned_fen == 0
    assert codes(result) == [(code, "RB-3", REFUSE)]
    assert "is not reimbursed" in result.lines[0].exceptions[0].words


@pytest.mark.parametrize(
    ("reason", "overtime", "sanctioned", "code"),
    [
        ("client outage at 23:00", True, 46_00, None),
        ("", True, 0, "taxi_without_reason"),
        ("rain", False, 0, "taxi_outside_overtime"),
    ],
)
def test_a_taxi_needs_a_reason_and_overtime_or_an_emergency(
    reason: str, overtime: bool, sanctioned: int, code: str | None
) -> None:
    taxi = Line(1, TAXI, DAY, "Shanghai", 46_00, reason=reason, overtime_or_emergency=overtime)
    result = one(taxi)
    assert result.sanctioned_fen == sanctioned
    assert codes(result) == ([(code, "RB-4", REFUSE)] if code else [])


@pytest.mark.parametrize(
    ("attendance", "overtime", "sanctioned"),
    [
        (AttendanceDay("office", "Wuxi", "head_office"), False, 0),
        (AttendanceDay("office", "Wuxi", "head_office"), True, 12_00),
        (AttendanceDay("travelling", "Shanghai", "tier_1"), False, 12_00),
    ],
)
def test_local_transport_only_for_overtime_or_emergency(
    attendance: AttendanceDay, overtime: bool, sanctioned: int
) -> None:
    line = Line(1, TRANSPORT, DAY, "Wuxi", 12_00, overtime_or_emergency=overtime)
    assert one(line, attendance=attendance).sanctioned_fen == sanctioned


APPROVED = {"PA-1": PreApproval("PA-1", HOSPITALITY, 300_00)}


@pytest.mark.parametrize(
    ("reference", "claimed", "sanctioned", "code"),
    [
        ("PA-1", 280_00, 280_00, None),
        ("PA-1", 300_00, 300_00, None),
        ("PA-1", 300_01, 300_00, "over_pre_approval"),
        ("", 100_00, 0, "no_pre_approval"),
        ("PA-9", 100_00, 0, "no_pre_approval"),
    ],
)
def test_hospitality_needs_its_pre_approval_and_stays_within_it(
    reference: str, claimed: int, sanctioned: int, code: str | None
) -> None:
    line = Line(1, HOSPITALITY, DAY, "Shanghai", claimed, pre_approval=reference)
    result = one(line, pre_approvals=APPROVED)
    assert result.sanctioned_fen == sanctioned
    assert codes(result) == ([(code, "RB-5", REFUSE)] if code else [])


def test_a_pre_approval_is_spent_across_the_lines_that_name_it() -> None:
    lines = [
        Line(1, HOSPITALITY, DAY, "Shanghai", 200_00, pre_approval="PA-1"),
        Line(2, HOSPITALITY, date(2025, 3, 11), "Shanghai", 200_00, pre_approval="PA-1"),
    ]
    result = audit(
        lines,
        month=MONTH,
        attendance={DAY: SHANGHAI, date(2025, 3, 11): SHANGHAI},
        rate=rates(ENGINEER),
        pre_approvals=APPROVED,
    )
    assert [line.sanctioned_fen for line in result.lines] == [200_00, 100_00]


def test_the_monthly_cap_splits_the_excess_off_the_latest_lines() -> None:
    # A technical service manager: 2,000 yuan a month across business, transport,
    # communication and lodging.
    days = [date(2025, 3, d) for d in (3, 4, 5, 6)]
    lines = [
        Line(1, LODGING, days[0], "Shanghai", 130_00),
        Line(2, COMMUNICATION, days[1], "Shanghai", 150_00),
        Line(3, BUSINESS, days[2], "Shanghai", 1_700_00, pre_approval="PA-B"),
        Line(4, LODGING, days[3], "Shanghai", 130_00),
    ]
    result = audit(
        lines,
        month=MONTH,
        attendance=dict.fromkeys(days, SHANGHAI),
        rate=rates(LEAD_OR_MANAGER),
        pre_approvals={"PA-B": PreApproval("PA-B", BUSINESS, 2_000_00)},
    )
    assert result.claimed_fen == 2_110_00
    assert result.sanctioned_fen == 2_000_00
    assert [line.sanctioned_fen for line in result.lines] == [130_00, 150_00, 1_700_00, 20_00]
    assert codes(result) == [("over_monthly_cap", "PAY-7", REFUSE)]


def test_a_line_is_audited_under_the_policy_in_force_on_its_date() -> None:
    raised = AllowanceTables(
        travel_daily={ENGINEER: {"tier_1": 60}},
        lodging_nightly_cap=ALLOWANCES_2024.lodging_nightly_cap,
    )
    change = date(2025, 3, 15)

    def rate(item: str, tier: str, day: date) -> int | None:
        return (rates(ENGINEER, raised) if day >= change else rates(ENGINEER))(item, tier, day)

    before, after = date(2025, 3, 14), date(2025, 3, 17)
    result = audit(
        [
            Line(1, TRAVEL_ALLOWANCE, before, "Shanghai", 60_00),
            Line(2, TRAVEL_ALLOWANCE, after, "Shanghai", 60_00),
        ],
        month=MONTH,
        attendance={before: SHANGHAI, after: SHANGHAI},
        rate=rate,
        pre_approvals={},
    )
    assert [line.sanctioned_fen for line in result.lines] == [55_00, 60_00]


def test_a_dormitory_city_is_warned_not_refused() -> None:
    line = Line(1, LODGING, DAY, "Shanghai", 90_00)
    result = audit(
        [line],
        month=MONTH,
        attendance={DAY: SHANGHAI},
        rate=rates(ENGINEER),
        pre_approvals={},
        dormitory_cities=frozenset({"shanghai"}),
    )
    assert result.sanctioned_fen == 90_00
    assert codes(result) == [("dormitory_city", "PAY-4", WARN)]


@pytest.mark.parametrize(
    ("line", "words"),
    [
        (Line(1, LODGING, DAY, "Shanghai", 90.5), "whole fen"),  # type: ignore[arg-type]
        (Line(1, LODGING, DAY, "Shanghai", True), "whole fen"),
        (Line(1, LODGING, DAY, "Shanghai", 0), "positive"),
        (Line(1, "spa", DAY, "Shanghai", 100), "category 'spa'"),
        (Line(1, LODGING, date(2025, 4, 1), "Shanghai", 100), "not in the claim's month"),
    ],
)
def test_a_malformed_claim_is_refused_before_any_rule(line: Line, words: str) -> None:
    with pytest.raises(ClaimError, match=words):
        one(line)


def test_a_room_another_claim_paid_is_not_paid_again() -> None:
    line = Line(1, LODGING, DAY, "Shanghai", 90_00)
    result = audit(
        [line],
        month=MONTH,
        attendance={DAY: SHANGHAI},
        rate=rates(ENGINEER),
        pre_approvals={},
        settled_nights={(DAY, "shanghai"): "claim-liu.yang-2025-03"},
        claim="claim-zhao.lei-2025-03",
    )
    assert result.sanctioned_fen == 0
    assert "reimbursed on claim-liu.yang-2025-03" in result.lines[0].exceptions[0].words
    # The claim that paid it is not refused its own night on a re-audit.
    again = audit(
        [line],
        month=MONTH,
        attendance={DAY: SHANGHAI},
        rate=rates(ENGINEER),
        pre_approvals={},
        settled_nights={(DAY, "shanghai"): "claim-zhao.lei-2025-03"},
        claim="claim-zhao.lei-2025-03",
    )
    assert again.sanctioned_fen == 90_00


def test_a_pre_approval_spent_on_another_claim_is_spent() -> None:
    spent = {"PA-1": PreApproval("PA-1", HOSPITALITY, 300_00, used_by="claim-a")}
    line = Line(1, HOSPITALITY, DAY, "Shanghai", 100_00, pre_approval="PA-1")
    assert codes(one(line, pre_approvals=spent)) == [("pre_approval_used", "RB-5", REFUSE)]
