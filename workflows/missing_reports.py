"""AT-2: more than 8 working days without a daily report is one occurrence: fined 50 once, and
the missing reports must be filled in.

The daily check (workflows/attendance_check.py) starts one case per occurrence the staff service
found, under the occurrence's own workflow id, so the case and its fine exist once however often
the check runs. The case fines the person, mails them the days to fill in (cc the region's
technical service manager), then looks each morning until every day is reported or excused by
approved leave, and closes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.attendance import AttendanceActivities, MissingReports, OccurrenceInput
    from activities.finance import FinanceActivities, LedgerEntryInput
    from activities.staff import Contact, ContactInput, StaffActivities
    from workflows import regulation, retry_policies
    from workflows.case_file import CaseFile, CaseRecord, Mail, opened, rule_refusals
    from workflows.lookups import lookup, people_in_role
    from workflows.regulation import InvalidInput, NotAllowed
    from workflows.regulation.readers import Reader

PROCESS = "missing_reports"
RULE = "AT-2"
FOUND = "found"
FINED = "fined"
AWAITING_BACKFILL = "awaiting_backfill"
FILLED_IN = "filled_in"

# How often the case looks whether the days are filled in; a report through the gateway also
# wakes it at once (the `reported` signal).
LOOK_EVERY = timedelta(hours=24)
# Continue-as-new after this many looks, so a case nobody fills in keeps a short history.
LOOKS_PER_RUN = 60


def workflow_id(occurrence_id: str) -> str:
    return f"at2-{occurrence_id.replace(':', '-')}"


@dataclass
class MissingReportsInput:
    occurrence: MissingReports
    rule_version: str
    looks: int = 0  # carried across continue-as-new
    fined_entry: str = ""
    case_key: str = ""


def validate(input: MissingReportsInput, rules: regulation.RuleSet) -> None:
    occurrence = input.occurrence
    if not occurrence.days:
        raise InvalidInput("an AT-2 occurrence needs the days that were missing")
    if len(occurrence.days) <= rules.at2_missing_days:
        raise NotAllowed(
            f"{len(occurrence.days)} working days without a report are not yet an AT-2 "
            f"occurrence: it takes more than {rules.at2_missing_days}"
        )
    rules.fine_fen(RULE)


@dataclass
class MissingReportsStatus(CaseRecord):
    occurrence_id: str
    person_id: str
    region_code: str
    days: list[str]
    rule_version: str
    still_missing: list[str] = field(default_factory=list)
    amount_fen: int = 0
    entry_id: str = ""
    stage: str = FOUND


READERS_BY_ROLE = ("department_manager", "department_clerk")


def may_read(status: MissingReportsStatus, reader: Reader) -> bool:
    """The person, the region's managers, the clerk and the department managers."""
    if reader.id == status.person_id or reader.role in READERS_BY_ROLE:
        return True
    return reader.region_code == status.region_code and reader.role in (
        "technical_service_manager",
        "customer_service_manager",
    )


def _listed(days: list[str]) -> str:
    return ", ".join(days)


@workflow.defn
class MissingReportsWorkflow:
    """One AT-2 occurrence: fined once, then open until every missing day is filled in."""

    def __init__(self) -> None:
        self._case: CaseFile[MissingReportsStatus] | None = None
        self._reported = False

    @workflow.run
    async def run(self, input: MissingReportsInput) -> MissingReportsStatus:
        with rule_refusals():
            rules = regulation.by_version(input.rule_version)
            validate(input, rules)
        occurrence = input.occurrence
        status = MissingReportsStatus(
            occurrence.id,
            occurrence.person_id,
            occurrence.region_code,
            list(occurrence.days),
            input.rule_version,
            still_missing=list(occurrence.still_missing or occurrence.days),
            amount_fen=rules.fine_fen(RULE),
            entry_id=input.fined_entry,
            case_key=input.case_key,
        )
        case = CaseFile(
            status,
            process=PROCESS,
            reference=occurrence.id,
            summary=f"AT-2: {occurrence.person_id} sent no daily report for "
            f"{len(occurrence.days)} working days ({occurrence.first_day}..{occurrence.last_day})",
            subject=lambda what: f"[AT-2 {occurrence.person_id} {occurrence.first_day}] {what}",
            words=lambda stage: {
                FOUND: f"{len(status.days)} working days without a daily report.",
                FINED: f"Fined {status.amount_fen // 100} yuan (ledger entry {status.entry_id}).",
                AWAITING_BACKFILL: f"Waiting for {len(status.still_missing)} daily report(s): "
                f"{_listed(status.still_missing)}.",
                FILLED_IN: "Every missing daily report is filled in.",
            }.get(stage, stage),
        )
        self._case = case
        case.open(region=occurrence.region_code, rule_version=input.rule_version)
        person = await lookup(StaffActivities.get_contact, ContactInput(occurrence.person_id))
        managers = await people_in_role("technical_service_manager", occurrence.region_code)
        if not status.entry_id:
            await self._fine(case, status, managers)
            await case.email(
                "backfill",
                Mail(
                    to=[person],
                    cc=managers,
                    what="Daily reports to fill in",
                    body=(
                        f"{person.name}, no daily attendance report was submitted for "
                        f"{len(status.days)} working days: {_listed(status.days)}.\n\n"
                        f"Under rule AT-2 this is fined {status.amount_fen // 100} yuan, and the "
                        "missing reports must be filled in. Please report each of these days; "
                        "this task closes when all are in."
                    ),
                ),
            )
        case.move_to(AWAITING_BACKFILL)

        looks = input.looks
        while status.still_missing:
            if looks >= LOOKS_PER_RUN:
                workflow.continue_as_new(
                    MissingReportsInput(
                        MissingReports(
                            occurrence.id,
                            occurrence.person_id,
                            occurrence.region_code,
                            occurrence.first_day,
                            occurrence.last_day,
                            list(status.days),
                            list(status.still_missing),
                        ),
                        input.rule_version,
                        looks=0,
                        fined_entry=status.entry_id,
                        case_key=status.case_key,
                    )
                )
            self._reported = False
            try:
                await workflow.wait_condition(lambda: self._reported, timeout=LOOK_EVERY)
            except TimeoutError:
                pass
            looks += 1
            now = await workflow.execute_activity_method(
                AttendanceActivities.missing_reports,
                OccurrenceInput(occurrence.id),
                start_to_close_timeout=retry_policies.DIRECTORY_LOOKUP_TIMEOUT,
                retry_policy=retry_policies.DIRECTORY_LOOKUP,
            )
            if now.still_missing != status.still_missing:
                status.still_missing = list(now.still_missing)
                case.record("", "reported", f"{len(status.still_missing)} still missing")
                case.move_to(AWAITING_BACKFILL if status.still_missing else FILLED_IN)
        await case.email(
            "filled-in",
            Mail(
                to=[person],
                cc=managers,
                what="Daily reports filled in",
                body=f"{person.name}, every missing daily report ({_listed(status.days)}) is "
                "now in. Thank you.",
            ),
        )
        return status

    async def _fine(
        self,
        case: CaseFile[MissingReportsStatus],
        status: MissingReportsStatus,
        managers: list[Contact],
    ) -> None:
        # The clerk keeps the attendance records; the fine is recorded in their name.
        clerks = await people_in_role("department_clerk")
        entry = await workflow.execute_activity_method(
            FinanceActivities.record_entry,
            LedgerEntryInput(
                idempotency_key=case.key("fine"),
                kind="fine",
                region_code=status.region_code,
                month=status.days[-1][:7],
                amount_fen=status.amount_fen,
                rule_id=RULE,
                reason=f"no daily report for {len(status.days)} working days "
                f"({status.days[0]}..{status.days[-1]})",
                person_id=status.person_id,
                reference=workflow.info().workflow_id,
                recorded_by=clerks[0].id if clerks else (managers[0].id if managers else ""),
            ),
            start_to_close_timeout=retry_policies.LEDGER_WRITE_TIMEOUT,
            retry_policy=retry_policies.LEDGER_WRITE,
        )
        status.entry_id = entry.entry_id
        case.record("", FINED, entry.entry_id)
        case.move_to(FINED)

    @workflow.signal
    def reported(self) -> None:
        """A report arrived for the person: look now rather than tomorrow."""
        self._reported = True

    @workflow.query
    def status(self) -> MissingReportsStatus:
        return opened(self._case, "the missing reports").status
