"""What the routine summaries read from the cases themselves (MT-1..MT-3, WR-3, WR-4 with
CS-1, CS-2, SV-1).

The figures: counted in Temporal's visibility store by the case file's search attributes, per
region the complaints open and those registered in the period, the dissatisfied hospitals still
to follow up, and the service plans with a visit missed. The visits: a region's planned service
visits of a period, read from its service plans' status.

A server without a visibility store (the time-skipping test server) cannot count or list: the
answer then says so, and the mail goes out without them.
"""

# No `from __future__ import annotations`: these dataclasses reach workflow code through
# workflows/figures.py, and inside the sandbox the SDK resolves string annotations against the
# sandbox's own module table, where this module is not listed (NameError on decoding).
from dataclasses import dataclass, field

from temporalio import activity
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from workflows import search_attributes
from workflows.complaint import PROCESS as COMPLAINT
from workflows.satisfaction import FOLLOW_UP
from workflows.satisfaction import PROCESS as SURVEY
from workflows.service_plan import PROCESS as SERVICE_PLAN
from workflows.service_plan import ServicePlanStatus

_PROCESS, _REGION = search_attributes.PROCESS.name, search_attributes.REGION.name
_STAGE, _SLA = search_attributes.STAGE.name, search_attributes.SLA_STATE.name
_RUNNING = "ExecutionStatus = 'Running'"


@dataclass
class FiguresInput:
    regions: list[str]
    since: str  # RFC 3339: the period the "registered since" figures count from


@dataclass
class RegionFigures:
    region_code: str
    open_complaints: int
    complaints_since: int
    follow_ups_open: int
    plans_with_missed_visits: int


@dataclass
class FiguresResult:
    available: bool
    regions: list[RegionFigures] = field(default_factory=list)


@dataclass
class RegionVisitsInput:
    region_code: str
    first: str  # YYYY-MM-DD
    last: str


@dataclass
class VisitLine:
    day: str
    project_code: str
    kind: str
    state: str  # planned (not recorded yet) or done
    findings: str


@dataclass
class RegionVisits:
    available: bool
    visits: list[VisitLine] = field(default_factory=list)


class CaseFigureActivities:
    def __init__(self, client: Client) -> None:
        self._client = client

    async def _count(self, *clauses: str) -> int:
        answer = await self._client.count_workflows(" AND ".join(clauses))
        return answer.count

    @activity.defn(name="temporal.case_figures")
    async def case_figures(self, input: FiguresInput) -> FiguresResult:
        figures = []
        try:
            for region in input.regions:
                # Region codes come from the directory: plain, safe to quote.
                where = f"{_REGION} = '{region}'"
                figures.append(
                    RegionFigures(
                        region,
                        await self._count(f"{_PROCESS} = '{COMPLAINT}'", where, _RUNNING),
                        await self._count(
                            f"{_PROCESS} = '{COMPLAINT}'", where, f"StartTime >= '{input.since}'"
                        ),
                        await self._count(
                            f"{_PROCESS} = '{SURVEY}'", where, f"{_STAGE} = '{FOLLOW_UP}'"
                        ),
                        await self._count(
                            f"{_PROCESS} = '{SERVICE_PLAN}'",
                            where,
                            f"{_SLA} = 'breached'",
                            _RUNNING,
                        ),
                    )
                )
        except RPCError as err:
            if err.status == RPCStatusCode.UNIMPLEMENTED:
                return FiguresResult(available=False)
            raise
        return FiguresResult(available=True, regions=figures)

    @activity.defn(name="temporal.region_visits")
    async def region_visits(self, input: RegionVisitsInput) -> RegionVisits:
        """SV-1's records as WR-3 sends them: the region's planned visits of the period, read
        from its service plans' status."""
        query = f"{_PROCESS} = '{SERVICE_PLAN}' AND {_REGION} = '{input.region_code}'"
        lines = []
        try:
            async for execution in self._client.list_workflows(query, page_size=100):
                status = await self._client.get_workflow_handle(execution.id).query(
                    "status", result_type=ServicePlanStatus
                )
                lines += [
                    VisitLine(v.day, status.project_code, status.kind, v.state, v.findings)
                    for v in status.visits
                    if input.first <= v.day <= input.last
                ]
        except RPCError as err:
            if err.status == RPCStatusCode.UNIMPLEMENTED:
                return RegionVisits(available=False)
            raise
        return RegionVisits(True, sorted(lines, key=lambda v: (v.day, v.project_code)))
