"""What the requirement digests (RQ-5, RQ-6) summarise: every requirement's tracking row, read
from Temporal's visibility store (the memo RequirementWorkflow keeps current)."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field

from temporalio import activity
from temporalio.client import Client

from workflows.requirement import TRACKING_MEMO, TRACKING_QUERY


@dataclass
class TrackingRow:
    reference: str
    hospital: str
    region: str
    stage: str
    feedback_sla: str
    risk: str
    syncs_deferred: int = 0
    missing_confirmations: list[str] = field(default_factory=list)


# Stages after which a requirement is no longer tracked as open.
FINISHED_STAGES = ("closed", "refused", "declined")
_RISK_ORDER = {"high": 0, "medium": 1, "low": 2}


@dataclass
class DigestSheetInput:
    # Open requirements a digest names, most at risk first; the others are counted.
    listed: int = 200


@dataclass
class DigestSheet:
    """A digest's figures over the whole sheet, and the open requirements it names."""

    total: int
    by_stage: dict[str, int]
    by_region: dict[str, int]
    breached: list[str]
    high_risk: list[str]
    open_total: int
    listed: list[TrackingRow]


def digest_sheet_of(rows: Iterable[TrackingRow], listed: int) -> DigestSheet:
    """Statistics per stage and region, the breached and high-risk references, and the `listed`
    open requirements most at risk (by region and reference among equals)."""
    rows = list(rows)
    open_rows = sorted(
        (r for r in rows if r.stage not in FINISHED_STAGES),
        key=lambda r: (_RISK_ORDER.get(r.risk, len(_RISK_ORDER)), r.region, r.reference),
    )
    return DigestSheet(
        total=len(rows),
        by_stage=dict(sorted(Counter(r.stage for r in rows).items())),
        by_region=dict(sorted(Counter(r.region for r in rows).items())),
        breached=sorted(r.reference for r in rows if r.feedback_sla == "breached"),
        high_risk=sorted(r.reference for r in rows if r.risk == "high"),
        open_total=len(open_rows),
        listed=open_rows[:listed],
    )


class RequirementSheetActivities:
    """Reads the tracking sheet through the worker's Temporal client."""

    def __init__(self, client: Client) -> None:
        self._client = client

    @activity.defn(name="requirements.digest_sheet")
    async def digest_sheet(self, input: DigestSheetInput) -> DigestSheet:
        """The digest's figures over every requirement, summed here: a sheet of thousands of
        rows would not fit in an activity result, nor its listing in an email."""
        return digest_sheet_of([row async for row in self._rows()], input.listed)

    async def _rows(self) -> AsyncIterator[TrackingRow]:
        async for execution in self._client.list_workflows(TRACKING_QUERY, page_size=1000):
            memo = await execution.memo_value(TRACKING_MEMO, default=None)
            if isinstance(memo, dict):
                yield TrackingRow(
                    reference=str(memo.get("reference", "")),
                    hospital=str(memo.get("hospital", "")),
                    region=str(memo.get("region", "")),
                    stage=str(memo.get("stage", "")),
                    feedback_sla=str(memo.get("feedback_sla", "")),
                    risk=str(memo.get("risk", "")),
                    syncs_deferred=int(memo.get("syncs_deferred", 0)),
                    missing_confirmations=list(memo.get("missing_confirmations", [])),
                )
