"""The audit of an expense claim, line by line (RB-1..RB-5, PAY-3..PAY-7): what is claimed,
what is sanctioned, and each exception with its rule, its level and the words a person reads.

Pure: the caller hands in the claimant's pay group, their attendance for the month, the policy
rates in force on each line's date and the approved pre-approvals the claim names; nothing here
reads a database or a clock, so every rule is tested at its boundaries without services.
Money is integer fen throughout; a float anywhere is refused.

What each rule does to a line:
- RB-3: a cost on a day attendance does not show at that place (city) is refused whole.
- PAY-3: the travel allowance of a day is at most the rate for the pay group and the place's
  tier; the excess is split off and refused, the rest sanctioned.
- PAY-4: lodging is at most the nightly cap; a room shared with others is settled as one
  person's cap for the room; lodging in a city with a company dormitory is warned.
- RB-4: a taxi needs a reason and an overtime or emergency day; otherwise refused whole.
- PAY-6: local transport (a day at the office, not travelling) only for overtime or emergency.
- RB-5, PAY-7: hospitality and business need an approved pre-approval of the same category;
  above its approved amount the excess is refused.
- PAY-7: business, transport, communication and lodging together are at most the monthly cap
  of the pay group; the excess of the month is split off the latest lines and refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

TRAVEL_ALLOWANCE = "travel_allowance"
LODGING = "lodging"
COMMUNICATION = "communication"
TRANSPORT = "transport"
TAXI = "taxi"
HOSPITALITY = "hospitality"
BUSINESS = "business"
CATEGORIES = (TRAVEL_ALLOWANCE, LODGING, COMMUNICATION, TRANSPORT, TAXI, HOSPITALITY, BUSINESS)
# PAY-7: "covering business, transport, communication and lodging together".
UNDER_MONTHLY_CAP = (BUSINESS, TRANSPORT, COMMUNICATION, LODGING)
NEEDS_PRE_APPROVAL = (HOSPITALITY, BUSINESS)
# PAY-4: "a higher cap needs the department manager's approval".
LODGING_UPLIFT = "lodging_uplift"
PRE_APPROVAL_CATEGORIES = (HOSPITALITY, BUSINESS, LODGING_UPLIFT)
AT_A_PLACE = ("on_site", "travelling")

WARN, REFUSE = "warn", "refuse"


class ClaimError(ValueError):
    """The claim itself is malformed (not a rule's verdict on a line)."""


@dataclass(frozen=True)
class Line:
    number: int
    category: str
    day: date
    city: str
    amount_fen: int
    shared_with: tuple[str, ...] = ()  # lodging: the others in the room
    reason: str = ""  # taxi: written on the receipt
    overtime_or_emergency: bool = False
    pre_approval: str = ""


@dataclass(frozen=True)
class AttendanceDay:
    status: str  # office, on_site, travelling, on_leave, rest_day
    city: str
    tier: str  # the place's tier: tier_1, tier_2, other, head_office ("" at no place)


@dataclass(frozen=True)
class PreApproval:
    reference: str
    category: str
    approved_fen: int
    used_by: str = ""  # the approved claim that already spent it


@dataclass
class LineException:
    code: str
    rule: str
    level: str
    words: str
    fen: int = 0  # the amount it refuses (0 for a warning)


@dataclass
class LineOutcome:
    number: int
    category: str
    claimed_fen: int
    sanctioned_fen: int
    exceptions: list[LineException] = field(default_factory=list)

    def refuse(self, code: str, rule: str, words: str, fen: int) -> None:
        fen = min(fen, self.sanctioned_fen)
        if fen <= 0:
            return
        self.sanctioned_fen -= fen
        self.exceptions.append(LineException(code, rule, REFUSE, words, fen))

    def warn(self, code: str, rule: str, words: str) -> None:
        self.exceptions.append(LineException(code, rule, WARN, words))


@dataclass
class Audit:
    lines: list[LineOutcome]

    @property
    def claimed_fen(self) -> int:
        return sum(line.claimed_fen for line in self.lines)

    @property
    def sanctioned_fen(self) -> int:
        return sum(line.sanctioned_fen for line in self.lines)


# The rate of an item for the claimant on a day (None where the policy sets none): the
# caller binds the pay group and picks the policy version in force on that day.
Rate = Callable[[str, str, date], int | None]  # (item, tier, day) -> fen


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d} yuan"


def audit(
    lines: Sequence[Line],
    *,
    month: str,
    attendance: Mapping[date, AttendanceDay],
    rate: Rate,
    pre_approvals: Mapping[str, PreApproval],
    dormitory_cities: frozenset[str] = frozenset(),
    settled_nights: Mapping[tuple[date, str], str] = {},
    claim: str = "",
) -> Audit:
    """Every line's outcome, in the claim's order. `settled_nights` are the claimant's nights
    (day, case-folded city) whose room another approved claim already paid, by that claim;
    `claim` is this claim's own reference, whose earlier settlement is not held against it."""
    _check(lines, month)
    outcomes = [LineOutcome(li.number, li.category, li.amount_fen, li.amount_fen) for li in lines]
    used: dict[str, int] = {}
    for line, outcome in zip(lines, outcomes, strict=True):
        day = attendance.get(line.day)
        _attendance(line, outcome, day)
        if outcome.sanctioned_fen == 0:
            continue
        if line.category == TRAVEL_ALLOWANCE:
            _travel(line, outcome, day, rate)
        elif line.category == LODGING:
            paid_by = settled_nights.get((line.day, line.city.casefold()), claim)
            if paid_by != claim:
                outcome.refuse(
                    "room_already_reimbursed",
                    "PAY-4",
                    f"the room of {line.day.isoformat()} in {line.city} was reimbursed on "
                    f"{paid_by}: a room is paid once, however many shared it",
                    outcome.sanctioned_fen,
                )
                continue
            _lodging(line, outcome, rate, dormitory_cities, pre_approvals)
        elif line.category == TAXI:
            _taxi(line, outcome)
        elif line.category == TRANSPORT:
            _transport(line, outcome, day)
        if line.category in NEEDS_PRE_APPROVAL:
            _pre_approved(line, outcome, pre_approvals, used, claim)
    _monthly_cap(lines, outcomes, month, rate)
    return Audit(outcomes)


def _check(lines: Sequence[Line], month: str) -> None:
    if not lines:
        raise ClaimError("a claim has at least one line")
    numbers = [line.number for line in lines]
    if len(set(numbers)) != len(numbers):
        raise ClaimError("each line has its own number")
    for line in lines:
        if type(line.amount_fen) is not int:
            raise ClaimError(
                f"line {line.number}: amount_fen must be whole fen, not {line.amount_fen!r}"
            )
        if line.amount_fen <= 0:
            raise ClaimError(f"line {line.number}: the amount must be positive")
        if line.category not in CATEGORIES:
            raise ClaimError(
                f"line {line.number}: category {line.category!r}: use {', '.join(CATEGORIES)}"
            )
        if line.day.strftime("%Y-%m") != month:
            raise ClaimError(
                f"line {line.number}: {line.day.isoformat()} is not in the claim's month {month}"
            )


def _attendance(line: Line, outcome: LineOutcome, day: AttendanceDay | None) -> None:
    """RB-3: a cost at a place attendance does not show that day is not reimbursed."""
    if line.category == COMMUNICATION:
        return  # a monthly allowance, not tied to a place
    if day is None:
        outcome.refuse(
            "no_attendance",
            "RB-3",
            f"attendance shows nothing for {line.day.isoformat()}: a cost on a day without "
            "attendance is not reimbursed",
            line.amount_fen,
        )
    elif line.category not in (TAXI, TRANSPORT) and day.city.casefold() != line.city.casefold():
        where = f"in {day.city}" if day.city else f"as {day.status.replace('_', ' ')}"
        outcome.refuse(
            "place_not_in_attendance",
            "RB-3",
            f"attendance shows {line.day.isoformat()} {where}, not in {line.city}: a cost at a "
            "place attendance does not show is not reimbursed",
            line.amount_fen,
        )


def _capped(outcome: LineOutcome, cap: int | None, code: str, rule: str, what: str) -> None:
    if cap is None:
        outcome.refuse(
            f"{code}_not_set", rule, f"{rule} sets no {what} for this role", outcome.sanctioned_fen
        )
    elif outcome.sanctioned_fen > cap:
        excess = outcome.sanctioned_fen - cap
        outcome.refuse(
            f"over_{code}",
            rule,
            f"{_yuan(excess)} above the {what} of {_yuan(cap)}: the excess is not reimbursed",
            excess,
        )


def _travel(line: Line, outcome: LineOutcome, day: AttendanceDay | None, rate: Rate) -> None:
    if day is None or day.status not in AT_A_PLACE:
        outcome.refuse(
            "not_travelling",
            "PAY-3",
            "a travel allowance is for a day on site or travelling",
            outcome.sanctioned_fen,
        )
        return
    _capped(
        outcome,
        rate("travel_daily", day.tier, line.day),
        "travel_rate",
        "PAY-3",
        "daily travel allowance",
    )


def _lodging(
    line: Line,
    outcome: LineOutcome,
    rate: Rate,
    dormitory_cities: frozenset[str],
    pre_approvals: Mapping[str, PreApproval],
) -> None:
    cap = rate("lodging_nightly_cap", "", line.day)
    what = "nightly lodging cap"
    uplift = pre_approvals.get(line.pre_approval) if line.pre_approval else None
    if uplift is not None and uplift.category == LODGING_UPLIFT:
        cap, what = uplift.approved_fen, f"nightly cap {uplift.reference} approved"
    if line.shared_with and cap is not None:
        what += f" for a room shared with {', '.join(line.shared_with)} (one person's cap)"
    _capped(outcome, cap, "lodging_cap", "PAY-4", what)
    if line.city.casefold() in {c.casefold() for c in dormitory_cities}:
        outcome.warn(
            "dormitory_city",
            "PAY-4",
            f"{line.city} has a company dormitory, which comes first",
        )


def _taxi(line: Line, outcome: LineOutcome) -> None:
    if not line.reason.strip():
        outcome.refuse(
            "taxi_without_reason",
            "RB-4",
            "a taxi receipt needs the reason written on it: no reason, no reimbursement",
            outcome.sanctioned_fen,
        )
    elif not line.overtime_or_emergency:
        outcome.refuse(
            "taxi_outside_overtime",
            "RB-4",
            "taxis are reimbursed only for overtime or emergencies",
            outcome.sanctioned_fen,
        )


def _transport(line: Line, outcome: LineOutcome, day: AttendanceDay | None) -> None:
    travelling = day is not None and day.status in AT_A_PLACE
    if not travelling and not line.overtime_or_emergency:
        outcome.refuse(
            "local_transport",
            "PAY-6",
            "local (non-travel) transport is reimbursed only for overtime or emergencies",
            outcome.sanctioned_fen,
        )


def _pre_approved(
    line: Line,
    outcome: LineOutcome,
    pre_approvals: Mapping[str, PreApproval],
    used: dict[str, int],
    claim: str,
) -> None:
    rule = "RB-5" if line.category == HOSPITALITY else "PAY-7"
    approval = pre_approvals.get(line.pre_approval) if line.pre_approval else None
    if approval is not None and approval.used_by and approval.used_by != claim:
        outcome.refuse(
            "pre_approval_used",
            rule,
            f"{approval.reference} was already spent on {approval.used_by}",
            outcome.sanctioned_fen,
        )
        return
    if approval is None or approval.category != line.category:
        outcome.refuse(
            "no_pre_approval",
            rule,
            f"{line.category} needs an approval beforehand"
            + (f"; {line.pre_approval} is not an approved {line.category} pre-approval"
               if line.pre_approval else "; the line names none"),
            outcome.sanctioned_fen,
        )  # fmt: skip
        return
    left = approval.approved_fen - used.get(approval.reference, 0)
    if outcome.sanctioned_fen > left:
        outcome.refuse(
            "over_pre_approval",
            rule,
            f"{_yuan(outcome.sanctioned_fen - max(left, 0))} above what {approval.reference} "
            f"approved ({_yuan(approval.approved_fen)} in all)",
            outcome.sanctioned_fen - max(left, 0),
        )
    used[approval.reference] = used.get(approval.reference, 0) + outcome.sanctioned_fen


def _monthly_cap(
    lines: Sequence[Line], outcomes: Sequence[LineOutcome], month: str, rate: Rate
) -> None:
    capped = [
        (li, o) for li, o in zip(lines, outcomes, strict=True) if li.category in UNDER_MONTHLY_CAP
    ]
    if not capped:
        return
    last_day = max(li.day for li, _ in capped)
    cap = rate("reimbursement_monthly_cap", "", last_day)
    if cap is None:
        return  # the source sets none for this role (the engineer): nothing to enforce
    total = sum(o.sanctioned_fen for _, o in capped)
    excess = total - cap
    # The month's latest lines carry the excess: what was spent first stays reimbursed.
    for _line, outcome in sorted(
        capped, key=lambda pair: (pair[0].day, pair[0].number), reverse=True
    ):
        if excess <= 0:
            break
        take = min(excess, outcome.sanctioned_fen)
        outcome.refuse(
            "over_monthly_cap",
            "PAY-7",
            f"the month's business, transport, communication and lodging pass the monthly cap "
            f"of {_yuan(cap)}; {_yuan(take)} of this line is not reimbursed",
            take,
        )
        excess -= take
