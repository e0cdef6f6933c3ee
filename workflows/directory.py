"""Workflow-side lookups in the staff directory: who holds a role, through the one activity."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.staff import CalendarActivities, Contact, RoleInput
    from workflows.lookups import lookup


async def people_in_role(role: str, region_code: str = "") -> list[Contact]:
    """Everyone active in `role` (in `region_code`, when given), as of now."""
    return await lookup(
        CalendarActivities.people_in_role,
        RoleInput(role=role, region_code=region_code),
    )
