"""A project handover as a tracked task with a sign-off by each side (SV-1).

One handover per reference (workflow id `sv1-handover-<reference>`): the project, who hands it
over, who takes it over (usually the engineer who will keep its log), and the checklist. Each
side signs once (an Update; the same side twice is refused); signed by both, it is done. The
task is on the SLA clock (rule data, working time), the breach alerted to the region's
technical service manager and customer service manager once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.staff import (
        ContactInput,
        StaffActivities,
    )
    from workflows import regulation
    from workflows.case_file import CaseFile, CaseRecord, Mail, opened, rule_refusals
    from workflows.lookups import after_working_time, lookup, people_in_role
    from workflows.regulation import InvalidInput, NotAllowed, NotNow, texts
    from workflows.regulation.readers import Reader

PROCESS = "handover"
OPEN, SIGNED = "open", "signed"
HANDING_OVER, TAKING_OVER = "handing_over", "taking_over"
MAX_ITEMS = 100


def workflow_id(reference: str) -> str:
    return f"sv1-handover-{reference}"


@dataclass
class HandoverInput:
    reference: str
    project_code: str
    region_code: str
    from_id: str  # hands the project over
    to_id: str  # takes it over
    items: list[str]
    opened_by: str
    rule_version: str


def validate(input: HandoverInput) -> None:
    texts.reference(input.reference)
    if input.from_id == input.to_id:
        raise InvalidInput("a handover is between two people: from_id and to_id differ")
    if not 1 <= len(input.items) <= MAX_ITEMS:
        raise InvalidInput(f"items: the checklist has 1 to {MAX_ITEMS} items")
    for item in input.items:
        texts.required(item, "items", limit=texts.LINE)


@dataclass
class SignInput:
    actor_id: str
    note: str = ""


@dataclass
class HandoverStatus(CaseRecord):
    reference: str
    project_code: str
    region_code: str
    from_id: str
    to_id: str
    items: list[str]
    rule_version: str
    signed: dict[str, str] = field(default_factory=dict)  # side -> when (Asia/Shanghai)
    due_by: str = ""
    stage: str = OPEN


def may_read(status: HandoverStatus, reader: Reader) -> bool:
    return reader.id in (status.from_id, status.to_id) or reader.role in (
        "department_manager",
        "technical_service_manager",
        "customer_service_manager",
    )


def side_of(status: HandoverStatus, actor_id: str) -> str:
    return {status.from_id: HANDING_OVER, status.to_id: TAKING_OVER}.get(actor_id, "")


@workflow.defn
class HandoverWorkflow:
    def __init__(self) -> None:
        self._case: CaseFile[HandoverStatus] | None = None

    @workflow.run
    async def run(self, input: HandoverInput) -> HandoverStatus:
        with rule_refusals():
            rules = regulation.by_version(input.rule_version)
            validate(input)
        status = HandoverStatus(
            input.reference, input.project_code, input.region_code, input.from_id, input.to_id,
            list(input.items), input.rule_version,
        )  # fmt: skip
        case = CaseFile(
            status,
            process=PROCESS,
            reference=input.reference,
            summary=f"SV-1 handover {input.reference} of {input.project_code}",
            subject=lambda what: f"[SV-1 handover {input.reference}] {what}",
            words=lambda stage: {
                OPEN: f"{input.from_id} hands {input.project_code} over to {input.to_id}; "
                f"signed by {', '.join(status.signed) or 'nobody yet'}; due by {status.due_by}.",
                SIGNED: "Signed by both sides.",
            }.get(stage, stage),
        )
        self._case = case
        case.open(region=input.region_code, rule_version=input.rule_version)
        opened_at = workflow.now()
        budget = rules.handover_within
        due_by = await after_working_time(opened_at, budget)
        status.due_by = regulation.shown(due_by)
        giver = await lookup(StaffActivities.get_contact, ContactInput(input.from_id))
        taker = await lookup(StaffActivities.get_contact, ContactInput(input.to_id))
        managers = [
            *await people_in_role("technical_service_manager", input.region_code),
            *await people_in_role("customer_service_manager", input.region_code),
        ]
        case.record(input.opened_by, OPEN, "; ".join(input.items))
        await case.email(
            "opened",
            Mail(
                to=[giver, taker],
                cc=managers,
                what=f"Handover of {input.project_code} to sign",
                body=(
                    f"{giver.name} hands {input.project_code} over to {taker.name}. The "
                    f"checklist:\n\n" + "\n".join(f"- {item}" for item in input.items)
                    + f"\n\nEach side signs it off by {status.due_by} (SV-1)."
                ),
            ),
        )  # fmt: skip
        clock = case.clock(
            "sign-off",
            promise=f"a project handover is signed off by both sides within "
            f"{budget.total_seconds() / 3600:g} working hours (SV-1)",
            started_at=opened_at,
            warn_at=due_by,
            breach_at=due_by,
            breach_to=managers,
        )
        await clock.wait(lambda: len(status.signed) == 2)
        case.move_to(SIGNED)
        await case.email(
            "signed",
            Mail(
                to=[giver, taker],
                cc=managers,
                what="Handover signed",
                body=f"{input.project_code} is handed over to {taker.name}.",
            ),
        )
        return status

    @workflow.update
    def sign(self, input: SignInput) -> HandoverStatus:
        case, status = self._cases()
        side = side_of(status, input.actor_id)
        status.signed[side] = case.now()
        case.record(input.actor_id, f"signed_{side}", input.note.strip())
        case.say(f"Signed by {', '.join(sorted(status.signed))}.")
        return status

    @sign.validator
    def _validate_sign(self, input: SignInput) -> None:
        with rule_refusals():
            status = self._cases()[1]
            side = side_of(status, input.actor_id)
            if not side:
                raise NotAllowed(
                    f"{input.actor_id} may not sign this handover: {status.from_id} hands it "
                    f"over and {status.to_id} takes it over (SV-1)"
                )
            if side in status.signed:
                raise NotNow(
                    f"{input.actor_id} has signed already ({side.replace('_', ' ')}, "
                    f"{status.signed[side]}): each side signs once (SV-1)"
                )
            texts.bounded(input.note, "note")

    @workflow.query
    def status(self) -> HandoverStatus:
        return opened(self._case, "the handover").status

    def _cases(self) -> tuple[CaseFile[HandoverStatus], HandoverStatus]:
        case = opened(self._case, "the handover")
        return case, case.status
