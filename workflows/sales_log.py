"""CL-3: "a log sent by sales to the department is passed by the assistant to the engineer to
complete".

One hand-over per reference (workflow id `cl3-<reference>`). Sales sends its contact with a
hospital project; the department assistant is mailed and passes it to the project's engineer
(an Update); the engineer completes it (an Update: what they add) and the completed entry goes
into the project's communication log on its latest version (CL-2), marked as from sales. The
whole hand-over is on the SLA clock (rule data, working time), the breach alerted once to the
assistant and the region's technical service manager.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.communication_log import CommunicationLogActivities, LogAppendInput
    from activities.staff import (
        Contact,
        ContactInput,
        StaffActivities,
    )
    from workflows import regulation, retry_policies
    from workflows.case_file import CaseFile, CaseRecord, Mail, opened, rule_refusals
    from workflows.lookups import after_working_time, lookup, people_in_role
    from workflows.regulation import NotAllowed, NotNow, dates, texts
    from workflows.regulation.readers import Reader

PROCESS = "sales_log"
SENT, WITH_ENGINEER, LOGGED = "sent", "with_engineer", "logged"
ASSISTANT = "department_assistant"


def workflow_id(reference: str) -> str:
    return f"cl3-{reference}"


@dataclass
class SalesLogInput:
    reference: str
    project_code: str
    region_code: str
    engineer_id: str  # the project's, who keeps its log
    sent_by: str
    contact_with: str
    summary: str
    contacted_on: str  # YYYY-MM-DD
    rule_version: str


def validate(input: SalesLogInput) -> None:
    texts.reference(input.reference)
    texts.required(input.contact_with, "contact_with", limit=texts.LINE)
    texts.required(input.summary, "summary", why="say what sales discussed with the hospital")
    dates.day(input.contacted_on, "contacted_on")


@dataclass
class PassOnInput:
    actor_id: str
    note: str = ""


@dataclass
class CompleteInput:
    actor_id: str
    addition: str  # what the engineer adds to sales' words


@dataclass
class SalesLogStatus(CaseRecord):
    reference: str
    project_code: str
    engineer_id: str
    sent_by: str
    rule_version: str
    assistants: list[str] = field(default_factory=list)
    passed_by: str = ""
    addition: str = ""
    log_version: int = 0  # the entry's version in the log, once written
    complete_by: str = ""
    stage: str = SENT


def may_read(status: SalesLogStatus, reader: Reader) -> bool:
    return (
        reader.id in (status.sent_by, status.engineer_id, status.passed_by)
        or reader.id in status.assistants
        or reader.role == "department_manager"
    )


@workflow.defn
class SalesLogWorkflow:
    def __init__(self) -> None:
        self._case: CaseFile[SalesLogStatus] | None = None

    @workflow.run
    async def run(self, input: SalesLogInput) -> SalesLogStatus:
        with rule_refusals():
            rules = regulation.by_version(input.rule_version)
            validate(input)
        status = SalesLogStatus(
            input.reference, input.project_code, input.engineer_id, input.sent_by,
            input.rule_version,
        )  # fmt: skip
        case = CaseFile(
            status,
            process=PROCESS,
            reference=input.reference,
            summary=f"CL-3 {input.reference}: sales' log of {input.project_code}",
            subject=lambda what: f"[CL-3 {input.reference}] {what}",
            words=lambda stage: {
                SENT: f"From {input.sent_by}; the assistant passes it to {input.engineer_id}.",
                WITH_ENGINEER: f"With {input.engineer_id} to complete by {status.complete_by}.",
                LOGGED: f"In the log of {input.project_code} as version {status.log_version}.",
            }.get(stage, stage),
        )
        self._case = case
        case.open(region=input.region_code, rule_version=input.rule_version)
        sent_at = workflow.now()
        budget = rules.sales_log_complete_within
        complete_by = await after_working_time(sent_at, budget)
        status.complete_by = regulation.shown(complete_by)
        assistants = await people_in_role(ASSISTANT)
        status.assistants = [a.id for a in assistants]
        engineer = await lookup(StaffActivities.get_contact, ContactInput(input.engineer_id))
        tsm = await people_in_role("technical_service_manager", input.region_code)
        case.record(input.sent_by, SENT, input.summary.strip())
        await case.email(
            "sent",
            Mail(
                to=assistants,
                what=f"Sales' log of {input.project_code} to pass on",
                body=(
                    f"{input.sent_by} sends the log of a contact with {input.contact_with} on "
                    f"{input.contacted_on}:\n\n{input.summary.strip()}\n\nPass it to "
                    f"{engineer.name} to complete by {status.complete_by} (CL-3)."
                ),
            ),
        )
        clock = case.clock(
            "completion",
            promise=(
                "a log sent by sales is passed on by the assistant and completed by the "
                f"engineer within {budget.total_seconds() / 3600:g} working hours (CL-3)"
            ),
            started_at=sent_at,
            warn_at=complete_by,
            breach_at=complete_by,
            breach_to=[*assistants, *tsm],
        )
        # The one clock runs from sending to completion, over both hands.
        await asyncio.gather(
            clock.wait(lambda: bool(status.addition)), self._hand_over(case, input, engineer)
        )
        written = await workflow.execute_activity_method(
            CommunicationLogActivities.append_to_log,
            LogAppendInput(
                reference=workflow.info().workflow_id,
                project_code=input.project_code,
                author_id=input.engineer_id,
                contact_with=input.contact_with,
                channel="other",
                summary=f"{input.summary.strip()} (from sales, {input.sent_by}) "
                f"{status.addition}".strip(),
                contacted_on=input.contacted_on,
                source="sales",
            ),
            start_to_close_timeout=retry_policies.LEDGER_WRITE_TIMEOUT,
            retry_policy=retry_policies.LEDGER_WRITE,
        )
        status.log_version = written.version
        case.record(input.engineer_id, LOGGED, f"version {written.version}")
        case.move_to(LOGGED)
        return status

    async def _hand_over(
        self, case: CaseFile[SalesLogStatus], input: SalesLogInput, engineer: Contact
    ) -> None:
        status = case.status
        await workflow.wait_condition(lambda: status.stage != SENT)
        await case.email(
            "passed",
            Mail(
                to=[engineer],
                what=f"Complete sales' log of {input.project_code}",
                body=(
                    f"{status.passed_by} passes you sales' log ({input.sent_by}, with "
                    f"{input.contact_with} on {input.contacted_on}):\n\n{input.summary.strip()}"
                    f"\n\nComplete it by {status.complete_by}: it goes into the project's "
                    "communication log (CL-3)."
                ),
            ),
        )

    @workflow.update
    def pass_on(self, input: PassOnInput) -> SalesLogStatus:
        case, status = self._cases()
        status.passed_by = input.actor_id
        case.record(input.actor_id, WITH_ENGINEER, input.note.strip())
        case.move_to(WITH_ENGINEER)
        return status

    @pass_on.validator
    def _validate_pass_on(self, input: PassOnInput) -> None:
        with rule_refusals():
            status = self._cases()[1]
            if not status.assistants:
                raise NotNow("the log is still being sent; try again in a moment")
            if input.actor_id not in status.assistants:
                raise NotAllowed(
                    f"{input.actor_id} may not pass this on: the department assistant does (CL-3)"
                )
            if status.stage != SENT:
                raise NotNow(f"already passed on by {status.passed_by}")
            texts.bounded(input.note, "note")

    @workflow.update
    def complete(self, input: CompleteInput) -> SalesLogStatus:
        case, status = self._cases()
        status.addition = input.addition.strip()
        case.record(input.actor_id, "completed", status.addition)
        return status

    @complete.validator
    def _validate_complete(self, input: CompleteInput) -> None:
        with rule_refusals():
            status = self._cases()[1]
            if input.actor_id != status.engineer_id:
                raise NotAllowed(
                    f"{input.actor_id} may not complete this: the project's engineer, "
                    f"{status.engineer_id}, does (CL-3)"
                )
            if status.stage != WITH_ENGINEER or status.addition:
                raise NotNow(
                    "the assistant has not passed it on yet (CL-3)"
                    if status.stage == SENT
                    else "already completed"
                )
            texts.required(input.addition, "addition", why="say what you add to sales' words")

    @workflow.query
    def status(self) -> SalesLogStatus:
        return opened(self._case, "the sales log").status

    def _cases(self) -> tuple[CaseFile[SalesLogStatus], SalesLogStatus]:
        case = opened(self._case, "the sales log")
        return case, case.status
