"""Run the worker: `csd worker`. Registers every workflow and every activity."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import grpc
import structlog
from temporalio.client import Client
from temporalio.worker import Worker

from activities.attendance import AttendanceActivities
from activities.case_figures import CaseFigureActivities
from activities.communication_log import CommunicationLogActivities
from activities.finance import ClaimActivities, FinanceActivities
from activities.notify import NotifyActivities
from activities.requirements import RequirementSheetActivities
from activities.staff import (
    CalendarActivities,
    LeaveActivities,
    StaffActivities,
)
from services.runtime import temporal_client
from services.runtime.logging import configure_logging
from services.runtime.settings import Settings
from services.runtime.tls import FINANCE, NOTIFY, STAFF, TlsSettingsError, open_channel
from services.worker.case_gauges import CaseGauges
from services.worker.sandbox import SHARED
from services.worker.sandbox import runner as sandbox_runner
from services.worker.telemetry import metrics_runtime
from workflows import task_queues
from workflows.assistance import AssistanceWorkflow
from workflows.attendance_check import AttendanceCheckWorkflow
from workflows.cadence_planner import CadencePlannerWorkflow
from workflows.claim import ClaimWorkflow
from workflows.complaint import ComplaintWorkflow
from workflows.dismissal import DismissalWorkflow
from workflows.handover import HandoverWorkflow
from workflows.leave import LeaveWorkflow
from workflows.major_problem import MajorProblemWorkflow
from workflows.meeting import MeetingWorkflow
from workflows.missing_reports import MissingReportsWorkflow
from workflows.on_call_miss import OnCallMissWorkflow
from workflows.opportunity import OpportunityWorkflow
from workflows.penalty import PenaltyWorkflow
from workflows.pre_approval import PreApprovalWorkflow
from workflows.rate_adjustment import RateAdjustmentWorkflow
from workflows.requirement import RequirementWorkflow
from workflows.requirement_digest import RequirementDigestWorkflow
from workflows.salary_change import SalaryChangeWorkflow
from workflows.sales_log import SalesLogWorkflow
from workflows.satisfaction import SatisfactionSurveyWorkflow
from workflows.service_plan import ServicePlanWorkflow
from workflows.settlement import MonthlySettlementWorkflow
from workflows.spot_check import SpotCheckWorkflow
from workflows.weekly_report import WeeklyReportWorkflow

log = structlog.get_logger("csd.worker")

WORKFLOWS: Sequence[type] = (
    AssistanceWorkflow,
    AttendanceCheckWorkflow,
    CadencePlannerWorkflow,
    ClaimWorkflow,
    ComplaintWorkflow,
    DismissalWorkflow,
    HandoverWorkflow,
    LeaveWorkflow,
    MajorProblemWorkflow,
    MeetingWorkflow,
    MissingReportsWorkflow,
    MonthlySettlementWorkflow,
    OnCallMissWorkflow,
    OpportunityWorkflow,
    PenaltyWorkflow,
    PreApprovalWorkflow,
    RateAdjustmentWorkflow,
    RequirementDigestWorkflow,
    RequirementWorkflow,
    SalaryChangeWorkflow,
    SalesLogWorkflow,
    SatisfactionSurveyWorkflow,
    ServicePlanWorkflow,
    SpotCheckWorkflow,
    WeeklyReportWorkflow,
)

# A crashed worker's sticky cache is abandoned after this long and its workflows move to a new
# worker; the SDK default of 10 s makes recovery after a crash needlessly slow.
STICKY_QUEUE_TIMEOUT = timedelta(seconds=3)

# Workflows kept in memory between their tasks (CSD_WORKER_CACHED_WORKFLOWS). One not kept is
# rebuilt from its history when it wakes, which in a burst (1,000 clocks at one instant) doubled
# the worker's CPU and the dev server's reads; with the workflow modules shared
# (services/worker/sandbox.py) one kept costs tens of KiB, not the 0.3-0.75 MiB of an isolated
# sandbox, so the cache holds the largest burst a worker is expected to wake, with room for the
# other cases active meanwhile. Measured (bench/README.md): keeping 1,500 the burst of 1,000 is
# alerted with no rebuild (1.46x its floor, as with 2,000), and 10,000 open cost the worker
# 354 MiB of RSS beside 428 keeping 2,000.
MAX_CACHED_WORKFLOWS = 1500


def cached_workflows(settings: Settings) -> int:
    """CSD_WORKER_CACHED_WORKFLOWS, or MAX_CACHED_WORKFLOWS; SystemExit with what to set when it
    is not a whole number of at least 1."""
    given = settings.worker_cached_workflows
    if not given:
        return MAX_CACHED_WORKFLOWS
    if not given.isdigit() or int(given) < 1:
        raise SystemExit(
            f"CSD_WORKER_CACHED_WORKFLOWS={given!r} is not a whole number of workflows of at "
            f"least 1; set it to e.g. {MAX_CACHED_WORKFLOWS}, or leave it unset for that default"
        )
    return int(given)


def use_bytecode() -> None:
    """Let Python keep and reuse compiled modules even where PYTHONDONTWRITEBYTECODE is set.

    The sandbox imports a workflow's module afresh for every workflow it builds; without
    bytecode each of those imports compiles the source again, measured at a sixth of the
    worker's CPU with thousands of workflows open."""
    sys.dont_write_bytecode = False


def activities_for(
    *,
    staff: grpc.aio.Channel,
    finance: grpc.aio.Channel,
    notify: grpc.aio.Channel,
    client: Client | None = None,
) -> list[Any]:
    """Every activity, bound to the service channels it calls (and Temporal, for the ones that
    read the tracking sheet from its visibility store)."""
    staff_activities = StaffActivities(staff)
    notify_activities = NotifyActivities(notify)
    finance_activities = FinanceActivities(finance)
    leave_activities = LeaveActivities(staff)
    calendar_activities = CalendarActivities(staff)
    attendance_activities = AttendanceActivities(staff)
    claim_activities = ClaimActivities(finance)
    communication_log_activities = CommunicationLogActivities(staff)
    # The ones that read Temporal's visibility store need its client.
    visibility: list[Any] = []
    if client is not None:
        figures = CaseFigureActivities(client)
        visibility = [
            RequirementSheetActivities(client).digest_sheet,
            figures.case_figures,
            figures.region_visits,
        ]
    return [
        claim_activities.audit_claim,
        claim_activities.record_claim_usage,
        attendance_activities.open_missing_reports,
        attendance_activities.missing_reports,
        attendance_activities.record_absence,
        attendance_activities.count_absence,
        staff_activities.get_contact,
        staff_activities.resolve_assistance_route,
        notify_activities.send_email,
        notify_activities.place_call,
        notify_activities.send_alert,
        finance_activities.record_entry,
        finance_activities.record_pre_approval,
        finance_activities.lookup_rate,
        finance_activities.record_salary,
        finance_activities.settle_month,
        finance_activities.record_rate_adjustment,
        leave_activities.count_leave,
        leave_activities.resolve_leave_approval,
        leave_activities.record_leave,
        leave_activities.cancel_leave_record,
        staff_activities.resolve_major_problem_recipients,
        staff_activities.payroll,
        staff_activities.projects_under_maintenance,
        communication_log_activities.append_to_log,
        communication_log_activities.region_log_bundle,
        calendar_activities.add_working_time,
        calendar_activities.people_in_role,
        calendar_activities.leave_deadlines,
        calendar_activities.next_occurrence,
        calendar_activities.shift_working_days,
        *visibility,
    ]


def build_worker(
    client: Client,
    *,
    staff: grpc.aio.Channel,
    finance: grpc.aio.Channel,
    notify: grpc.aio.Channel,
    task_queue: str = task_queues.MAIN,
    extra_workflows: Sequence[type] = (),
    cached_workflows: int = MAX_CACHED_WORKFLOWS,
) -> Worker:
    """The worker for `task_queue`, ready to `run()`; `extra_workflows` beside csd-ops's own
    (the benchmarks' probes run on the production worker's settings this way)."""
    use_bytecode()
    workflows = [*WORKFLOWS, *extra_workflows]
    return Worker(
        client,
        task_queue=task_queue,
        workflows=workflows,
        workflow_runner=sandbox_runner(SHARED, workflows),
        activities=activities_for(staff=staff, finance=finance, notify=notify, client=client),
        sticky_queue_schedule_to_start_timeout=STICKY_QUEUE_TIMEOUT,
        max_cached_workflows=cached_workflows,
        graceful_shutdown_timeout=timedelta(seconds=5),
    )


async def run(settings: Settings) -> None:
    configure_logging("worker")
    cache = cached_workflows(settings)
    # The SDK's metrics and the case gauges, served at CSD_METRICS_ADDRESS.
    runtime = metrics_runtime(settings.metrics_address)
    client = await temporal_client.connect(settings, runtime=runtime)
    # The worker proves it is the worker part to each service (mutual TLS, CSD_TLS_*).
    try:
        tls = settings.tls()
    except TlsSettingsError as err:
        raise SystemExit(str(err)) from None
    async with (
        open_channel(settings.staff_address, to=STAFF, tls=tls) as staff,
        open_channel(settings.finance_address, to=FINANCE, tls=tls) as finance,
        open_channel(settings.notify_address, to=NOTIFY, tls=tls) as notify,
    ):
        worker = build_worker(
            client,
            staff=staff,
            finance=finance,
            notify=notify,
            cached_workflows=cache,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        gauges = (
            asyncio.create_task(CaseGauges(runtime.metric_meter).run(client))
            if runtime is not None and settings.case_gauges
            else None
        )
        async with worker:
            log.info(
                "worker polling",
                task_queue=task_queues.MAIN,
                temporal=settings.temporal_address,
                metrics=settings.metrics_address or None,
                cached_workflows=cache,
            )
            await stop.wait()
            log.info("worker shutting down")
            if gauges is not None:
                gauges.cancel()
    log.info("worker stopped")


if __name__ == "__main__":
    asyncio.run(run(Settings.from_env()))
