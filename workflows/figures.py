"""The figures the department's routine summaries start from, per region (CS-1, CS-2, SV-1):
complaints open and registered in the last 31 days, dissatisfied hospitals still to follow up,
service plans with a missed visit. Counted by an activity in Temporal's visibility store; a
server without one says so in the lines instead."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.case_figures import CaseFigureActivities, FiguresInput
    from workflows import retry_policies

PERIOD = timedelta(days=31)


async def region_figures(regions: list[str]) -> list[str]:
    """One line per region, as a person reads it in an invitation or a tally."""
    counted = await workflow.execute_activity_method(
        CaseFigureActivities.case_figures,
        FiguresInput(regions, (workflow.now() - PERIOD).isoformat()),
        start_to_close_timeout=retry_policies.DIRECTORY_LOOKUP_TIMEOUT,
        retry_policy=retry_policies.DIRECTORY_LOOKUP,
    )
    if not counted.available:
        return ["(no figures: this Temporal server keeps no visibility store to count in)"]
    return [
        f"{f.region_code}: {f.open_complaints} complaint(s) open, {f.complaints_since} "
        f"registered in the last {PERIOD.days} days; {f.follow_ups_open} dissatisfied "
        f"hospital(s) to follow up; {f.plans_with_missed_visits} service plan(s) with a missed "
        "visit"
        for f in counted.regions
    ]
