"""The routine meetings (MT-1..MT-3): invitations by role, the agenda of the rule, minutes due
after the meeting from the role the rule names, a reminder, an alert to the chair's manager when
they are missing, the minutes sent back to the company and the attendance recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.notify import AlertInput, NotifyActivities
    from activities.staff import (
        Contact,
        ContactInput,
        StaffActivities,
    )
    from workflows import retry_policies, rulebook, search_attributes
    from workflows.directory import people_in_role
    from workflows.lookups import lookup
    from workflows.mail import send_email

PROCESS = "meeting"
INVITED = "invited"
HELD = "held"
MINUTES_RECORDED = "minutes_recorded"
MINUTES_MISSING = "minutes_missing"
MAX_MINUTES = 20_000

TSM, CSM, MANAGER = "technical_service_manager", "customer_service_manager", "department_manager"
ASSISTANT, SALES = "department_assistant", "sales"


@dataclass(frozen=True)
class MeetingRule:
    rule_id: str
    title: str
    regional: bool
    agenda: tuple[str, ...]


MEETINGS = {
    "MT-1": MeetingRule(
        "MT-1",
        "Regional monthly summary",
        True,
        (
            "The month's customer service in the region",
            "Execution of the maintenance plans",
            "Hard and typical problems",
            "Review of the monthly report to the hospitals",
        ),
    ),
    "MT-2": MeetingRule(
        "MT-2",
        "Regional quarterly summary",
        True,
        (
            "The quarter's problems: the technical service manager's quarterly report",
            "Results of the customer inspections",
        ),
    ),
    "MT-3": MeetingRule(
        "MT-3",
        "Department customer analysis meeting",
        False,
        (
            "Dissatisfied customers, complaints, replacement risk, slow responses",
            "Maintenance contracts and final payments",
            "Requirements and bugs",
        ),
    ),
}


def workflow_id(rule_id: str, region_code: str, day: str) -> str:
    scope = f"-{region_code}" if region_code else ""
    return f"meeting-{rule_id}{scope}-{day}"


@dataclass
class MeetingInput:
    rule_id: str  # MT-1, MT-2, MT-3
    region_code: str  # empty for MT-3
    starts_at: str  # RFC 3339, the occurrence after the holiday rule
    rule_version: str


@dataclass
class MinutesInput:
    actor_id: str
    text: str
    present: list[str] = field(default_factory=list)


@dataclass
class MeetingStatus:
    rule_id: str
    title: str
    region_code: str
    starts_at: str
    rule_version: str
    stage: str = INVITED
    chair_id: str = ""
    minutes_taker_id: str = ""
    required_ids: list[str] = field(default_factory=list)
    notified_ids: list[str] = field(default_factory=list)
    agenda: list[str] = field(default_factory=list)
    minutes_due_at: str = ""
    minutes: str = ""
    present_ids: list[str] = field(default_factory=list)
    absent_ids: list[str] = field(default_factory=list)


@workflow.defn
class MeetingWorkflow:
    """One occurrence of a routine meeting."""

    def __init__(self) -> None:
        self._status: MeetingStatus | None = None
        self._chair: Contact | None = None
        self._required: list[Contact] = []
        self._notified: list[Contact] = []
        self._company: list[Contact] = []

    @workflow.run
    async def run(self, input: MeetingInput) -> MeetingStatus:
        meeting = MEETINGS.get(input.rule_id)
        rules = rulebook.by_version(input.rule_version)
        if meeting is None or meeting.regional != bool(input.region_code):
            raise ApplicationError(
                f"no routine meeting {input.rule_id} for region {input.region_code!r}",
                type="INVALID_ARGUMENT",
                non_retryable=True,
            )
        starts = datetime.fromisoformat(input.starts_at)
        status = MeetingStatus(
            meeting.rule_id, meeting.title, input.region_code, input.starts_at, input.rule_version
        )
        status.agenda = list(meeting.agenda)
        status.minutes_due_at = (starts + rules.meeting_minutes_due_after).isoformat()
        self._status = status
        workflow.upsert_search_attributes(
            [
                search_attributes.PROCESS.value_set(PROCESS),
                search_attributes.REGION.value_set(input.region_code or "department"),
                search_attributes.STAGE.value_set(INVITED),
                search_attributes.RULE_VERSION.value_set(input.rule_version),
            ]
        )
        chair, minutes_taker = await self._roles(meeting, input.region_code)
        self._chair = chair
        status.chair_id, status.minutes_taker_id = chair.id, minutes_taker.id
        status.required_ids = [p.id for p in self._required]
        status.notified_ids = [p.id for p in self._notified]
        agenda = "\n".join(f"  {n}. {item}" for n, item in enumerate(meeting.agenda, start=1))
        await self._email(
            "invitation", [chair, *self._required], self._notified, "invitation",
            f"{meeting.title} ({meeting.rule_id}), online, {input.starts_at}.\n\n"
            f"Chair: {chair.name}. Minutes: {minutes_taker.name}, due {status.minutes_due_at}."
            f"\n\nAgenda:\n{agenda}\n",
        )  # fmt: skip
        workflow.set_current_details(f"{meeting.title} on {input.starts_at}; invitations sent.")
        if starts > workflow.now():
            await workflow.sleep(starts - workflow.now())
        self._move_to(
            HELD, f"Held; minutes due from {minutes_taker.name} by {status.minutes_due_at}."
        )

        due = datetime.fromisoformat(status.minutes_due_at)
        halfway = starts + (due - starts) / 2
        if not await self._minutes_by(halfway):
            await self._email(
                "minutes-reminder", [minutes_taker], [], "minutes reminder",
                f"The minutes of {meeting.title} ({input.starts_at}) are due "
                f"{status.minutes_due_at}.",
            )  # fmt: skip
            if not await self._minutes_by(due):
                await self._missing_minutes(meeting, minutes_taker)
                await workflow.wait_condition(lambda: status.stage == MINUTES_RECORDED)
        await self._send_minutes(meeting)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return status

    async def _roles(self, meeting: MeetingRule, region: str) -> tuple[Contact, Contact]:
        """Chair and minutes taker; required and notified attendees, as the rule names them."""
        managers = await self._role(MANAGER)
        self._company = [*managers, *await self._role(ASSISTANT)]
        if meeting.rule_id == "MT-1":
            # Chaired by the TSM or above; the CSM must attend; sales is notified.
            chair = (await self._role(TSM, region) or managers)[0]
            self._required = await self._role(CSM, region)
            self._notified = await self._role(SALES, region)
            return chair, chair
        if meeting.rule_id == "MT-2":
            # Chaired by the customer service manager or above; the TSM must attend.
            chair = (await self._role(CSM, region) or managers)[0]
            self._required = [p for p in await self._role(TSM, region) if p.id != chair.id]
            return chair, chair
        # MT-3: the department manager chairs, every TSM and CSM attends, the assistant minutes.
        chair = managers[0]
        self._required = [*await self._role(TSM), *await self._role(CSM)]
        assistant = await self._role(ASSISTANT)
        return chair, (assistant or [chair])[0]

    async def _role(self, role: str, region: str = "") -> list[Contact]:
        return await people_in_role(role, region)

    async def _minutes_by(self, moment: datetime) -> bool:
        status = self.status()
        remaining = moment - workflow.now()
        if remaining.total_seconds() > 0:
            try:
                await workflow.wait_condition(
                    lambda: status.stage == MINUTES_RECORDED, timeout=remaining
                )
            except TimeoutError:
                pass
        return status.stage == MINUTES_RECORDED

    async def _missing_minutes(self, meeting: MeetingRule, taker: Contact) -> None:
        status = self.status()
        self._move_to(
            MINUTES_MISSING, f"Minutes missing from {taker.name}; the chair's manager is alerted."
        )
        assert self._chair is not None
        boss: list[Contact] = []
        if self._chair.manager_id:
            boss = [
                await lookup(
                    StaffActivities.get_contact,
                    ContactInput(person_id=self._chair.manager_id),
                )
            ]
        recipients = boss or [c for c in self._company if c.role == MANAGER]
        await workflow.execute_activity_method(
            NotifyActivities.send_alert,
            AlertInput(
                idempotency_key=f"{workflow.info().workflow_id}:minutes-missing",
                to=sorted({c.email for c in recipients}),
                subject=f"{meeting.rule_id} minutes missing: {meeting.title} {status.starts_at}",
                body=(
                    f"The minutes of {meeting.title} ({status.starts_at}), chaired by "
                    f"{self._chair.name}, were due from {taker.name} by {status.minutes_due_at} "
                    "and have not been recorded."
                ),
                breach=True,
                reference=workflow.info().workflow_id,
            ),
            start_to_close_timeout=retry_policies.NOTIFICATION_TIMEOUT,
            retry_policy=retry_policies.NOTIFICATION,
        )

    async def _send_minutes(self, meeting: MeetingRule) -> None:
        status = self.status()
        attendance = (
            f"Present: {', '.join(status.present_ids) or '-'}\n"
            f"Required but absent: {', '.join(status.absent_ids) or 'none'}"
        )
        await self._email(
            "minutes", self._company, [c for c in [self._chair] if c], "minutes",
            f"Minutes of {meeting.title} ({status.starts_at}):\n\n{status.minutes}\n\n{attendance}",
        )  # fmt: skip
        workflow.set_current_details(f"Minutes recorded and sent. {attendance}")

    @workflow.query
    def status(self) -> MeetingStatus:
        if self._status is None:
            raise ApplicationError("not started", type="FAILED_PRECONDITION")
        return self._status

    @workflow.update
    def record_minutes(self, input: MinutesInput) -> MeetingStatus:
        status = self.status()
        status.minutes = input.text.strip()
        status.present_ids = sorted(set(input.present))
        status.absent_ids = [p for p in status.required_ids if p not in status.present_ids]
        self._move_to(MINUTES_RECORDED, "Minutes recorded.")
        return status

    @record_minutes.validator
    def _validate_minutes(self, input: MinutesInput) -> None:
        status = self.status()
        if not status.minutes_taker_id:
            raise ApplicationError("the meeting is still being set up", type="FAILED_PRECONDITION")
        if input.actor_id != status.minutes_taker_id:
            raise ApplicationError(
                f"the minutes are {status.minutes_taker_id}'s to record ({status.rule_id})",
                type="PERMISSION_DENIED",
            )
        if status.stage not in (HELD, MINUTES_MISSING):
            raise ApplicationError(
                f"the meeting is {status.stage.replace('_', ' ')}; minutes come after it is held",
                type="FAILED_PRECONDITION",
            )
        if not input.text.strip():
            raise ApplicationError("the minutes are empty", type="INVALID_ARGUMENT")
        if len(input.text) > MAX_MINUTES:
            raise ApplicationError(f"minutes longer than {MAX_MINUTES}", type="INVALID_ARGUMENT")

    def _move_to(self, stage: str, details: str) -> None:
        self.status().stage = stage
        workflow.upsert_search_attributes([search_attributes.STAGE.value_set(stage)])
        workflow.set_current_details(details)

    async def _email(
        self, step: str, to: list[Contact], cc: list[Contact], what: str, body: str
    ) -> None:
        status = self.status()
        scope = f" {status.region_code}" if status.region_code else ""
        await send_email(
            key=f"{workflow.info().workflow_id}:{step}",
            to=to,
            cc=cc,
            subject=f"[{status.rule_id}{scope}] {status.title} {status.starts_at[:10]} — {what}",
            body=body,
        )
