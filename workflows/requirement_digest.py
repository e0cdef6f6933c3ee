"""The senior support engineer's requirement digests: every Friday the status email to the field,
the department managers and the team lead (RQ-5), and at the start of each month the briefing to
the company (RQ-6) — progress, completion risk, SLA breaches and statistics per region."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.notify import EmailInput, NotifyActivities
    from activities.requirements import (
        RequirementSheetActivities,
        TrackingRow,
        TrackingSheetInput,
    )
    from activities.staff import Contact
    from workflows import retry_policies, search_attributes
    from workflows.directory import people_in_role

PROCESS = "requirement_digest"
WEEKLY, MONTHLY = "weekly", "monthly"
# RQ-5: the field, the department managers and the team lead; RQ-6: the company.
RECIPIENTS = {
    WEEKLY: (("technical_service_manager", "technical_service_engineer"),
             ("department_manager", "technical_service_team_lead")),
    MONTHLY: (("department_manager",),
              ("technical_service_team_lead", "rnd_lead", "quality_office")),
}  # fmt: skip


def workflow_id(kind: str, day: str) -> str:
    return f"requirement-digest-{kind}-{day}"


@dataclass
class DigestInput:
    kind: str  # weekly (RQ-5) or monthly (RQ-6)
    at: str  # RFC 3339: when it goes out
    rule_version: str


@dataclass
class DigestResult:
    kind: str
    total: int
    by_stage: dict[str, int] = field(default_factory=dict)
    by_region: dict[str, int] = field(default_factory=dict)
    breached: list[str] = field(default_factory=list)
    high_risk: list[str] = field(default_factory=list)


def summarise(kind: str, rows: list[TrackingRow]) -> DigestResult:
    """Progress and completion risk per requirement, statistics per stage and region."""
    return DigestResult(
        kind=kind,
        total=len(rows),
        by_stage=dict(sorted(Counter(r.stage for r in rows).items())),
        by_region=dict(sorted(Counter(r.region for r in rows).items())),
        breached=sorted(r.reference for r in rows if r.feedback_sla == "breached"),
        high_risk=sorted(r.reference for r in rows if r.risk == "high"),
    )


def render(result: DigestResult, rows: list[TrackingRow]) -> str:
    title = (
        "Requirement tracking status (RQ-5)"
        if result.kind == WEEKLY
        else ("Monthly requirement tracking briefing (RQ-6)")
    )
    lines = [title, "", f"Requirements tracked: {result.total}", "", "By stage:"]
    lines += [f"  {stage:<20} {count}" for stage, count in result.by_stage.items()]
    lines += ["", "By region:"]
    lines += [f"  {region:<20} {count}" for region, count in result.by_region.items()]
    lines += ["", f"Feedback SLA breached: {', '.join(result.breached) or 'none'}"]
    lines += [
        f"High completion risk: {', '.join(result.high_risk) or 'none'}",
        "",
        "Open requirements:",
    ]
    for row in sorted(rows, key=lambda r: (r.region, r.reference)):
        if row.stage in ("closed", "refused", "declined"):
            continue
        missing = ", ".join(row.missing_confirmations) or "none"
        lines.append(
            f"  {row.reference:<16} {row.hospital:<16} {row.stage:<18} risk {row.risk:<6} "
            f"deferred {row.syncs_deferred}  confirmations missing: {missing}"
        )
    return "\n".join(lines) + "\n"


@workflow.defn
class RequirementDigestWorkflow:
    """One digest: wait for its time, read the sheet, mail the summary."""

    @workflow.run
    async def run(self, input: DigestInput) -> DigestResult:
        if input.kind not in RECIPIENTS:
            raise ApplicationError(
                f"digest kind is weekly or monthly, not {input.kind!r}",
                type="INVALID_ARGUMENT",
                non_retryable=True,
            )
        workflow.upsert_search_attributes(
            [
                search_attributes.PROCESS.value_set(PROCESS),
                search_attributes.STAGE.value_set("scheduled"),
                search_attributes.RULE_VERSION.value_set(input.rule_version),
            ]
        )
        at = datetime.fromisoformat(input.at)
        workflow.set_current_details(f"The {input.kind} digest goes out {input.at}.")
        if at > workflow.now():
            await workflow.sleep(at - workflow.now())
        rows = await workflow.execute_activity_method(
            RequirementSheetActivities.tracking_sheet,
            TrackingSheetInput(),
            start_to_close_timeout=retry_policies.NOTIFICATION_TIMEOUT * 4,
            retry_policy=retry_policies.DIRECTORY_LOOKUP,
        )
        result = summarise(input.kind, rows)
        to_roles, cc_roles = RECIPIENTS[input.kind]
        to = await self._people(to_roles)
        cc = await self._people(cc_roles)
        recipients = {c.email for c in to}
        await workflow.execute_activity_method(
            NotifyActivities.send_email,
            EmailInput(
                idempotency_key=f"{workflow.info().workflow_id}:digest",
                to=sorted(recipients),
                cc=sorted({c.email for c in cc} - recipients),
                subject=f"[{'RQ-5' if input.kind == WEEKLY else 'RQ-6'}] requirement "
                f"{'status' if input.kind == WEEKLY else 'briefing'} {input.at[:10]}",
                body=render(result, rows),
                reference=workflow.info().workflow_id,
            ),
            start_to_close_timeout=retry_policies.NOTIFICATION_TIMEOUT,
            retry_policy=retry_policies.NOTIFICATION,
        )
        workflow.upsert_search_attributes([search_attributes.STAGE.value_set("sent")])
        workflow.set_current_details(f"Sent: {result.total} requirements summarised.")
        return result

    async def _people(self, roles: tuple[str, ...]) -> list[Contact]:
        people: list[Contact] = []
        for role in roles:
            people += await people_in_role(role)
        return people
