"""What the requirement digests (RQ-5, RQ-6) summarise: every requirement's tracking row, read
from Temporal's visibility store (the memo RequirementWorkflow keeps current)."""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio import activity
from temporalio.client import Client

from workflows.requirement import PROCESS, TRACKING_MEMO


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


@dataclass
class TrackingSheetInput:
    limit: int = 5000


class RequirementSheetActivities:
    """Reads the tracking sheet through the worker's Temporal client."""

    def __init__(self, client: Client) -> None:
        self._client = client

    @activity.defn(name="requirements.tracking_sheet")
    async def tracking_sheet(self, input: TrackingSheetInput) -> list[TrackingRow]:
        rows: list[TrackingRow] = []
        query = f"CsdProcess = '{PROCESS}'"
        async for execution in self._client.list_workflows(query, page_size=1000):
            memo = await execution.memo_value(TRACKING_MEMO, default=None)
            if isinstance(memo, dict):
                rows.append(
                    TrackingRow(
                        reference=str(memo.get("reference", "")),
                        hospital=str(memo.get("hospital", "")),
                        region=str(memo.get("region", "")),
                        stage=str(memo.get("stage", "")),
                        feedback_sla=str(memo.get("feedback_sla", "")),
                        risk=str(memo.get("risk", "")),
                        syncs_deferred=int(memo.get("syncs_deferred", 0)),
                        missing_confirmations=list(memo.get("missing_confirmations", [])),
                    )
                )
            if len(rows) >= input.limit:
                break
        return rows
