"""OC-1: one unanswered or unreturned call in a month, once verified, forfeits that month's
communication allowance; a further penalty according to impact.

A miss is recorded by the caller (workflow id `oc1-<reference>`) and verified by the person's
manager (an Update: verified or not, and an optional fine in fen with its reason). A verified
miss forfeits the month's communication allowance once, however many misses the month holds:
every miss of the person and month writes the very same ledger request under one key, so the
second is answered with the first entry. An unverified miss forfeits nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.finance import FinanceActivities, LedgerEntryInput, RateInput
    from activities.staff import ContactInput, StaffActivities
    from workflows import regulation, retry_policies
    from workflows.case_file import CaseFile, CaseRecord, Mail, opened, rule_refusals
    from workflows.lookups import lookup
    from workflows.regulation import InvalidInput, NotAllowed, NotNow, dates, texts
    from workflows.regulation.allowances import PAY_GROUP_OF_ROLE
    from workflows.regulation.readers import Reader

PROCESS = "on_call_miss"
AWAITING_VERIFICATION, VERIFIED, NOT_VERIFIED = "awaiting_verification", "verified", "not_verified"
MAX_FINE_FEN = 1_000_00  # "according to impact": up to 1,000 yuan without another rule


def workflow_id(reference: str) -> str:
    return f"oc1-{reference}"


@dataclass
class MissInput:
    reference: str
    person_id: str  # who did not answer or return the call
    called_by: str
    called_at: str  # RFC 3339
    what: str  # what the call was about
    rule_version: str


def validate(input: MissInput) -> None:
    texts.required(input.reference, "reference", why="name the missed call")
    texts.required(input.what, "what", why="say what the call was about")
    dates.instant(input.called_at, "called_at")
    if input.person_id == input.called_by:
        raise InvalidInput("nobody records a missed call to themself")


@dataclass
class VerifyInput:
    actor_id: str
    verified: bool
    fine_fen: int = 0
    note: str = ""


@dataclass
class MissStatus(CaseRecord):
    reference: str
    person_id: str
    called_by: str
    month: str
    region_code: str
    rule_version: str
    manager_id: str = ""
    verified_by: str = ""
    forfeit_entry: str = ""
    forfeit_fen: int = 0
    fine_entry: str = ""
    fine_fen: int = 0
    note: str = ""
    stage: str = AWAITING_VERIFICATION


def may_read(status: MissStatus, reader: Reader) -> bool:
    return reader.id in (status.person_id, status.called_by, status.manager_id) or (
        reader.role in ("department_manager", "department_clerk")
    )


@workflow.defn
class OnCallMissWorkflow:
    def __init__(self) -> None:
        self._case: CaseFile[MissStatus] | None = None

    @workflow.run
    async def run(self, input: MissInput) -> MissStatus:
        with rule_refusals():
            regulation.by_version(input.rule_version)
            validate(input)
        called = dates.instant(input.called_at, "called_at").astimezone(regulation.COMPANY_ZONE)
        person = await lookup(StaffActivities.get_contact, ContactInput(input.person_id))
        status = MissStatus(
            input.reference,
            input.person_id,
            input.called_by,
            called.strftime("%Y-%m"),
            person.region_code,
            input.rule_version,
            manager_id=person.manager_id,
        )
        case = CaseFile(
            status,
            process=PROCESS,
            reference=input.reference,
            summary=f"OC-1: {input.person_id} missed a call from {input.called_by} "
            f"({regulation.shown(called)})",
            subject=lambda what: f"[OC-1 {input.reference}] {what}",
            words=lambda stage: {
                AWAITING_VERIFICATION: f"Waiting for {status.manager_id} to verify.",
                VERIFIED: f"Verified by {status.verified_by}: the communication allowance of "
                f"{status.month} is forfeited.",
                NOT_VERIFIED: f"Not verified by {status.verified_by}: {status.note}",
            }.get(stage, stage),
        )
        self._case = case
        case.open(region=person.region_code, rule_version=input.rule_version)
        if not person.manager_id:
            raise ApplicationError(
                f"{person.id} has no manager in the directory to verify the miss",
                type="FAILED_PRECONDITION",
                non_retryable=True,
            )
        manager = await lookup(StaffActivities.get_contact, ContactInput(person.manager_id))
        await case.email(
            "to-verify",
            Mail(
                to=[manager],
                cc=[person],
                what="A missed on-call call to verify",
                body=(
                    f"{input.called_by} records that {person.name} did not answer or return a "
                    f"call at {regulation.shown(called)}: {input.what}.\n\nVerified, it "
                    f"forfeits {person.name}'s communication allowance for {status.month} "
                    "(OC-1). Please verify or not, with a fine if its impact calls for one."
                ),
            ),
        )
        await workflow.wait_condition(lambda: status.stage != AWAITING_VERIFICATION)
        if status.stage == VERIFIED:
            await self._forfeit(status, person.role)
            if status.fine_fen:
                entry = await workflow.execute_activity_method(
                    FinanceActivities.record_entry,
                    LedgerEntryInput(
                        idempotency_key=case.key("fine"),
                        kind="fine",
                        region_code=status.region_code,
                        month=status.month,
                        amount_fen=status.fine_fen,
                        rule_id="OC-1",
                        reason=f"missed on-call call {input.reference}: {status.note}",
                        person_id=status.person_id,
                        reference=workflow.info().workflow_id,
                        recorded_by=status.verified_by,
                    ),
                    start_to_close_timeout=retry_policies.LEDGER_WRITE_TIMEOUT,
                    retry_policy=retry_policies.LEDGER_WRITE,
                )
                status.fine_entry = entry.entry_id
            fined = f", fined {status.fine_fen // 100} yuan" if status.fine_fen else ""
            case.say(f"Verified; forfeited {status.forfeit_fen // 100} yuan{fined}.")
        await case.email(
            "verified",
            Mail(
                to=[person],
                cc=[manager],
                what=f"Missed call {status.stage.replace('_', ' ')}",
                body=f"{person.name}, the missed call {input.reference} is "
                f"{status.stage.replace('_', ' ')} by {status.verified_by}. {status.note}",
            ),
        )
        return status

    async def _forfeit(self, status: MissStatus, role: str) -> None:
        group = PAY_GROUP_OF_ROLE.get(role)
        if group is None:
            return  # no communication allowance to forfeit
        try:
            allowance = await workflow.execute_activity_method(
                FinanceActivities.lookup_rate,
                RateInput("communication_monthly", group, f"{status.month}-01"),
                start_to_close_timeout=retry_policies.DIRECTORY_LOOKUP_TIMEOUT,
                retry_policy=retry_policies.DIRECTORY_LOOKUP,
            )
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type == "NOT_FOUND":
                return  # the policy sets no allowance for this pay group
            raise
        # One forfeit per person and month: the same request under the same key, whichever
        # miss writes it first.
        entry = await workflow.execute_activity_method(
            FinanceActivities.record_entry,
            LedgerEntryInput(
                idempotency_key=f"oc1-forfeit:{status.person_id}:{status.month}",
                kind="forfeit",
                region_code=status.region_code,
                month=status.month,
                amount_fen=allowance,
                rule_id="OC-1",
                reason=f"communication allowance of {status.month} forfeited: a verified "
                "missed on-call call (OC-1, PAY-5)",
                person_id=status.person_id,
                reference=f"oc1-{status.person_id}-{status.month}",
                recorded_by="",
            ),
            start_to_close_timeout=retry_policies.LEDGER_WRITE_TIMEOUT,
            retry_policy=retry_policies.LEDGER_WRITE,
        )
        status.forfeit_entry, status.forfeit_fen = entry.entry_id, allowance

    @workflow.update
    def verify(self, input: VerifyInput) -> MissStatus:
        case, status = self._cases()
        status.verified_by, status.note = input.actor_id, input.note.strip()
        status.fine_fen = input.fine_fen if input.verified else 0
        stage = VERIFIED if input.verified else NOT_VERIFIED
        case.record(input.actor_id, stage, status.note)
        case.move_to(stage)
        return status

    @verify.validator
    def _validate_verify(self, input: VerifyInput) -> None:
        with rule_refusals():
            status = self._cases()[1]
            if not status.manager_id:
                raise NotNow("the miss is still being recorded; try again in a moment")
            if input.actor_id != status.manager_id:
                raise NotAllowed(
                    f"{input.actor_id} may not verify this: {status.person_id}'s manager "
                    f"{status.manager_id} does (OC-1)"
                )
            if status.stage != AWAITING_VERIFICATION:
                raise NotNow(f"already {status.stage.replace('_', ' ')}")
            if type(input.fine_fen) is not int or not 0 <= input.fine_fen <= MAX_FINE_FEN:
                raise InvalidInput(f"fine_fen: whole fen, 0 to {MAX_FINE_FEN // 100} yuan")
            if input.fine_fen or not input.verified:
                texts.required(input.note, "note", why="say why, for the person and the record")

    @workflow.query
    def status(self) -> MissStatus:
        return opened(self._case, "the missed call").status

    def _cases(self) -> tuple[CaseFile[MissStatus], MissStatus]:
        case = opened(self._case, "the missed call")
        return case, case.status
