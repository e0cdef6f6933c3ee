"""The weekly reports of a region (WR-1..WR-4).

Every engineer sends the week's maintenance tracking sheet to the region's technical service
manager (WR-1); by Sunday the technical service manager sends the merged sheet, the
communication-log bundle, the weekly report and the signed revisit records to the assistant
(WR-2), and the customer service manager a weekly report that covers every section WR-3 lists
(the technical service manager covers it where the region has none). On Monday the clerk's tally
fines every missing or late report (WR-4, the rule set's amount) and mails the department managers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.finance import FinanceActivities, LedgerEntryInput
    from activities.staff import Contact
    from services.runtime.dates import COMPANY_ZONE
    from workflows import retry_policies, rulebook, search_attributes
    from workflows.directory import people_in_role
    from workflows.mail import send_email

PROCESS = "weekly_report"
COLLECTING = "collecting"
TALLIED = "tallied"

TRACKING_SHEET = "tracking_sheet"  # WR-1, per engineer
MERGED_REPORT = "merged_report"  # WR-2, the technical service manager
CUSTOMER_REPORT = "customer_report"  # WR-3, the customer service manager (or the TSM)

# WR-3: what the customer service manager's report must cover.
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
MAX_TEXT = 10_000
# When the Monday tally runs (the clerk's morning), Asia/Shanghai.
TALLY_AT = time(10, 0)


def workflow_id(region_code: str, week_ending: str) -> str:
    return f"weekly-report-{region_code}-{week_ending}"


@dataclass
class WeeklyReportInput:
    region_code: str
    week_ending: str  # the Sunday the reports are due, YYYY-MM-DD
    rule_version: str


@dataclass
class SubmissionInput:
    actor_id: str
    kind: str  # tracking_sheet, merged_report, customer_report
    file_reference: str = ""
    sections: dict[str, str] = field(default_factory=dict)
    text: str = ""


@dataclass
class Submission:
    kind: str
    person_id: str
    submitted_at: str
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
class WeeklyReportStatus:
    region_code: str
    week_ending: str
    rule_version: str
    stage: str = COLLECTING
    due_at: str = ""
    tally_at: str = ""
    expected: list[Expected] = field(default_factory=list)
    submissions: list[Submission] = field(default_factory=list)
    tally: list[TallyLine] = field(default_factory=list)


@workflow.defn
class WeeklyReportWorkflow:
    """One region's weekly reports for one week, from collection to the Monday tally."""

    def __init__(self) -> None:
        self._status: WeeklyReportStatus | None = None
        self._tsm: Contact | None = None
        self._csm: Contact | None = None
        self._engineers: list[Contact] = []
        self._managers: list[Contact] = []
        self._clerk: list[Contact] = []
        self._assistant: list[Contact] = []
        self._due: datetime | None = None

    @workflow.run
    async def run(self, input: WeeklyReportInput) -> WeeklyReportStatus:
        rules = rulebook.by_version(input.rule_version)
        fine = rules.fine_fen("WR-4")
        status = WeeklyReportStatus(input.region_code, input.week_ending, input.rule_version)
        self._status = status
        sunday = date.fromisoformat(input.week_ending)
        self._due = datetime.combine(sunday, time(23, 59, 59), tzinfo=COMPANY_ZONE)
        tally_at = datetime.combine(sunday + timedelta(days=1), TALLY_AT, tzinfo=COMPANY_ZONE)
        status.due_at, status.tally_at = self._due.isoformat(), tally_at.isoformat()
        workflow.upsert_search_attributes(
            [
                search_attributes.PROCESS.value_set(PROCESS),
                search_attributes.REGION.value_set(input.region_code),
                search_attributes.STAGE.value_set(COLLECTING),
                search_attributes.RULE_VERSION.value_set(input.rule_version),
            ]
        )
        region = input.region_code
        tsms = await self._role("technical_service_manager", region)
        csms = await self._role("customer_service_manager", region)
        self._engineers = await self._role("technical_service_engineer", region)
        self._managers = await self._role("department_manager")
        self._clerk = await self._role("department_clerk")
        self._assistant = await self._role("department_assistant")
        self._tsm = tsms[0] if tsms else None
        # WR-3: where the region has no customer service manager, the TSM covers the report.
        self._csm = csms[0] if csms else self._tsm
        status.expected = [Expected(TRACKING_SHEET, e.id) for e in self._engineers]
        if self._tsm:
            status.expected.append(Expected(MERGED_REPORT, self._tsm.id))
        if self._csm:
            status.expected.append(Expected(CUSTOMER_REPORT, self._csm.id))
        workflow.set_current_details(
            f"Collecting {len(status.expected)} weekly reports of region {region}, due "
            f"{input.week_ending} 23:59."
        )
        if tally_at > workflow.now():
            await workflow.sleep(tally_at - workflow.now())
        await self._tally(fine)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return status

    async def _role(self, role: str, region: str = "") -> list[Contact]:
        return await people_in_role(role, region)

    async def _tally(self, fine: int) -> None:
        """WR-4: every expected report on time, late or missing; the late and the missing fined
        once each, by the region's technical service manager."""
        status = self.status()
        month = date.fromisoformat(status.week_ending).strftime("%Y-%m")
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
                        idempotency_key=(
                            f"{workflow.info().workflow_id}:fine:{expected.kind}:{expected.person_id}"
                        ),
                        kind="fine",
                        region_code=status.region_code,
                        month=month,
                        amount_fen=fine,
                        rule_id="WR-4",
                        reason=f"weekly {expected.kind.replace('_', ' ')} {outcome} "
                        f"(week ending {status.week_ending})",
                        person_id=expected.person_id,
                        reference=workflow.info().workflow_id,
                        recorded_by=self._tsm.id if self._tsm else "",
                    ),
                    start_to_close_timeout=retry_policies.LEDGER_WRITE_TIMEOUT,
                    retry_policy=retry_policies.LEDGER_WRITE,
                )
            status.tally.append(line)
        status.stage = TALLIED
        workflow.upsert_search_attributes([search_attributes.STAGE.value_set(TALLIED)])
        lines = "\n".join(
            f"  {t.person_id:<20} {t.kind.replace('_', ' '):<16} {t.outcome:<8}"
            + (f" fined {t.fine_fen // 100} yuan" if t.fine_fen else "")
            for t in status.tally
        )
        fined = sum(1 for t in status.tally if t.fine_fen)
        await self._email(
            "tally", self._managers, self._clerk,
            f"tally: {fined} fined",
            f"Weekly reports of region {status.region_code}, week ending "
            f"{status.week_ending} (WR-4):\n\n{lines}\n",
        )  # fmt: skip
        workflow.set_current_details(f"Tallied: {fined} report(s) missing or late, fined.")

    @workflow.query
    def status(self) -> WeeklyReportStatus:
        if self._status is None:
            raise ApplicationError("not started", type="FAILED_PRECONDITION")
        return self._status

    @workflow.update
    async def submit(self, input: SubmissionInput) -> WeeklyReportStatus:
        status = self.status()
        assert self._due is not None
        late = workflow.now() > self._due
        status.submissions.append(
            Submission(
                kind=input.kind,
                person_id=input.actor_id,
                submitted_at=workflow.now().isoformat(),
                late=late,
                file_reference=input.file_reference.strip(),
            )
        )
        to, cc, body = self._routing(input)
        await self._email(
            f"{input.kind}-{input.actor_id}", to, cc,
            f"{input.kind.replace('_', ' ')} from {input.actor_id}" + (" (late)" if late else ""),
            body,
        )  # fmt: skip
        return status

    @submit.validator
    def _validate_submit(self, input: SubmissionInput) -> None:
        status = self.status()
        if status.stage != COLLECTING or self._due is None:
            raise ApplicationError(
                "the week is tallied; reports are no longer taken", type="FAILED_PRECONDITION"
            )
        expected = {(e.kind, e.person_id) for e in status.expected}
        if input.kind not in (TRACKING_SHEET, MERGED_REPORT, CUSTOMER_REPORT):
            raise ApplicationError(
                "kind is tracking_sheet, merged_report or customer_report", type="INVALID_ARGUMENT"
            )
        if (input.kind, input.actor_id) not in expected:
            raise ApplicationError(
                f"{input.actor_id} does not owe a {input.kind.replace('_', ' ')} for region "
                f"{status.region_code} (WR-1..WR-3)",
                type="PERMISSION_DENIED",
            )
        if any(s.kind == input.kind and s.person_id == input.actor_id for s in status.submissions):
            raise ApplicationError("already submitted for this week", type="FAILED_PRECONDITION")
        if input.kind in (TRACKING_SHEET, MERGED_REPORT) and not input.file_reference.strip():
            raise ApplicationError("file_reference is required", type="INVALID_ARGUMENT")
        if input.kind == CUSTOMER_REPORT:
            missing = [s for s in CUSTOMER_REPORT_SECTIONS if not input.sections.get(s, "").strip()]
            if missing:
                raise ApplicationError(
                    f"the weekly report must cover {', '.join(missing)} (WR-3)",
                    type="INVALID_ARGUMENT",
                )
        size = len(input.text) + sum(len(v) for v in input.sections.values())
        if size > MAX_TEXT:
            raise ApplicationError(f"the report is longer than {MAX_TEXT}", type="INVALID_ARGUMENT")

    def _routing(self, input: SubmissionInput) -> tuple[list[Contact], list[Contact], str]:
        tsm = [self._tsm] if self._tsm else []
        if input.kind == TRACKING_SHEET:
            return tsm, [], f"Tracking sheet: {input.file_reference}"
        if input.kind == MERGED_REPORT:
            csm = [self._csm] if self._csm and self._csm is not self._tsm else []
            return (
                self._assistant,
                [*self._managers, *csm],
                (
                    f"Merged tracking sheet, communication logs and revisit records: "
                    f"{input.file_reference}\n\n{input.text}"
                ),
            )
        sections = "\n".join(
            f"{name.replace('_', ' ').capitalize()}: {input.sections.get(name, '')}"
            for name in CUSTOMER_REPORT_SECTIONS
        )
        return self._managers, self._clerk, f"{sections}\n\n{input.text}"

    async def _email(
        self, step: str, to: list[Contact], cc: list[Contact], what: str, body: str
    ) -> None:
        status = self.status()
        await send_email(
            key=f"{workflow.info().workflow_id}:{step}",
            to=to,
            cc=cc,
            subject=f"[WR {status.region_code} {status.week_ending}] {what}",
            body=body,
        )
