"""A business opportunity (BO-1..BO-3, G-3, G-5): a maintenance contract, a final payment or a
secondary sale, registered by anyone in the field, confirmed by the department and tracked to
won or lost.

One opportunity per reference (workflow id `bo-<reference>`). Registered, it is mailed at once
to the department managers and the region's customer service manager (BO-1, "at once"). A
department manager confirms it is real, and decides whether the region gets it (an Update). Then
it is closed, won (with the amount) or lost (with the reason):

- BO-3: technical service managers and engineers may not sell at all; they register only.
- BO-1: without the company's authorisation a customer service manager may not sell: until
  the region is given the opportunity, its sale is the department's.

Won, its amount is the region's income in the ledger (ACC-1), once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.finance import FinanceActivities, LedgerEntryInput
    from activities.staff import ContactInput, StaffActivities
    from workflows import regulation, retry_policies
    from workflows.case_file import CaseFile, CaseRecord, Mail, opened, rule_refusals
    from workflows.lookups import lookup, people_in_role
    from workflows.regulation import InvalidInput, NotAllowed, NotNow, money, texts
    from workflows.regulation.money import yuan
    from workflows.regulation.readers import Reader

PROCESS = "opportunity"
KINDS = ("maintenance_contract", "final_payment", "secondary_sale")
REGISTERED, FOR_THE_REGION, FOR_THE_DEPARTMENT, NOT_REAL = (
    "registered",
    "for_the_region",
    "for_the_department",
    "not_real",
)
WON, LOST = "won", "lost"
CONFIRMERS = "department_manager"
REGION_SELLER = "customer_service_manager"
# BO-3: these roles register opportunities and never sell.
NEVER_SELL = ("technical_service_manager", "technical_service_engineer")


def workflow_id(reference: str) -> str:
    return f"bo-{reference}"


@dataclass
class OpportunityInput:
    reference: str
    kind: str
    hospital: str
    region_code: str
    registered_by: str
    estimated_fen: int
    description: str
    rule_version: str
    cooperation: str = ""  # BO-2: the assistance case another department sent first


def validate(input: OpportunityInput) -> None:
    texts.reference(input.reference)
    if input.kind not in KINDS:
        raise InvalidInput(f"kind {input.kind!r}: use {', '.join(KINDS)}")
    texts.required(input.hospital, "hospital", limit=texts.LINE)
    money.whole_fen(input.estimated_fen, "estimated_fen")
    texts.required(input.description, "description", why="say what the opportunity is")


@dataclass
class ConfirmInput:
    actor_id: str
    real: bool
    region_gets_it: bool = False
    note: str = ""


@dataclass
class CloseInput:
    actor_id: str
    actor_role: str
    won: bool
    amount_fen: int = 0
    note: str = ""


@dataclass
class OpportunityStatus(CaseRecord):
    reference: str
    kind: str
    hospital: str
    region_code: str
    registered_by: str
    estimated_fen: int
    rule_version: str
    cooperation: str = ""
    confirmers: list[str] = field(default_factory=list)  # the department managers
    region_sellers: list[str] = field(default_factory=list)  # the region's CSMs
    sellers: list[str] = field(default_factory=list)  # who may record the sale, once confirmed
    confirmed_by: str = ""
    closed_by: str = ""
    amount_fen: int = 0
    note: str = ""
    entry_id: str = ""
    stage: str = REGISTERED


def may_read(status: OpportunityStatus, reader: Reader) -> bool:
    return (
        reader.id in (status.registered_by, status.confirmed_by, status.closed_by)
        or reader.id in status.sellers
        or reader.role in (CONFIRMERS, "department_assistant")
        or (reader.role == REGION_SELLER and reader.region_code == status.region_code)
    )


@workflow.defn
class OpportunityWorkflow:
    def __init__(self) -> None:
        self._case: CaseFile[OpportunityStatus] | None = None

    @workflow.run
    async def run(self, input: OpportunityInput) -> OpportunityStatus:
        with rule_refusals():
            regulation.by_version(input.rule_version)
            validate(input)
        status = OpportunityStatus(
            input.reference,
            input.kind,
            input.hospital.strip(),
            input.region_code,
            input.registered_by,
            input.estimated_fen,
            input.rule_version,
            cooperation=input.cooperation,
        )
        what = f"{input.kind.replace('_', ' ')} at {status.hospital}"
        case = CaseFile(
            status,
            process=PROCESS,
            reference=input.reference,
            summary=f"BO {input.reference}: {what} ({input.region_code})",
            subject=lambda subject: f"[BO {input.reference}] {subject}",
            words=lambda stage: {
                REGISTERED: f"Registered by {input.registered_by}, about "
                f"{yuan(input.estimated_fen)} yuan; a department manager confirms it.",
                FOR_THE_REGION: f"Real (confirmed by {status.confirmed_by}); the region sells it.",
                FOR_THE_DEPARTMENT: f"Real (confirmed by {status.confirmed_by}); the department "
                "sells it, not the region.",
                NOT_REAL: f"Not real, says {status.confirmed_by}: {status.note}",
                WON: f"Won by {status.closed_by}: {yuan(status.amount_fen)} yuan, the region's "
                "income.",
                LOST: f"Lost: {status.note}",
            }.get(stage, stage),
        )
        self._case = case
        case.open(region=input.region_code, rule_version=input.rule_version)
        registrant = await lookup(StaffActivities.get_contact, ContactInput(input.registered_by))
        managers = await people_in_role(CONFIRMERS)
        csms = await people_in_role(REGION_SELLER, input.region_code)
        status.region_sellers = [c.id for c in csms]
        status.confirmers = [m.id for m in managers]
        case.record(input.registered_by, REGISTERED, input.description.strip())
        await case.email(
            "registered",
            Mail(
                to=[*managers, *csms],
                cc=[registrant],
                what=f"A business opportunity: {what}",
                body=(
                    f"{registrant.name} registers a {input.kind.replace('_', ' ')} at "
                    f"{status.hospital} ({input.region_code}), about {yuan(input.estimated_fen)} "
                    f"yuan, reference {input.reference}.\n\n{input.description.strip()}\n\n"
                    "A department manager confirms whether it is real and whether the region "
                    "gets it (BO-1)."
                    + (f"\n\nCooperation asked through {input.cooperation} (BO-2)."
                       if input.cooperation else "")
                ),
            ),
        )  # fmt: skip
        await workflow.wait_condition(lambda: status.stage != REGISTERED)
        if status.stage == NOT_REAL:
            return status
        await case.email(
            "confirmed",
            Mail(
                to=[m for m in [*csms, *managers] if m.id in status.sellers],
                cc=[registrant],
                what="confirmed: "
                + ("the region sells it" if status.stage == FOR_THE_REGION else "the department "
                   "sells it"),
                body=f"{what}: {case.status.note or 'confirmed real'}.",
            ),
        )  # fmt: skip
        await workflow.wait_condition(lambda: status.stage in (WON, LOST))
        if status.stage == WON:
            entry = await workflow.execute_activity_method(
                FinanceActivities.record_entry,
                LedgerEntryInput(
                    idempotency_key=case.key("income"),
                    kind="income",
                    region_code=input.region_code,
                    month=case.now()[:7],
                    amount_fen=status.amount_fen,
                    rule_id="BO-1",
                    reason=f"{what} won ({input.reference})",
                    reference=workflow.info().workflow_id,
                    recorded_by=status.closed_by,
                ),
                start_to_close_timeout=retry_policies.LEDGER_WRITE_TIMEOUT,
                retry_policy=retry_policies.LEDGER_WRITE,
            )
            status.entry_id = entry.entry_id
            case.say(f"Won: {yuan(status.amount_fen)} yuan, ledger entry {entry.entry_id}.")
        await case.email(
            "closed",
            Mail(
                to=managers,
                cc=[registrant, *csms],
                what=f"{status.stage}: {what}",
                body=(
                    f"{what}: won by {status.closed_by}, {yuan(status.amount_fen)} yuan."
                    if status.stage == WON
                    else f"{what}: lost. {status.note}"
                ),
            ),
        )
        return status

    @workflow.update
    def confirm(self, input: ConfirmInput) -> OpportunityStatus:
        case, status = self._cases()
        status.confirmed_by, status.note = input.actor_id, input.note.strip()
        stage = (
            NOT_REAL
            if not input.real
            else FOR_THE_REGION
            if input.region_gets_it
            else FOR_THE_DEPARTMENT
        )
        # Who sells is settled with the decision, so no close arrives between the two.
        if stage == FOR_THE_REGION:
            status.sellers = list(status.region_sellers)
        elif stage == FOR_THE_DEPARTMENT:
            status.sellers = list(status.confirmers)
        case.record(input.actor_id, stage, status.note)
        case.move_to(stage)
        return status

    @confirm.validator
    def _validate_confirm(self, input: ConfirmInput) -> None:
        with rule_refusals():
            status = self._cases()[1]
            if not status.confirmers:
                raise NotNow("the registration is still being sent; try again in a moment")
            if input.actor_id not in status.confirmers:
                raise NotAllowed(
                    f"{input.actor_id} may not confirm an opportunity: the department's "
                    "managers do, and decide whether the region gets it (BO-1)"
                )
            if status.stage != REGISTERED:
                raise NotNow(f"already confirmed by {status.confirmed_by}")
            if not input.real:
                texts.required(input.note, "note", why="say why it is not real")
            texts.bounded(input.note, "note")

    @workflow.update
    def close(self, input: CloseInput) -> OpportunityStatus:
        case, status = self._cases()
        status.closed_by, status.note = input.actor_id, input.note.strip()
        status.amount_fen = input.amount_fen if input.won else 0
        stage = WON if input.won else LOST
        case.record(input.actor_id, stage, yuan(status.amount_fen) if input.won else status.note)
        case.move_to(stage)
        return status

    @close.validator
    def _validate_close(self, input: CloseInput) -> None:
        with rule_refusals():
            status = self._cases()[1]
            if input.actor_role in NEVER_SELL:
                raise NotAllowed(
                    f"{input.actor_id} may not sell at all: technical service managers and "
                    "engineers register opportunities only (BO-3)"
                )
            if status.stage == REGISTERED:
                raise NotNow("the opportunity is not confirmed yet: a department manager "
                             "confirms it first (BO-1)")  # fmt: skip
            if status.stage in (NOT_REAL, WON, LOST):
                raise NotNow(f"the opportunity is {status.stage.replace('_', ' ')}")
            if input.actor_id not in status.sellers:
                if input.actor_role == REGION_SELLER:
                    raise NotAllowed(
                        f"{input.actor_id} may not sell this: without the company's "
                        "authorisation a customer service manager does not sell (BO-1)"
                    )
                who = (
                    "the region's customer service manager"
                    if status.stage == FOR_THE_REGION
                    else "a department manager"
                )
                raise NotAllowed(f"{input.actor_id} may not close this: {who} does (BO-1)")
            if input.won:
                money.whole_fen(input.amount_fen, "amount_fen")
            else:
                texts.required(input.note, "note", why="say why it was lost")
            texts.bounded(input.note, "note")

    @workflow.query
    def status(self) -> OpportunityStatus:
        return opened(self._case, "the opportunity").status

    def _cases(self) -> tuple[CaseFile[OpportunityStatus], OpportunityStatus]:
        case = opened(self._case, "the opportunity")
        return case, case.status
