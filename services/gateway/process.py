"""What every process's part of the gateway holds."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from csd.finance.v1 import finance_pb2, finance_pb2_grpc
from csd.staff.v1 import staff_pb2, staff_pb2_grpc
from temporalio.client import Client, WorkflowHandle

from services.gateway.directory import LOOKUP_DEADLINE_SECONDS, ask_staff
from services.gateway.identity import Caller
from services.gateway.relay import relayed
from services.gateway.workflow_errors import TEMPORAL_TIMEOUT, workflow_call
from services.runtime.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from services.runtime.read_cache import ReadCache
from services.runtime.validation import require_id
from workflows import search_attributes, task_queues

StatusT = TypeVar("StatusT")

# How long the gateway trusts the directory's word that a region exists: a case's start then
# costs one staff round trip fewer (issue 16). Regions are added and retired by the department,
# not by the minute; a region unknown to the directory is asked about again every time.
REGION_TTL_SECONDS = 5.0


class ProcessGateway:
    """Temporal, the staff directory, the task queue work goes to, and how long a caller waits."""

    def __init__(
        self,
        client: Client,
        staff: staff_pb2_grpc.StaffServiceStub,
        *,
        task_queue: str = task_queues.MAIN,
        temporal_timeout: timedelta = TEMPORAL_TIMEOUT,
    ) -> None:
        self._client = client
        self._staff = staff
        self._task_queue = task_queue
        self._timeout = temporal_timeout
        self._regions = ReadCache(ttl_seconds=REGION_TTL_SECONDS, max_entries=1_000)

    async def _region(self, requested: str, caller: Caller) -> str:
        """The region a case belongs to: the one named, or the caller's; it must exist."""
        region = requested or caller.region_code
        if not region:
            raise InvalidArgument("region_code is required: you belong to no region")

        async def confirm() -> staff_pb2.Region:
            answer: staff_pb2.Region = await ask_staff(
                self._staff.GetRegion(
                    staff_pb2.GetRegionRequest(code=region), timeout=LOOKUP_DEADLINE_SECONDS
                ),
                purpose="confirm the region",
                missing=NotFound(f"region {region!r} does not exist"),
            )
            return answer

        await self._regions.read(region, confirm)
        return region

    async def _project(self, code: str) -> staff_pb2.Project:
        """A hospital project under maintenance, from the directory; NOT_FOUND if none."""
        require_id(code, "project_code")
        projects: staff_pb2.ListProjectsResponse = await ask_staff(
            self._staff.ListProjects(
                staff_pb2.ListProjectsRequest(), timeout=LOOKUP_DEADLINE_SECONDS
            ),
            purpose="find the project",
        )
        for project in projects.projects:
            if project.code == code:
                return project
        raise NotFound(f"project {code!r} is not a hospital project under maintenance")

    async def _updated(
        self, handle: WorkflowHandle[Any, StatusT], update: Any, arg: Any, *, what: str
    ) -> StatusT:
        """Run the Update `update(arg)` on the case and return its status; its validator's
        refusal, a missing case and an outage reach the caller as workflow_call words them."""
        status: StatusT = await workflow_call(
            handle.execute_update(update, arg, rpc_timeout=self._timeout),
            what=what,
            give_up_after=self._timeout,
            handle=handle,
        )
        return status

    async def _region_cases(
        self,
        process: str,
        region: str,
        status: Callable[[Any], StatusT],
        *,
        what: str,
        running_only: bool = False,
        named: Callable[[str], bool] = lambda _workflow_id: True,
        keep: Callable[[StatusT], bool] = lambda _status: True,
        limit: int = 1000,
    ) -> list[StatusT]:
        """The statuses of a region's cases of `process`, found by the case file's search
        attributes in Temporal's visibility store (those whose workflow id passes `named`), each
        asked with the `status` query, and those `keep` keeps, up to `limit`. `region` must come
        from the directory (`_region`): it is quoted into the query as it is."""
        query = (
            f"{search_attributes.PROCESS.name} = '{process}' AND "
            f"{search_attributes.REGION.name} = '{region}'"
            + (" AND ExecutionStatus = 'Running'" if running_only else "")
        )
        found: list[StatusT] = []

        async def collect() -> None:
            async for execution in self._client.list_workflows(query, page_size=100):
                if not named(execution.id):
                    continue
                answer = await self._client.get_workflow_handle(execution.id).query(status)
                if keep(answer):
                    found.append(answer)
                if len(found) >= limit:
                    return

        await workflow_call(collect(), what=what, give_up_after=self._timeout * 3)
        return found

    async def _read(
        self,
        handle: WorkflowHandle[Any, StatusT],
        query: Callable[[Any], StatusT],
        caller: Caller,
        *,
        what: str,
        may_read: Callable[[StatusT, Caller], bool],
        readers: str,
    ) -> StatusT:
        """The case's status, for a caller its workflow's `may_read` admits; anyone else is
        PERMISSION_DENIED, told who `readers` are."""
        status: StatusT = await workflow_call(
            handle.query(query, rpc_timeout=self._timeout),
            what=what,
            give_up_after=self._timeout,
            handle=handle,
        )
        if not may_read(status, caller):
            raise PermissionDenied(f"{caller.id} may not read {what}: {readers}")
        return status

    async def _head_office(self) -> str:
        """Department-wide staff are booked to the head office region: ACC-1 keeps every fine
        in some region's ledger."""
        regions: staff_pb2.ListRegionsResponse = await ask_staff(
            self._staff.ListRegions(
                staff_pb2.ListRegionsRequest(), timeout=LOOKUP_DEADLINE_SECONDS
            ),
            purpose="find the head office to book the fine to",
        )
        for region in regions.regions:
            if region.tier == staff_pb2.REGION_TIER_HEAD_OFFICE:
                return str(region.code)
        raise FailedPrecondition("no head office region exists to book the fine to")


class FinanceProcessGateway(ProcessGateway):
    """A process whose cases change what a person's month pays (claims, disputed rates): it
    asks finance too, first of all whether the month is settled (PAY-2), which fixes it."""

    def __init__(
        self,
        client: Client,
        staff: staff_pb2_grpc.StaffServiceStub,
        finance: finance_pb2_grpc.FinanceServiceStub,
        *,
        task_queue: str = task_queues.MAIN,
        temporal_timeout: timedelta = TEMPORAL_TIMEOUT,
    ) -> None:
        super().__init__(client, staff, task_queue=task_queue, temporal_timeout=temporal_timeout)
        self._finance = finance

    async def _refuse_if_settled(self, person_id: str, month: str, *, why: str) -> None:
        """FAILED_PRECONDITION naming the settlement when `month` is settled for `person_id`;
        `why` says what a settled month rules out, with its rule."""
        settled = await relayed(
            self._finance.ListSettlements(
                finance_pb2.ListSettlementsRequest(person_id=person_id, month=month),
                timeout=LOOKUP_DEADLINE_SECONDS,
            ),
            service="finance",
            purpose="say whether the month is settled",
        )
        if settled.settlements:
            day = settled.settlements[0].settled_at[:10]
            raise FailedPrecondition(f"{person_id}'s {month} was settled on {day}: {why}")
