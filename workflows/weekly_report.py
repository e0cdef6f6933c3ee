"""The weekly reports of a region (WR-1..WR-4).

Every engineer sends the week's maintenance tracking sheet to the region's technical service
manager (WR-1); by the due time the technical service manager sends the merged sheet, the
communication-log bundle, the weekly report and the signed revisit records to the assistant
(WR-2), and the customer service manager a weekly report that covers every section WR-3 lists
(the technical service manager covers it where the region has none). At the tally the clerk's
count fines every missing or late report once (WR-4, the rule set's amount) and mails the
department managers.

The due and tally instants are the staff calendar's (cadences `wr2-regional-weekly-report-due`
and `wr4-weekly-report-tally`), handed in by the planner; the due time is the promise on the SLA
clock: a report still missing then breaches it, and the region's technical service manager hears.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.case_figures import CaseFigureActivities, RegionVisitsInput
    from activities.communication_log import CommunicationLogActivities, RegionLogInput
    from activities.finance import FinanceActivities, LedgerEntryInput
    from activities.staff import Contact
    from workflows import regulation, retry_policies
    from workflows.case_file import CaseEvent, CaseFile, CaseRecord, Mail, opened, rule_refusals
    from workflows.figures import region_figures
    from workflows.lookups import people_in_role
    from workflows.regulation import InvalidInput, NotAllowed, NotNow, dates, texts
    from workflows.regulation.readers import Reader

PROCESS = "weekly_report"
COLLECTING = "collecting"
TALLIED = "tallied"
# A history step, not a stage: the due time passed with reports missing.
OVERDUE = "overdue"

TRACKING_SHEET = "tracking_sheet"  # WR-1, per engineer
MERGED_REPORT = "merged_report"  # WR-2, the technical service manager
CUSTOMER_REPORT = "customer_report"  # WR-3, the customer service manager (or the TSM)
# Patch (README: patches and their retirement): the merged report is followed by the week's
# communication-log bundle (WR-2), from the staff service's logs.
LOG_BUNDLE = "wr2-log-bundle"
# Patch: the tally carries the region's complaint, survey and service-plan figures.
TALLY_FIGURES = "wr4-tally-figures"
# Patch: the customer report is followed by the week's inspection records (WR-3, SV-1).
INSPECTION_RECORDS = "wr3-inspection-records"
# Entries shown in the bundle's mail; the rest are read per project.
MAX_BUNDLE_LINES = 500
KINDS = (TRACKING_SHEET, MERGED_REPORT, CUSTOMER_REPORT)

# WR-3: what the customer service manager's report must cover, and all it may hold.
CUSTOMER_REPORT_SECTIONS = (
    "inspections_or_revisits",
    "satisfaction",
    "complaints",
    "replacement_risk",
    "maintenance_contracts",
    "final_payments",
    "secondary_sales",
    "overall_risk",
)

# A region code as the staff directory spells it, and the week's Sunday as YYYY-MM-DD: they
# name the workflow, so each has one spelling.
_REGION = re.compile(r"[a-z0-9][a-z0-9._-]{0,39}")


def workflow_id(region_code: str, week_ending: str) -> str:
    return f"weekly-report-{region_code}-{week_ending}"


def validate_week(region_code: str, week_ending: str) -> None:
    """The region and the week a weekly-report workflow is named by."""
    if not _REGION.fullmatch(region_code):
        raise InvalidInput(
            f"region_code {region_code[:50]!r} is not a region code: 1-40 lower-case letters, "
            "digits, '.', '_' or '-'"
        )
    sunday = dates.day(week_ending, "week_ending")
    if sunday.isoweekday() != 7:
        raise InvalidInput(f"week_ending {week_ending} is not a Sunday")


@dataclass
class WeeklyReportInput:
    region_code: str
    week_ending: str  # the Sunday the reports are due, YYYY-MM-DD
    due_at: str  # RFC 3339: cadence wr2-regional-weekly-report-due
    tally_at: str  # RFC 3339: cadence wr4-weekly-report-tally
    rule_version: str


def validate(input: WeeklyReportInput, rules: regulation.RuleSet) -> None:
    """A region's week as the rule set takes it."""
    validate_week(input.region_code, input.week_ending)
    due = dates.instant(input.due_at, "due_at")
    tally = dates.instant(input.tally_at, "tally_at")
    if tally < due:
        raise InvalidInput(
            f"tally_at {input.tally_at} is before due_at {input.due_at}: "
            "the tally counts the reports once they are due (WR-4)"
        )
    rules.fine_fen("WR-4")


@dataclass
class SubmissionInput:
    actor_id: str
    kind: str  # tracking_sheet, merged_report, customer_report
    file_reference: str = ""
    sections: dict[str, str] = field(default_factory=dict)
    text: str = ""


def validate_submission(input: SubmissionInput) -> None:
    """A report as WR-1..WR-3 take it; the gateway refuses early with the same words."""
    if input.kind not in KINDS:
        raise InvalidInput(f"kind is {', '.join(KINDS[:-1])} or {KINDS[-1]}")
    if input.kind in (TRACKING_SHEET, MERGED_REPORT):
        texts.required(
            input.file_reference,
            "file_reference",
            limit=texts.LINE,
            why=f"the {input.kind.replace('_', ' ')} is a file",
        )
    else:
        texts.bounded(input.file_reference, "file_reference", limit=texts.LINE)
    unknown = sorted(set(input.sections) - set(CUSTOMER_REPORT_SECTIONS))
    if unknown:
        named = ", ".join(repr(name[:40]) for name in unknown[:3])
        more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        raise InvalidInput(
            f"unknown section {named}{more}: WR-3's sections are "
            f"{', '.join(CUSTOMER_REPORT_SECTIONS)}"
        )
    if input.sections and input.kind != CUSTOMER_REPORT:
        raise InvalidInput("sections belong to the customer report (WR-3)")
    size = len(input.text) + sum(len(text) for text in input.sections.values())
    if size > texts.DOCUMENT:
        raise InvalidInput(f"the report is longer than {texts.DOCUMENT} characters ({size})")
    if input.kind == CUSTOMER_REPORT:
        missing = [s for s in CUSTOMER_REPORT_SECTIONS if not input.sections.get(s, "").strip()]
        if missing:
            raise InvalidInput(f"the weekly report must cover {', '.join(missing)} (WR-3)")


@dataclass
class Submission:
    kind: str
    person_id: str
    submitted_at: str  # Asia/Shanghai
    late: bool
    file_reference: str = ""


@dataclass
class Expected:
    kind: str
    person_id: str


@dataclass
class TallyLine:
    kind: str
    person_id: str
    outcome: str  # on_time, late, missing
    fine_fen: int = 0


@dataclass
class WeeklyReportStatus(CaseRecord):
    region_code: str
    week_ending: str
    rule_version: str
    stage: str = COLLECTING
    due_at: str = ""  # Asia/Shanghai, like every instant here
    tally_at: str = ""
    expected: list[Expected] = field(default_factory=list)
    submissions: list[Submission] = field(default_factory=list)
    tally: list[TallyLine] = field(default_factory=list)
    # WR-2: the week's communication-log bundle went to the assistant with the merged report.
    log_bundle_sent: bool = False
    # WR-3: the week's inspection records went to the managers with the customer report.
    visits_sent: bool = False
    # WR-4's tally carries the region's figures toward the "zero complaints" aim (CS-1).
    figures: list[str] = field(default_factory=list)


# Who receives and tallies the reports (WR-2..WR-4), beside the people who owe them.
READERS_BY_ROLE = ("department_manager", "department_clerk", "department_assistant")


REGION_READERS = ("technical_service_manager", "customer_service_manager")


def may_read(status: WeeklyReportStatus, reader: Reader) -> bool:
    """The people who owe a report this week, the region's managers; those who receive and
    tally the reports."""
    if reader.id in {e.person_id for e in status.expected} or reader.role in READERS_BY_ROLE:
        return True
    return reader.role in REGION_READERS and reader.region_code == status.region_code


@dataclass
class _People:
    tsm: Contact | None
    # WR-3's author: the customer service manager, or the TSM where the region has none.
    csm: Contact | None
    engineers: list[Contact]
    managers: list[Contact]
    clerks: list[Contact]
    assistants: list[Contact]


@workflow.defn
class WeeklyReportWorkflow:
    """One region's weekly reports for one week, from collection to the tally."""

    def __init__(self) -> None:
        self._case: CaseFile[WeeklyReportStatus] | None = None
        self._people: _People | None = None
        self._due: datetime | None = None
        # The submission being recorded, for its announcement (its texts are mailed, not kept).
        self._submitting: SubmissionInput | None = None

    @workflow.run
    async def run(self, input: WeeklyReportInput) -> WeeklyReportStatus:
        with rule_refusals():
            rules = regulation.by_version(input.rule_version)
            validate(input, rules)
            fine = rules.fine_fen("WR-4")
        due = datetime.fromisoformat(input.due_at)
        tally_at = datetime.fromisoformat(input.tally_at)
        status = WeeklyReportStatus(
            region_code=input.region_code,
            week_ending=input.week_ending,
            rule_version=input.rule_version,
            due_at=regulation.shown(due),
            tally_at=regulation.shown(tally_at),
        )
        reference = f"WR {input.region_code} {input.week_ending}"
        case = CaseFile(
            status,
            process=PROCESS,
            reference=reference,
            summary=(
                f"{reference}: the weekly reports of region {input.region_code}, week ending "
                f"{input.week_ending}"
            ),
            subject=lambda what: f"[{reference}] {what}",
            words=self._words,
            announcements=self._announcements,
        )
        self._case = case
        case.open(region=input.region_code, rule_version=input.rule_version)
        started_at = workflow.now()

        people = await self._find_people(input.region_code)
        self._people = people
        status.expected = [Expected(TRACKING_SHEET, e.id) for e in people.engineers]
        if people.tsm:
            status.expected.append(Expected(MERGED_REPORT, people.tsm.id))
        if people.csm:
            status.expected.append(Expected(CUSTOMER_REPORT, people.csm.id))
        self._due = due
        case.record("", COLLECTING, f"{len(status.expected)} reports due {status.due_at}")
        case.say(self._words(COLLECTING))

        reports = case.clock(
            "reports",
            promise=(
                f"the {len(status.expected)} weekly reports of region {input.region_code} are in "
                f"by {status.due_at} (WR-1..WR-3); each one missing then is late, and the tally "
                f"at {status.tally_at} fines every late or missing report "
                f"{fine / 100:g} yuan (WR-4)"
            ),
            started_at=started_at,
            # One deadline: a report missing at the due time is late, whatever comes after.
            warn_at=due,
            breach_at=due,
            breach_to=[people.tsm] if people.tsm else people.managers,
        )
        timed = asyncio.create_task(
            reports.wait(lambda: not self._outstanding() or status.stage == TALLIED)
        )
        await self._collect_until(due)
        if self._outstanding():
            missing = ", ".join(f"{e.person_id} ({e.kind})" for e in self._outstanding())
            case.record("", OVERDUE, f"missing at {status.due_at}: {missing}")
            case.say(self._words(COLLECTING))
        await self._collect_until(tally_at)
        await self._tally(fine)
        await case.send_queued()
        await timed
        await workflow.wait_condition(workflow.all_handlers_finished)
        return status

    async def _collect_until(self, moment: datetime) -> None:
        """Send what the submissions announce until `moment`."""
        case, status = self._cases()
        while True:
            await case.send_queued()
            if not status.log_bundle_sent and any(
                s.kind == MERGED_REPORT for s in status.submissions
            ):
                if workflow.patched(LOG_BUNDLE):
                    await self._send_log_bundle()
                status.log_bundle_sent = True
            if not status.visits_sent and any(
                s.kind == CUSTOMER_REPORT for s in status.submissions
            ):
                if workflow.patched(INSPECTION_RECORDS):
                    await self._send_visits()
                status.visits_sent = True
            remaining = moment - workflow.now()
            if remaining <= timedelta(0):
                return
            try:
                await workflow.wait_condition(case.has_unsent, timeout=remaining)
            except TimeoutError:
                return

    def _week(self) -> tuple[date, date]:
        """The Monday and the Sunday of the week reported."""
        last = dates.day(self._cases()[1].week_ending, "week_ending")
        return last - timedelta(days=6), last

    async def _send_log_bundle(self) -> None:
        """WR-2: with the merged report, the week's communication logs of the region's hospital
        projects (CL-1), as the staff service keeps them."""
        case, status = self._cases()
        people = self._people
        assert people is not None
        first, last = self._week()
        bundle = await workflow.execute_activity_method(
            CommunicationLogActivities.region_log_bundle,
            RegionLogInput(status.region_code, first.isoformat(), last.isoformat()),
            start_to_close_timeout=retry_policies.DIRECTORY_LOOKUP_TIMEOUT,
            retry_policy=retry_policies.DIRECTORY_LOOKUP,
        )
        lines = bundle.csv.splitlines()
        shown = lines[: MAX_BUNDLE_LINES + 1]
        more = len(lines) - len(shown)
        await case.email(
            "log-bundle",
            Mail(
                people.assistants,
                people.managers,
                f"communication-log bundle, {bundle.entries} entries",
                f"The communication logs of region {status.region_code}, {first.isoformat()} to "
                f"{last.isoformat()} (WR-2, CL-1):\n\n" + "\n".join(shown)
                + (f"\n... and {more} more: GetCommunicationLog per project" if more > 0 else ""),
            ),
        )  # fmt: skip

    async def _send_visits(self) -> None:
        """WR-3: with the customer report, the week's service visits of the region as SV-1's
        plans recorded them, to the department managers, cc the clerk."""
        case, status = self._cases()
        people = self._people
        assert people is not None
        first, last = self._week()
        found = await workflow.execute_activity_method(
            CaseFigureActivities.region_visits,
            RegionVisitsInput(status.region_code, first.isoformat(), last.isoformat()),
            start_to_close_timeout=retry_policies.DIRECTORY_LOOKUP_TIMEOUT,
            retry_policy=retry_policies.DIRECTORY_LOOKUP,
        )
        if not found.available:
            lines = ["(no records: this Temporal server keeps no visibility store to list in)"]
        else:
            lines = [f"  {v.day} {v.project_code} {v.kind}: {v.state}"
                     + (f", {v.findings}" if v.findings else "") for v in found.visits]  # fmt: skip
        await case.email(
            "inspection-records",
            Mail(
                people.managers,
                people.clerks,
                f"inspection records, {len(found.visits)} visits",
                f"The service visits of region {status.region_code}, {first.isoformat()} to "
                f"{last.isoformat()}, as recorded (WR-3, SV-1):\n\n" + ("\n".join(lines) or
                "  none planned"),
            ),
        )  # fmt: skip

    async def _find_people(self, region: str) -> _People:
        tsms = await people_in_role("technical_service_manager", region)
        csms = await people_in_role("customer_service_manager", region)
        tsm = tsms[0] if tsms else None
        return _People(
            tsm=tsm,
            # WR-3: where the region has no customer service manager, the TSM covers the report.
            csm=csms[0] if csms else tsm,
            engineers=await people_in_role("technical_service_engineer", region),
            managers=await people_in_role("department_manager"),
            clerks=await people_in_role("department_clerk"),
            assistants=await people_in_role("department_assistant"),
        )

    def _outstanding(self) -> list[Expected]:
        status = self._cases()[1]
        sent = {(s.kind, s.person_id) for s in status.submissions}
        return [e for e in status.expected if (e.kind, e.person_id) not in sent]

    async def _tally(self, fine: int) -> None:
        """WR-4: every expected report on time, late or missing; the late and the missing fined
        once each, recorded by the region's technical service manager."""
        case, status = self._cases()
        people = self._people
        assert people is not None
        for expected in status.expected:
            found = [
                s for s in status.submissions
                if s.kind == expected.kind and s.person_id == expected.person_id
            ]  # fmt: skip
            outcome = "missing" if not found else ("late" if found[0].late else "on_time")
            line = TallyLine(expected.kind, expected.person_id, outcome)
            if outcome != "on_time":
                line.fine_fen = fine
                await workflow.execute_activity_method(
                    FinanceActivities.record_entry,
                    LedgerEntryInput(
                        idempotency_key=case.key(f"fine:{expected.kind}:{expected.person_id}"),
                        kind="fine",
                        region_code=status.region_code,
                        month=status.week_ending[:7],
                        amount_fen=fine,
                        rule_id="WR-4",
                        reason=f"weekly {expected.kind.replace('_', ' ')} {outcome} "
                        f"(week ending {status.week_ending})",
                        person_id=expected.person_id,
                        reference=workflow.info().workflow_id,
                        recorded_by=people.tsm.id if people.tsm else "",
                    ),
                    start_to_close_timeout=retry_policies.LEDGER_WRITE_TIMEOUT,
                    retry_policy=retry_policies.LEDGER_WRITE,
                )
            status.tally.append(line)
        fined = sum(1 for t in status.tally if t.fine_fen)
        if workflow.patched(TALLY_FIGURES):
            status.figures = await region_figures([status.region_code])
        case.record("", TALLIED, f"{fined} report(s) missing or late, fined")
        case.move_to(TALLIED)

    def _cases(self) -> tuple[CaseFile[WeeklyReportStatus], WeeklyReportStatus]:
        case = opened(self._case, "the weekly reports")
        return case, case.status

    @workflow.query
    def status(self) -> WeeklyReportStatus:
        return self._cases()[1]

    @workflow.update
    def submit(self, input: SubmissionInput) -> WeeklyReportStatus:
        case, status = self._cases()
        assert self._due is not None
        late = workflow.now() > self._due
        status.submissions.append(
            Submission(
                kind=input.kind,
                person_id=input.actor_id,
                submitted_at=case.now(),
                late=late,
                file_reference=input.file_reference.strip(),
            )
        )
        self._submitting = input
        case.record(input.actor_id, input.kind, "late" if late else "")
        self._submitting = None
        case.say(self._words(COLLECTING))
        return status

    @submit.validator
    def _validate_submit(self, input: SubmissionInput) -> None:
        with rule_refusals():
            status = self._cases()[1]
            if self._due is None:
                raise NotNow("the week is still being set up; try again in a moment")
            if status.stage != COLLECTING:
                raise NotNow("the week is tallied; reports are no longer taken")
            validate_submission(input)
            if (input.kind, input.actor_id) not in {(e.kind, e.person_id) for e in status.expected}:
                raise NotAllowed(
                    f"{input.actor_id} does not owe a {input.kind.replace('_', ' ')} for region "
                    f"{status.region_code} (WR-1..WR-3)"
                )
            if any(
                s.kind == input.kind and s.person_id == input.actor_id for s in status.submissions
            ):
                raise NotNow("already submitted for this week")

    def _words(self, stage: str) -> str:
        """Each stage in plain words, for the Web UI."""
        status = self._case.status if self._case else None
        if not isinstance(status, WeeklyReportStatus):
            return stage
        if stage == TALLIED:
            fined = sum(1 for t in status.tally if t.fine_fen)
            return f"Tallied: {fined} report(s) missing or late, fined (WR-4)."
        if not status.expected:
            return f"Finding who owes the weekly reports of region {status.region_code}."
        outstanding = self._outstanding()
        got = len(status.expected) - len(outstanding)
        return (
            f"Collecting the weekly reports of region {status.region_code}: {got} of "
            f"{len(status.expected)} in, due {status.due_at}; tally at {status.tally_at}."
            + (
                f"\nMissing: {', '.join(f'{e.person_id} ({e.kind})' for e in outstanding)}"
                if outstanding
                else ""
            )
        )

    def _announcements(self, event: CaseEvent) -> Sequence[Mail]:
        """Who hears of each step."""
        people = self._people
        status = self._cases()[1]
        if people is None:
            return ()
        if event.kind == TALLIED:
            lines = "\n".join(
                f"  {t.person_id:<20} {t.kind.replace('_', ' '):<16} {t.outcome:<8}"
                + (f" fined {t.fine_fen // 100} yuan" if t.fine_fen else "")
                for t in status.tally
            )
            fined = sum(1 for t in status.tally if t.fine_fen)
            return [
                Mail(
                    people.managers,
                    people.clerks,
                    f"tally: {fined} fined",
                    f"Weekly reports of region {status.region_code}, week ending "
                    f"{status.week_ending}, due {status.due_at}, tallied {event.at} (WR-4):"
                    f"\n\n{lines}\n"
                    + (
                        "\nThe region's figures (CS-1, CS-2, SV-1):\n"
                        + "\n".join(f"  {line}" for line in status.figures)
                        + "\n"
                        if status.figures
                        else ""
                    ),
                )
            ]
        submission = self._submitting
        if event.kind not in KINDS or submission is None:
            return ()
        late = " (late)" if event.note == "late" else ""
        what = f"{event.kind.replace('_', ' ')} from {event.actor_id}{late}"
        tsm = [people.tsm] if people.tsm else []
        if event.kind == TRACKING_SHEET:
            return [Mail(tsm, (), what, f"Tracking sheet: {submission.file_reference.strip()}")]
        if event.kind == MERGED_REPORT:
            csm = [people.csm] if people.csm and people.csm is not people.tsm else []
            return [
                Mail(
                    people.assistants,
                    [*people.managers, *csm],
                    what,
                    "Merged tracking sheet, communication logs and revisit records: "
                    f"{submission.file_reference.strip()}\n\n{submission.text.strip()}",
                )
            ]
        sections = "\n".join(
            f"{name.replace('_', ' ').capitalize()}: {submission.sections.get(name, '').strip()}"
            for name in CUSTOMER_REPORT_SECTIONS
        )
        return [Mail(people.managers, people.clerks, what, f"{sections}\n\n{submission.text}")]
