"""The department's calendar as Temporal Schedules: one per cadence (per region where the rule is
regional), each waking its planner every morning (workflows/cadence_planner.py; the monthly
settlement of PAY-2 among them), and per region the AT-2 check for missing daily reports
(workflows/attendance_check.py).

`sync_schedules` creates what is missing and updates what exists, so running it again (every
`csd dev` does) leaves exactly one schedule per cadence and region. They are visible, pausable
and triggerable in the Web UI and with `temporal schedule`.
"""

from __future__ import annotations

from dataclasses import dataclass

from csd.staff.v1 import staff_pb2, staff_pb2_grpc
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from services.cli.credentials import operator_tls
from services.runtime import temporal_client
from services.runtime.settings import Settings
from services.runtime.tls import STAFF, TlsFiles, open_channel
from workflows import task_queues
from workflows.attendance_check import AttendanceCheckInput, AttendanceCheckWorkflow
from workflows.cadence_planner import CadencePlannerWorkflow, PlanInput

PREFIX = "csd-"
ATTENDANCE_CHECK = "at2-attendance-check"
PLANNING_TIME = (0, 5)  # 00:05 Asia/Shanghai, every day

DESCRIPTIONS = {
    "mt1-regional-monthly": "MT-1 regional monthly summary: last Thursday of the month 14:00",
    "mt2-regional-quarterly": "MT-2 regional quarterly summary: the 2nd after each quarter",
    "mt3-customer-analysis": "MT-3 department customer analysis meeting: Wednesdays 19:00",
    "wr2-regional-weekly-report-due": "WR-1..WR-4 weekly reports: due Sunday, tallied Monday",
    "rq5-requirement-status-email": "RQ-5 requirement status email: Fridays 16:00",
    "rq6-requirement-monthly-briefing": "RQ-6 requirement briefing: first working day 10:00",
    "pay2-monthly-settlement": "PAY-2 monthly settlement of the month before: the 5th 10:00",
    "cs2-satisfaction-survey": "CS-2 satisfaction surveys of every hospital: quarterly",
    ATTENDANCE_CHECK: "AT-2 missing daily reports: checked every morning",
}
REGIONAL = (
    "mt1-regional-monthly",
    "mt2-regional-quarterly",
    "wr2-regional-weekly-report-due",
    ATTENDANCE_CHECK,
)
# After the night's planning, before the working day: yesterday's reports are due by then.
CHECK_TIME = (8, 30)


@dataclass(frozen=True)
class Plan:
    schedule_id: str
    cadence: str
    region_code: str = ""


async def regions_with_teams(staff_address: str, tls: TlsFiles | None = None) -> list[str]:
    """Regions that have a technical service manager: the ones that meet and report."""
    async with open_channel(staff_address, to=STAFF, tls=tls) as channel:
        stub = staff_pb2_grpc.StaffServiceStub(channel)
        people = await stub.ListPeople(
            staff_pb2.ListPeopleRequest(role=staff_pb2.ROLE_TECHNICAL_SERVICE_MANAGER), timeout=5
        )
    return sorted({p.region_code for p in people.people if p.region_code})


def plans(regions: list[str]) -> list[Plan]:
    result = []
    for cadence in DESCRIPTIONS:
        if cadence in REGIONAL:
            result += [Plan(f"{PREFIX}{cadence}-{r}", cadence, r) for r in regions]
        else:
            result.append(Plan(f"{PREFIX}{cadence}", cadence))
    return result


def schedule_for(plan: Plan, task_queue: str) -> Schedule:
    scope = f" ({plan.region_code})" if plan.region_code else ""
    action: ScheduleActionStartWorkflow
    if plan.cadence == ATTENDANCE_CHECK:
        hour, minute = CHECK_TIME
        action = ScheduleActionStartWorkflow(
            AttendanceCheckWorkflow.run,
            AttendanceCheckInput(plan.region_code),
            id=f"at2-check-{plan.region_code}",
            task_queue=task_queue,
        )
    else:
        hour, minute = PLANNING_TIME
        action = ScheduleActionStartWorkflow(
            CadencePlannerWorkflow.run,
            PlanInput(cadence=plan.cadence, region_code=plan.region_code),
            id=f"plan-{plan.schedule_id.removeprefix(PREFIX)}",
            task_queue=task_queue,
        )
    return Schedule(
        action=action,
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(hour=[ScheduleRange(hour)], minute=[ScheduleRange(minute)])
            ],
            time_zone_name="Asia/Shanghai",
        ),
        state=ScheduleState(
            note=f"{DESCRIPTIONS[plan.cadence]}{scope}"
            + ("" if plan.cadence == ATTENDANCE_CHECK else "; plans it daily")
        ),
    )


async def sync_department_calendar(settings: Settings) -> list[str]:
    """Connect to Temporal and the staff service of `settings` and sync every schedule."""
    client = await temporal_client.connect(settings)
    regions = await regions_with_teams(settings.staff_address, operator_tls(settings))
    return await sync_schedules(client, regions)


async def sync_schedules(
    client: Client, regions: list[str], *, task_queue: str = task_queues.MAIN
) -> list[str]:
    """Create or update every schedule; returns their ids."""
    ids = []
    for plan in plans(regions):
        schedule = schedule_for(plan, task_queue)
        try:
            await client.create_schedule(plan.schedule_id, schedule, trigger_immediately=True)
        except ScheduleAlreadyRunningError:

            def replace(current: ScheduleUpdateInput, new: Schedule = schedule) -> ScheduleUpdate:
                # An operator's pause survives the sync.
                new.state.paused = current.description.schedule.state.paused
                return ScheduleUpdate(schedule=new)

            await client.get_schedule_handle(plan.schedule_id).update(replace)
        ids.append(plan.schedule_id)
    return ids
