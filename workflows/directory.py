"""Workflow-side lookups in the staff directory: who holds a role, through the one activity."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.staff import CalendarActivities, Contact, RoleInput
    from workflows import retry_policies


async def people_in_role(role: str, region_code: str = "") -> list[Contact]:
    """Everyone active in `role` (in `region_code`, when given), as of now."""
    return await workflow.execute_activity_method(
        CalendarActivities.people_in_role,
        RoleInput(role=role, region_code=region_code),
        start_to_close_timeout=retry_policies.DIRECTORY_LOOKUP_TIMEOUT,
        retry_policy=retry_policies.DIRECTORY_LOOKUP,
    )
