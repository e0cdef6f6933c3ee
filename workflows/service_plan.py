"""A hospital's maintenance or inspection plan and its visits (SV-1). The procedures themselves
are attachments the source does not include; the system keeps the plans and the records.

One plan per project, kind and year (workflow id `sv1-<kind>-<project>-<year>`), made by the
region's customer service manager: the planned visit days. Each visit is recorded (an Update)
by the project's engineer or the region's managers, with what was found; a visit not recorded
by the end of the working day after it is missed, and the region's managers are alerted (each
visit its own SLA clock, alerted once). The records feed the weekly reports (WR-3) and the
quarterly summary (MT-2): the plan's status lists them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, datetime, time

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.staff import CalendarActivities, Contact, ShiftDayInput
    from workflows import regulation
    from workflows.case_file import CaseFile, CaseRecord, Mail, opened, rule_refusals
    from workflows.lookups import lookup, people_in_role
    from workflows.regulation import InvalidInput, NotAllowed, NotNow, dates, texts
    from workflows.regulation.readers import Reader

PROCESS = "service_plan"
KINDS = ("maintenance", "inspection")
PLANNED, DONE = "planned", "done"
PLANNER = "customer_service_manager"
REGION_MANAGERS = ("customer_service_manager", "technical_service_manager")
MAX_VISITS = 52


def workflow_id(kind: str, project_code: str, year: int) -> str:
    return f"sv1-{kind}-{project_code}-{year}"


@dataclass
class ServicePlanInput:
    kind: str
    project_code: str
    hospital: str
    region_code: str
    engineer_id: str
    planned_by: str
    year: int
    visits: list[str]  # YYYY-MM-DD, in the plan's year
    notes: str
    rule_version: str


def validate(input: ServicePlanInput) -> None:
    if input.kind not in KINDS:
        raise InvalidInput(f"kind {input.kind!r}: use {', '.join(KINDS)}")
    if not 1 <= len(input.visits) <= MAX_VISITS:
        raise InvalidInput(f"visits: 1 to {MAX_VISITS} planned days")
    days = [dates.day(v, "visits") for v in input.visits]
    if any(d.year != input.year for d in days):
        raise InvalidInput(f"every planned visit is in {input.year}")
    if len(set(days)) != len(days):
        raise InvalidInput("a day is planned twice")
    texts.bounded(input.notes, "notes")


@dataclass
class VisitInput:
    actor_id: str
    day: str  # the planned day visited
    findings: str


@dataclass
class Visit:
    day: str
    state: str = PLANNED  # planned, done, missed (shown by its clock too)
    recorded_by: str = ""
    findings: str = ""


@dataclass
class ServicePlanStatus(CaseRecord):
    kind: str
    project_code: str
    hospital: str
    region_code: str
    engineer_id: str
    planned_by: str
    year: int
    rule_version: str
    visits: list[Visit] = field(default_factory=list)
    recorders: list[str] = field(default_factory=list)
    stage: str = PLANNED


def may_read(status: ServicePlanStatus, reader: Reader) -> bool:
    return (
        reader.id in status.recorders
        or reader.role in ("department_manager", "department_assistant")
        or (reader.role in REGION_MANAGERS and reader.region_code == status.region_code)
    )


@workflow.defn
class ServicePlanWorkflow:
    def __init__(self) -> None:
        self._case: CaseFile[ServicePlanStatus] | None = None

    @workflow.run
    async def run(self, input: ServicePlanInput) -> ServicePlanStatus:
        with rule_refusals():
            regulation.by_version(input.rule_version)
            validate(input)
        status = ServicePlanStatus(
            input.kind, input.project_code, input.hospital, input.region_code,
            input.engineer_id, input.planned_by, input.year, input.rule_version,
            visits=[Visit(d) for d in sorted(input.visits)],
        )  # fmt: skip
        case = CaseFile(
            status,
            process=PROCESS,
            reference=f"{input.kind}-{input.project_code}-{input.year}",
            summary=f"SV-1 {input.kind} plan {input.year} of {input.hospital}",
            subject=lambda what: f"[SV-1 {input.kind} {input.hospital} {input.year}] {what}",
            words=lambda stage: {
                PLANNED: f"{sum(v.state == DONE for v in status.visits)} of "
                f"{len(status.visits)} visits recorded.",
                DONE: f"Every planned visit of {input.year} recorded.",
            }.get(stage, stage),
        )
        self._case = case
        case.open(region=input.region_code, rule_version=input.rule_version)
        planners = await people_in_role(PLANNER, input.region_code)
        if input.planned_by not in {p.id for p in planners}:
            with rule_refusals():
                raise NotAllowed(
                    f"{input.planned_by} may not make this plan: the region's customer service "
                    "manager does (SV-1)"
                )
        managers: list[Contact] = []
        for role in REGION_MANAGERS:
            managers += await people_in_role(role, input.region_code)
        status.recorders = sorted({input.engineer_id, *(m.id for m in managers)})
        case.record(input.planned_by, PLANNED, ", ".join(v.day for v in status.visits))
        await case.email(
            "planned",
            Mail(
                to=[m for m in managers if m.id != input.planned_by],
                what=f"{len(status.visits)} {input.kind} visits planned",
                body=f"{input.hospital}, {input.year}: " + ", ".join(v.day for v in status.visits)
                + (f"\n\n{input.notes.strip()}" if input.notes.strip() else ""),
            ),
        )  # fmt: skip
        await asyncio.gather(*(self._watch(case, visit, managers) for visit in status.visits))
        case.move_to(DONE)
        await case.email(
            "done",
            Mail(
                to=managers,
                what=f"every {input.kind} visit of {input.year} recorded",
                body="\n".join(f"{v.day} ({v.recorded_by}): {v.findings}" for v in status.visits),
            ),
        )
        return status

    async def _watch(
        self, case: CaseFile[ServicePlanStatus], visit: Visit, managers: list[Contact]
    ) -> None:
        """A visit is due by the end of the working day after it."""
        due = await lookup(CalendarActivities.shift_working_days, ShiftDayInput(visit.day, 1))
        deadline = datetime.combine(date.fromisoformat(due.day), time(23, 59, 59),
                                    regulation.COMPANY_ZONE)  # fmt: skip
        clock = case.clock(
            f"visit {visit.day}",
            promise=f"the {case.status.kind} visit planned for {visit.day} is recorded by the "
            "end of the next working day (SV-1)",
            started_at=workflow.now(),
            warn_at=deadline,
            breach_at=deadline,
            breach_to=managers,
        )
        await clock.wait(lambda: visit.state == DONE)

    @workflow.update
    def record_visit(self, input: VisitInput) -> ServicePlanStatus:
        case, status = self._cases()
        visit = next(v for v in status.visits if v.day == input.day)
        visit.state, visit.recorded_by, visit.findings = (
            DONE,
            input.actor_id,
            input.findings.strip(),
        )
        case.record(input.actor_id, "visited", f"{input.day}: {visit.findings}")
        case.say(
            f"{sum(v.state == DONE for v in status.visits)} of {len(status.visits)} visits "
            "recorded."
        )
        return status

    @record_visit.validator
    def _validate_visit(self, input: VisitInput) -> None:
        with rule_refusals():
            status = self._cases()[1]
            if not status.recorders:
                raise NotNow("the plan is still being made; try again in a moment")
            if input.actor_id not in status.recorders:
                raise NotAllowed(
                    f"{input.actor_id} may not record this visit: the project's engineer and the "
                    "region's managers do (SV-1)"
                )
            visit = next((v for v in status.visits if v.day == input.day), None)
            if visit is None:
                raise InvalidInput(f"{input.day} is not a planned visit of this plan")
            if visit.state == DONE:
                raise NotNow(f"the visit of {input.day} is recorded already")
            if (
                dates.day(input.day, "day")
                > workflow.now().astimezone(regulation.COMPANY_ZONE).date()
            ):
                raise NotNow(f"the visit of {input.day} has not happened yet")
            texts.required(input.findings, "findings", why="say what the visit found")

    @workflow.query
    def status(self) -> ServicePlanStatus:
        return opened(self._case, "the plan").status

    def _cases(self) -> tuple[CaseFile[ServicePlanStatus], ServicePlanStatus]:
        case = opened(self._case, "the plan")
        return case, case.status
