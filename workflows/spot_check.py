"""AT-3: falsified attendance found in a spot check is fined 200 per occurrence, and the days not
actually at post count as absence; AT-4: the region's technical service manager carries the
same fine (joint liability), and absence reaching 3 days in total opens a case for dismissal.

One finding is one case (workflow id `at3-<reference>`): recorded by the department clerk or
head office (a department manager), it records the absence days in the staff service, fines
the person and, when the person is not the region's technical service manager themself, that
manager the same amount, mails both (cc the clerk), and when the person's absence within the
rule's window reaches the rule's total, opens the one dismissal case for them
(workflows/dismissal.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio import workflow
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from activities.attendance import (
        AbsenceCountInput,
        AbsenceInput,
        AttendanceActivities,
    )
    from activities.finance import FinanceActivities, LedgerEntryInput
    from activities.staff import ContactInput, StaffActivities
    from workflows import regulation, retry_policies
    from workflows.case_file import CaseFile, CaseRecord, Mail, opened, rule_refusals
    from workflows.dismissal import DismissalInput, DismissalWorkflow
    from workflows.dismissal import workflow_id as dismissal_id
    from workflows.lookups import lookup, people_in_role
    from workflows.regulation import InvalidInput, dates, texts
    from workflows.regulation.readers import Reader

PROCESS = "spot_check"
RULE = "AT-3"
FINED = "fined"
DISMISSAL_OPENED = "dismissal_opened"
MAX_DAYS = 31


def workflow_id(reference: str) -> str:
    return f"at3-{reference}"


@dataclass
class SpotCheckInput:
    reference: str
    person_id: str
    region_code: str
    days: list[str]  # the days found not at post, YYYY-MM-DD
    place_claimed: str
    place_found: str
    recorded_by: str
    rule_version: str


def validate(input: SpotCheckInput, rules: regulation.RuleSet) -> None:
    """A finding a person can act on: which days, where they said they were, where they were."""
    rules.fine_fen(RULE)
    texts.reference(input.reference)
    if not 1 <= len(input.days) <= MAX_DAYS:
        raise InvalidInput(f"days: name 1 to {MAX_DAYS} days found not at post")
    if len(set(input.days)) != len(input.days):
        raise InvalidInput("days: each day once")
    for day in input.days:
        dates.day(day, "days")
    texts.required(input.place_claimed, "place_claimed", why="where attendance said they were")
    texts.required(input.place_found, "place_found", why="where the check found them")


@dataclass
class SpotCheckStatus(CaseRecord):
    reference: str
    person_id: str
    region_code: str
    days: list[str]
    place_claimed: str
    place_found: str
    rule_version: str
    amount_fen: int = 0
    fined: list[str] = field(default_factory=list)  # who was fined: the person, the TSM
    absence_days: int = 0
    dismissal_case: str = ""
    stage: str = "found"


def may_read(status: SpotCheckStatus, reader: Reader) -> bool:
    """The person, those fined with them, the clerk and the department managers."""
    return (
        reader.id == status.person_id
        or reader.id in status.fined
        or reader.role in ("department_manager", "department_clerk")
    )


@workflow.defn
class SpotCheckWorkflow:
    def __init__(self) -> None:
        self._case: CaseFile[SpotCheckStatus] | None = None

    @workflow.run
    async def run(self, input: SpotCheckInput) -> SpotCheckStatus:
        with rule_refusals():
            rules = regulation.by_version(input.rule_version)
            validate(input, rules)
        amount = rules.fine_fen(RULE)
        days = sorted(input.days)
        status = SpotCheckStatus(
            input.reference,
            input.person_id,
            input.region_code,
            days,
            input.place_claimed.strip(),
            input.place_found.strip(),
            input.rule_version,
            amount_fen=amount,
        )
        case = CaseFile(
            status,
            process=PROCESS,
            reference=input.reference,
            summary=f"AT-3 spot check {input.reference}: {input.person_id} not at post on "
            f"{', '.join(days)}",
            subject=lambda what: f"[AT-3 {input.reference}] {what}",
            words=lambda stage: {
                "found": f"Not at post on {', '.join(days)}: claimed {status.place_claimed}, "
                f"found {status.place_found}.",
                FINED: f"Fined {amount // 100} yuan each: {', '.join(status.fined)}; "
                f"{status.absence_days} day(s) of absence within the window.",
                DISMISSAL_OPENED: f"Absence reached {status.absence_days} days: case for "
                f"dismissal {status.dismissal_case} opened (AT-4).",
            }.get(stage, stage),
        )
        self._case = case
        case.open(region=input.region_code, rule_version=input.rule_version)

        await workflow.execute_activity_method(
            AttendanceActivities.record_absence,
            AbsenceInput(case.key("absence"), input.person_id, days, input.reference,
                         input.recorded_by),
            start_to_close_timeout=retry_policies.LEDGER_WRITE_TIMEOUT,
            retry_policy=retry_policies.LEDGER_WRITE,
        )  # fmt: skip
        person = await lookup(StaffActivities.get_contact, ContactInput(input.person_id))
        managers = [
            m
            for m in await people_in_role("technical_service_manager", input.region_code)
            if m.id != input.person_id
        ]
        clerks = await people_in_role("department_clerk")
        month = days[-1][:7]
        for liable in [person, *managers[:1]]:
            joint = liable.id != person.id
            await workflow.execute_activity_method(
                FinanceActivities.record_entry,
                LedgerEntryInput(
                    idempotency_key=case.key(f"fine:{liable.id}"),
                    kind="fine",
                    region_code=input.region_code,
                    month=month,
                    amount_fen=amount,
                    rule_id=RULE,
                    reason=(
                        f"joint liability (AT-4) for {person.id} not at post on {', '.join(days)}"
                        if joint
                        else f"not at post on {', '.join(days)}: attendance said "
                        f"{status.place_claimed}, the spot check found {status.place_found}"
                    ),
                    person_id=liable.id,
                    reference=workflow.info().workflow_id,
                    recorded_by=input.recorded_by,
                ),
                start_to_close_timeout=retry_policies.LEDGER_WRITE_TIMEOUT,
                retry_policy=retry_policies.LEDGER_WRITE,
            )
            status.fined.append(liable.id)
        total = await workflow.execute_activity_method(
            AttendanceActivities.count_absence,
            AbsenceCountInput(input.person_id, days[-1], rules.at4_window_months),
            start_to_close_timeout=retry_policies.DIRECTORY_LOOKUP_TIMEOUT,
            retry_policy=retry_policies.DIRECTORY_LOOKUP,
        )
        status.absence_days = total.days
        case.record(input.recorded_by, FINED, ", ".join(status.fined))
        case.move_to(FINED)
        await case.email(
            "fined",
            Mail(
                to=[person],
                cc=[*managers[:1], *clerks],
                what="Spot check: not at post",
                body=(
                    f"{person.name}, a spot check found you not at your post on "
                    f"{', '.join(days)}: attendance said {status.place_claimed}, you were found "
                    f"at {status.place_found}.\n\nUnder rule AT-3 this is fined "
                    f"{amount // 100} yuan, and these days count as absence: "
                    f"{total.days} day(s) since {total.window_from}."
                    + (
                        f"\nThe region's technical service manager {managers[0].name} carries "
                        "the same fine (joint liability, AT-4)."
                        if managers
                        else ""
                    )
                ),
            ),
        )
        if total.days >= rules.at4_absence_days:
            status.dismissal_case = dismissal_id(input.person_id)
            try:
                await workflow.start_child_workflow(
                    DismissalWorkflow.run,
                    DismissalInput(
                        input.person_id,
                        input.region_code,
                        total.absent_days,
                        total.window_from,
                        [input.reference],
                        input.rule_version,
                    ),
                    id=status.dismissal_case,
                    parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                )
            except WorkflowAlreadyStartedError:
                case.say(
                    f"Case for dismissal {status.dismissal_case} exists already (one a person)."
                )
            case.record("", DISMISSAL_OPENED, status.dismissal_case)
            case.move_to(DISMISSAL_OPENED)
        return status

    @workflow.query
    def status(self) -> SpotCheckStatus:
        return opened(self._case, "the spot check").status
