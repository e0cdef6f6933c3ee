"""AT-4: 3 days of absence in total is dismissal, decided by a department manager.

Opened by the spot-check process when a person's absence (days found not at post, AT-3)
reaches the rule's total within its window; one case per person (workflow id `at4-<person>`,
never reused). The department managers are told at once, and the decision is an Update only a
department manager may make, with the reason in words, on the shared SLA clock: the
managers are alerted when the rule's working time has passed without one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.staff import (
        CalendarActivities,
        ContactInput,
        StaffActivities,
        WorkingTimeInput,
    )
    from workflows import regulation
    from workflows.case_file import CaseFile, CaseRecord, Mail, opened, rule_refusals
    from workflows.lookups import lookup, people_in_role
    from workflows.regulation import InvalidInput, NotAllowed, NotNow, texts
    from workflows.regulation.readers import Reader

PROCESS = "dismissal"
AWAITING_DECISION = "awaiting_decision"
DISMISSED = "dismissed"
KEPT = "kept"
OUTCOMES = (DISMISSED, KEPT)
DECIDERS = "department_manager"


def workflow_id(person_id: str) -> str:
    return f"at4-{person_id}"


@dataclass
class DismissalInput:
    person_id: str
    region_code: str
    absent_days: list[str]
    window_from: str
    findings: list[str]  # the spot-check references behind the absence
    rule_version: str


def validate(input: DismissalInput, rules: regulation.RuleSet) -> None:
    if len(input.absent_days) < rules.at4_absence_days:
        raise NotAllowed(
            f"{len(input.absent_days)} day(s) of absence are not yet a case for dismissal: "
            f"AT-4 takes {rules.at4_absence_days} in total"
        )


@dataclass
class DecisionInput:
    actor_id: str
    outcome: str  # "dismissed" or "kept"
    reason: str


def validate_decision(input: DecisionInput) -> None:
    if input.outcome not in OUTCOMES:
        raise InvalidInput(f"outcome {input.outcome!r}: use dismissed or kept")
    texts.required(input.reason, "reason", why="say why, for the person and the record")


@dataclass
class DismissalStatus(CaseRecord):
    person_id: str
    region_code: str
    absent_days: list[str]
    findings: list[str]
    rule_version: str
    decided_by: str = ""
    reason: str = ""
    decide_by: str = ""
    deciders: list[str] = field(default_factory=list)
    stage: str = AWAITING_DECISION


def may_read(status: DismissalStatus, reader: Reader) -> bool:
    """The person, the deciders, the clerk, and the region's technical service manager."""
    if reader.id == status.person_id or reader.role in (DECIDERS, "department_clerk"):
        return True
    return reader.role == "technical_service_manager" and reader.region_code == status.region_code


@workflow.defn
class DismissalWorkflow:
    def __init__(self) -> None:
        self._case: CaseFile[DismissalStatus] | None = None

    @workflow.run
    async def run(self, input: DismissalInput) -> DismissalStatus:
        with rule_refusals():
            rules = regulation.by_version(input.rule_version)
            validate(input, rules)
        status = DismissalStatus(
            input.person_id,
            input.region_code,
            list(input.absent_days),
            list(input.findings),
            input.rule_version,
        )
        case = CaseFile(
            status,
            process=PROCESS,
            reference=input.person_id,
            summary=f"AT-4: {input.person_id} absent {len(input.absent_days)} days "
            f"since {input.window_from}",
            subject=lambda what: f"[AT-4 {input.person_id}] {what}",
            words=lambda stage: {
                AWAITING_DECISION: f"{len(status.absent_days)} days of absence "
                f"({', '.join(status.absent_days)}): a department manager decides by "
                f"{status.decide_by}.",
                DISMISSED: f"Dismissed by {status.decided_by}: {status.reason}",
                KEPT: f"Kept on by {status.decided_by}: {status.reason}",
            }.get(stage, stage),
        )
        self._case = case
        managers = await people_in_role(DECIDERS)
        status.deciders = [m.id for m in managers]
        opened_at = workflow.now()
        deadline = await lookup(
            CalendarActivities.add_working_time,
            WorkingTimeInput(
                start=regulation.shown(opened_at),
                minutes=int(rules.at4_decision_within.total_seconds() // 60),
            ),
        )
        decide_by = datetime.fromisoformat(deadline.at)
        status.decide_by = regulation.shown(decide_by)
        case.open(region=input.region_code, rule_version=input.rule_version)
        person = await lookup(StaffActivities.get_contact, ContactInput(input.person_id))
        tsm = await people_in_role("technical_service_manager", input.region_code)
        clerks = await people_in_role("department_clerk")
        await case.email(
            "opened",
            Mail(
                to=managers,
                cc=[*tsm, *clerks],
                what="A case for dismissal to decide",
                body=(
                    f"{person.name} ({person.id}) has {len(status.absent_days)} days of absence "
                    f"found in spot checks since {input.window_from}: "
                    f"{', '.join(status.absent_days)} (findings {', '.join(input.findings)}).\n\n"
                    "Under rule AT-4 three days of absence in total is dismissal. A department "
                    f"manager decides, with the reason, by {status.decide_by}."
                ),
            ),
        )
        clock = case.clock(
            "decision",
            promise=(
                "a department manager decides a case for dismissal within "
                f"{rules.at4_decision_within.total_seconds() / 3600:g} working hours (AT-4)"
            ),
            started_at=opened_at,
            warn_at=decide_by,
            breach_at=decide_by,
            breach_to=managers,
        )
        # Alerts the managers once the deadline passes undecided; met once decided in time.
        await clock.wait(lambda: status.stage != AWAITING_DECISION)
        await case.email(
            "decided",
            Mail(
                to=[person],
                cc=[*managers, *tsm, *clerks],
                what="Dismissal decided" if status.stage == DISMISSED else "Kept on",
                body=(
                    f"{person.name}, on the case for dismissal under rule AT-4 "
                    f"({len(status.absent_days)} days of absence), {status.decided_by} decided: "
                    f"{'dismissed' if status.stage == DISMISSED else 'kept on'}.\n\n"
                    f"Reason: {status.reason}"
                ),
            ),
        )
        return status

    @workflow.update
    def decide(self, input: DecisionInput) -> DismissalStatus:
        case, status = self._cases()
        status.decided_by, status.reason = input.actor_id, input.reason.strip()
        case.record(input.actor_id, input.outcome, status.reason)
        case.move_to(input.outcome)
        return status

    @decide.validator
    def _validate_decide(self, input: DecisionInput) -> None:
        with rule_refusals():
            status = self._cases()[1]
            if not status.deciders:
                raise NotNow("the case is still being opened; try again in a moment")
            if input.actor_id not in status.deciders:
                raise NotAllowed(
                    f"{input.actor_id} may not decide a dismissal: a department manager "
                    "decides (AT-4)"
                )
            if status.stage != AWAITING_DECISION:
                raise NotNow(f"already decided by {status.decided_by}")
            validate_decision(input)

    @workflow.query
    def status(self) -> DismissalStatus:
        return opened(self._case, "the case for dismissal").status

    def _cases(self) -> tuple[CaseFile[DismissalStatus], DismissalStatus]:
        case = opened(self._case, "the case for dismissal")
        return case, case.status
