"""The senior support engineer's requirement digests: every Friday the status email to the field,
the department managers and the team lead (RQ-5), and at the start of each month the briefing to
the company (RQ-6) — progress, completion risk, SLA breaches and statistics per region."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.requirements import (
        DigestSheet,
        DigestSheetInput,
        RequirementSheetActivities,
    )
    from activities.staff import Contact
    from workflows import retry_policies
    from workflows.case_file import CaseFile, CaseRecord, Mail, opened
    from workflows.lookups import people_in_role

PROCESS = "requirement_digest"
WEEKLY, MONTHLY = "weekly", "monthly"
SCHEDULED, SENT = "scheduled", "sent"
# RQ-5: the field, the department managers and the team lead; RQ-6: the company.
RECIPIENTS = MappingProxyType({
    WEEKLY: (("technical_service_manager", "technical_service_engineer"),
             ("department_manager", "technical_service_team_lead")),
    MONTHLY: (("department_manager",),
              ("technical_service_team_lead", "rnd_lead", "quality_office")),
})  # fmt: skip
RULE_OF = MappingProxyType({WEEKLY: "RQ-5", MONTHLY: "RQ-6"})


def workflow_id(kind: str, day: str) -> str:
    return f"requirement-digest-{kind}-{day}"


@dataclass
class DigestInput:
    kind: str  # weekly (RQ-5) or monthly (RQ-6)
    at: str  # RFC 3339: when it goes out
    rule_version: str


@dataclass
class DigestResult(CaseRecord):
    kind: str
    total: int = 0
    by_stage: dict[str, int] = field(default_factory=dict)
    by_region: dict[str, int] = field(default_factory=dict)
    breached: list[str] = field(default_factory=list)
    high_risk: list[str] = field(default_factory=list)
    stage: str = SCHEDULED


# References named per line of the email before "and N more".
MAX_NAMED = 50


def summarise(result: DigestResult, sheet: DigestSheet) -> None:
    result.total = sheet.total
    result.by_stage = sheet.by_stage
    result.by_region = sheet.by_region
    result.breached = sheet.breached
    result.high_risk = sheet.high_risk


def _named(references: list[str]) -> str:
    if not references:
        return "none"
    more = len(references) - MAX_NAMED
    return ", ".join(references[:MAX_NAMED]) + (f" and {more} more" if more > 0 else "")


def render(result: DigestResult, sheet: DigestSheet) -> str:
    title = (
        "Requirement tracking status (RQ-5)"
        if result.kind == WEEKLY
        else ("Monthly requirement tracking briefing (RQ-6)")
    )
    lines = [title, "", f"Requirements tracked: {result.total}", "", "By stage:"]
    lines += [f"  {stage:<20} {count}" for stage, count in result.by_stage.items()]
    lines += ["", "By region:"]
    lines += [f"  {region:<20} {count}" for region, count in result.by_region.items()]
    lines += ["", f"Feedback SLA breached: {_named(result.breached)}"]
    lines += [f"High completion risk: {_named(result.high_risk)}", ""]
    shortened = sheet.open_total > len(sheet.listed)
    most = f", the {len(sheet.listed)} most at risk" if shortened else ""
    lines.append(f"Open requirements: {sheet.open_total}{most}:")
    for row in sheet.listed:
        missing = ", ".join(row.missing_confirmations) or "none"
        lines.append(
            f"  {row.reference:<16} {row.hospital:<16} {row.stage:<18} risk {row.risk:<6} "
            f"deferred {row.syncs_deferred}  confirmations missing: {missing}"
        )
    if shortened:
        lines += [
            "",
            f"The other {sheet.open_total - len(sheet.listed)} are in the full tracking sheet "
            "(csd tracking-sheet, or the gateway's ExportRequirements).",
        ]
    return "\n".join(lines) + "\n"


@workflow.defn
class RequirementDigestWorkflow:
    """One digest: wait for its time, read the sheet, mail the summary."""

    def __init__(self) -> None:
        self._case: CaseFile[DigestResult] | None = None

    @workflow.run
    async def run(self, input: DigestInput) -> DigestResult:
        if input.kind not in RECIPIENTS:
            raise ApplicationError(
                f"digest kind is weekly or monthly, not {input.kind!r}",
                type="INVALID_ARGUMENT",
                non_retryable=True,
            )
        rule = RULE_OF[input.kind]
        what = "status" if input.kind == WEEKLY else "briefing"
        result = DigestResult(kind=input.kind)
        case = CaseFile(
            result,
            process=PROCESS,
            reference=workflow.info().workflow_id,
            summary=f"{rule} requirement {what} of {input.at[:10]}",
            subject=lambda tail: (
                f"[{rule}] requirement {what} {input.at[:10]}"
                + ("" if tail == what else f": {tail}")
            ),
            words=lambda stage: {
                SCHEDULED: f"The {input.kind} digest goes out {input.at}.",
                SENT: f"Sent: {result.total} requirements summarised.",
            }.get(stage, stage),
        )
        self._case = case
        case.open(region="department", rule_version=input.rule_version)
        at = datetime.fromisoformat(input.at)
        if at > workflow.now():
            await workflow.sleep(at - workflow.now())
        sheet = await workflow.execute_activity_method(
            RequirementSheetActivities.digest_sheet,
            DigestSheetInput(),
            start_to_close_timeout=retry_policies.NOTIFICATION_TIMEOUT * 4,
            retry_policy=retry_policies.DIRECTORY_LOOKUP,
        )
        summarise(result, sheet)
        to_roles, cc_roles = RECIPIENTS[input.kind]
        await case.email(
            "digest",
            Mail(
                to=await self._people(to_roles),
                cc=await self._people(cc_roles),
                what=what,
                body=render(result, sheet),
            ),
        )
        case.record("", SENT, f"{result.total} requirements")
        case.move_to(SENT)
        return result

    @workflow.query
    def status(self) -> DigestResult:
        return opened(self._case, "the digest").status

    async def _people(self, roles: tuple[str, ...]) -> list[Contact]:
        people: list[Contact] = []
        for role in roles:
            people += await people_in_role(role)
        return people
