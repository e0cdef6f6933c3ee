"""XA-1 cross-department assistance.

Any help needed from another department goes to the department assistant as a request, copied to
the region's technical service and customer service managers; the assistant coordinates it:
accepts it, hands it to the other department and closes it. Only the coordinator may move it on,
and every step is announced by email. An email the notify service refuses for good (a bad
address, say) is noted on the request instead of stopping it.

The search attribute CsdSlaState reads "ok" while the coordinator has time to accept, "warning"
once they have been reminded, and "met" from their acceptance on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.notify import EmailInput, NotifyActivities
    from activities.staff import (
        AssistanceRouteInput,
        Contact,
        ContactInput,
        StaffActivities,
    )
    from workflows import retry_policies, rulebook, search_attributes
    from workflows.lookups import lookup

PROCESS = "assistance"

SUBMITTED = "submitted"
AWAITING_COORDINATOR = "awaiting_coordinator"
COORDINATING = "coordinating"
HANDED_OFF = "handed_off"
CLOSED = "closed"

SLA_OK = "ok"
SLA_WARNING = "warning"
SLA_MET = "met"

# Bounds that keep a request's state, which every update returns, far below gRPC's 4 MB.
MAX_NOTE = 2_000
MAX_HANDED_TO = 200
MAX_RESOLUTION = 10_000
MAX_HAND_OFFS = 20

# Executions started before these changes replay without them (tests/histories).
SLA_STATE_PATCH = "sla-state-search-attribute"
REFUSALS_PATCH = "notification-refusals-tolerated"


def workflow_id(reference: str) -> str:
    """The business key of a request as its workflow id."""
    return f"assistance-{reference}"


@dataclass
class AssistanceInput:
    reference: str
    requester_id: str
    region_code: str
    target_department: str
    subject: str
    description: str
    rule_version: str = "2024-v1"


@dataclass
class AcceptInput:
    actor_id: str
    note: str = ""


@dataclass
class HandOffInput:
    actor_id: str
    handed_to: str
    note: str = ""


@dataclass
class CloseInput:
    actor_id: str
    resolution: str


@dataclass
class AssistanceEvent:
    at: str
    actor_id: str
    stage: str
    note: str = ""


@dataclass
class AssistanceStatus:
    reference: str
    stage: str
    requester_id: str
    region_code: str
    target_department: str
    subject: str
    rule_version: str
    coordinator_id: str = ""
    cc_ids: list[str] = field(default_factory=list)
    handed_to: str = ""
    resolution: str = ""
    history: list[AssistanceEvent] = field(default_factory=list)
    # Emails the notify service refused for good, in plain words.
    notices: list[str] = field(default_factory=list)


@workflow.defn
class AssistanceWorkflow:
    """One cross-department assistance request, from submission to closure."""

    def __init__(self) -> None:
        self._status: AssistanceStatus | None = None
        self._coordinator: Contact | None = None
        self._cc: list[Contact] = []
        self._requester: Contact | None = None
        self._announced = 0
        self._tracks_sla = False

    @workflow.run
    async def run(self, input: AssistanceInput) -> AssistanceStatus:
        rules = rulebook.by_version(input.rule_version)
        self._tracks_sla = workflow.patched(SLA_STATE_PATCH)
        status = AssistanceStatus(
            reference=input.reference,
            stage=SUBMITTED,
            requester_id=input.requester_id,
            region_code=input.region_code,
            target_department=input.target_department,
            subject=input.subject,
            rule_version=input.rule_version,
        )
        self._status = status
        attributes = [
            search_attributes.PROCESS.value_set(PROCESS),
            search_attributes.REGION.value_set(input.region_code),
            search_attributes.STAGE.value_set(SUBMITTED),
            search_attributes.RULE_VERSION.value_set(input.rule_version),
        ]
        if self._tracks_sla:
            attributes.append(search_attributes.SLA_STATE.value_set(SLA_OK))
        workflow.upsert_search_attributes(attributes)
        self._record(input.requester_id, SUBMITTED, input.description)
        workflow.set_current_details(
            f"Routing the request of {input.requester_id} to the assistant."
        )

        route = await lookup(
            StaffActivities.resolve_assistance_route,
            AssistanceRouteInput(region_code=input.region_code),
        )
        self._requester = await lookup(
            StaffActivities.get_contact,
            ContactInput(person_id=input.requester_id),
        )
        self._coordinator, self._cc = route.coordinator, route.cc
        status.coordinator_id = route.coordinator.id
        status.cc_ids = [c.id for c in route.cc]
        self._move_to(AWAITING_COORDINATOR)

        reminders = 0
        while True:
            await self._announce_pending()
            if status.stage == CLOSED:
                break
            waiting = (
                status.stage == AWAITING_COORDINATOR and reminders < rules.assistance_max_reminders
            )
            try:
                await workflow.wait_condition(
                    self._has_unannounced,
                    timeout=rules.assistance_reminder_after if waiting else None,
                )
            except TimeoutError:
                reminders += 1
                if self._tracks_sla:
                    workflow.upsert_search_attributes(
                        [search_attributes.SLA_STATE.value_set(SLA_WARNING)]
                    )
                await self._remind(reminders)

        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.set_current_details(f"Closed: {status.resolution}")
        return status

    @workflow.query
    def status(self) -> AssistanceStatus:
        if self._status is None:
            raise ApplicationError("the request has not started yet", type="FAILED_PRECONDITION")
        return self._status

    @workflow.update
    def accept(self, input: AcceptInput) -> AssistanceStatus:
        self._record(input.actor_id, COORDINATING, input.note)
        self._move_to(COORDINATING)
        return self.status()

    @accept.validator
    def _validate_accept(self, input: AcceptInput) -> None:
        self._require_coordinator(input.actor_id, allowed=(AWAITING_COORDINATOR,))
        _require_length(input.note, "note", MAX_NOTE)

    @workflow.update
    def hand_off(self, input: HandOffInput) -> AssistanceStatus:
        assert self._status is not None
        self._status.handed_to = input.handed_to.strip()
        note = f"handed to {self._status.handed_to}" + (f": {input.note}" if input.note else "")
        self._record(input.actor_id, HANDED_OFF, note)
        self._move_to(HANDED_OFF)
        return self.status()

    @hand_off.validator
    def _validate_hand_off(self, input: HandOffInput) -> None:
        self._require_coordinator(input.actor_id, allowed=(COORDINATING, HANDED_OFF))
        if not input.handed_to.strip():
            raise ApplicationError(
                "say who in the other department took it over (handed_to)", type="INVALID_ARGUMENT"
            )
        _require_length(input.handed_to, "handed_to", MAX_HANDED_TO)
        _require_length(input.note, "note", MAX_NOTE)
        assert self._status is not None
        if sum(e.stage == HANDED_OFF for e in self._status.history) >= MAX_HAND_OFFS:
            raise ApplicationError(
                f"the request was handed on {MAX_HAND_OFFS} times; close it and file a new one",
                type="FAILED_PRECONDITION",
            )

    @workflow.update
    def close(self, input: CloseInput) -> AssistanceStatus:
        assert self._status is not None
        self._status.resolution = input.resolution.strip()
        self._record(input.actor_id, CLOSED, self._status.resolution)
        self._move_to(CLOSED)
        return self.status()

    @close.validator
    def _validate_close(self, input: CloseInput) -> None:
        self._require_coordinator(input.actor_id, allowed=(COORDINATING, HANDED_OFF))
        if not input.resolution.strip():
            raise ApplicationError("a resolution is required to close", type="INVALID_ARGUMENT")
        _require_length(input.resolution, "resolution", MAX_RESOLUTION)

    def _require_coordinator(self, actor_id: str, *, allowed: tuple[str, ...]) -> None:
        status = self.status()
        if self._coordinator is None:
            raise ApplicationError(
                "the request is still being routed to its coordinator; try again in a moment",
                type="FAILED_PRECONDITION",
            )
        if actor_id != self._coordinator.id:
            raise ApplicationError(
                f"only the coordinator ({self._coordinator.id}) may move this request on (XA-1)",
                type="PERMISSION_DENIED",
            )
        if status.stage not in allowed:
            raise ApplicationError(
                f"the request is {status.stage}; this step needs it to be {' or '.join(allowed)}",
                type="FAILED_PRECONDITION",
            )

    def _record(self, actor_id: str, stage: str, note: str) -> None:
        assert self._status is not None
        self._status.history.append(
            AssistanceEvent(
                at=workflow.now().isoformat(), actor_id=actor_id, stage=stage, note=note
            )
        )

    def _move_to(self, stage: str) -> None:
        assert self._status is not None
        self._status.stage = stage
        attributes = [search_attributes.STAGE.value_set(stage)]
        if stage == COORDINATING and self._tracks_sla:
            # Accepting is what XA-1 times; it stays met whatever happens after.
            attributes.append(search_attributes.SLA_STATE.value_set(SLA_MET))
        workflow.upsert_search_attributes(attributes)
        workflow.set_current_details(self._situation())

    def _situation(self) -> str:
        """The current stage in plain words, for the Web UI."""
        assert self._status is not None
        coordinator = self._coordinator.name if self._coordinator else "the assistant"
        details = {
            AWAITING_COORDINATOR: f"Waiting for {coordinator} to accept.",
            COORDINATING: f"{coordinator} is coordinating with {self._status.target_department}.",
            HANDED_OFF: f"Handed to {self._status.handed_to} ({self._status.target_department}).",
            CLOSED: "Closing.",
        }
        return details.get(self._status.stage, self._status.stage)

    def _has_unannounced(self) -> bool:
        return self._status is not None and self._announced < len(self._status.history)

    async def _announce_pending(self) -> None:
        """Email every recorded step not yet announced, in order, once each."""
        assert self._status is not None
        while self._announced < len(self._status.history):
            index = self._announced
            event = self._status.history[index]
            await self._email(f"{index}-{event.stage}", event.stage, *self._announcement(event))
            self._announced += 1

    def _announcement(self, event: AssistanceEvent) -> tuple[list[Contact], list[Contact], str]:
        assert self._status is not None and self._coordinator and self._requester
        s = self._status
        if event.stage == SUBMITTED:
            return (
                [self._coordinator],
                [*self._cc, self._requester],
                (
                    f"New cross-department assistance request from {self._requester.name} "
                    f"({s.region_code}) for {s.target_department}:\n\n{event.note}\n\n"
                    f"Coordinator: {self._coordinator.name}. Accept it through the gateway."
                ),
            )
        if event.stage == COORDINATING:
            return (
                [self._requester],
                self._cc,
                (
                    f"{self._coordinator.name} accepted the request and is coordinating with "
                    f"{s.target_department}." + (f"\n\n{event.note}" if event.note else "")
                ),
            )
        if event.stage == HANDED_OFF:
            return [self._requester], self._cc, f"The request was {event.note}."
        return [self._requester], [self._coordinator, *self._cc], f"Closed: {event.note}"

    async def _email(
        self, step: str, stage: str, to: list[Contact], cc: list[Contact], body: str
    ) -> None:
        assert self._status is not None
        s = self._status
        try:
            await workflow.execute_activity_method(
                NotifyActivities.send_email,
                EmailInput(
                    idempotency_key=f"{workflow.info().workflow_id}:{step}",
                    to=[c.email for c in to],
                    cc=[c.email for c in cc],
                    subject=f"[XA-1 {s.reference}] {s.subject} — {stage.replace('_', ' ')}",
                    body=body,
                    reference=workflow.info().workflow_id,
                ),
                start_to_close_timeout=retry_policies.NOTIFICATION_TIMEOUT,
                retry_policy=retry_policies.NOTIFICATION,
            )
        except ActivityError as err:
            refusal = err.cause
            # Outages are retried without limit by the policy; only a refusal for good ends
            # up here. Executions that failed on one before the patch keep failing on replay.
            if not (
                isinstance(refusal, ApplicationError)
                and refusal.non_retryable
                and workflow.patched(REFUSALS_PATCH)
            ):
                raise
            notice = f"The {stage.replace('_', ' ')} email was not sent: {refusal.message}"
            s.notices.append(notice)
            workflow.logger.warning("email refused", extra={"step": step, "notice": notice})
            workflow.set_current_details(f"{self._situation()} {notice}")

    async def _remind(self, count: int) -> None:
        assert self._status is not None and self._coordinator
        await self._email(
            f"reminder-{count}",
            "reminder",
            [self._coordinator],
            [],
            f"Reminder {count}: the assistance request {self._status.reference} "
            f"({self._status.subject}) is still waiting for you to accept it.",
        )


def _require_length(value: str, field: str, limit: int) -> None:
    if len(value) > limit:
        raise ApplicationError(
            f"{field} is longer than {limit} characters", type="INVALID_ARGUMENT"
        )
