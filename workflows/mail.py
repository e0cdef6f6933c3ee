"""Mail from workflow code: one email activity call, addressed to people, idempotent by key."""

from __future__ import annotations

from collections.abc import Sequence

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.notify import EmailInput, NotifyActivities
    from activities.staff import Contact
    from workflows import retry_policies


async def send_email(
    *, key: str, to: Sequence[Contact], cc: Sequence[Contact], subject: str, body: str
) -> None:
    """Mail `to`, copying `cc` (less anyone already in `to`); nothing when `to` is empty."""
    recipients = {c.email for c in to}
    if not recipients:
        return
    await workflow.execute_activity_method(
        NotifyActivities.send_email,
        EmailInput(
            idempotency_key=key,
            to=sorted(recipients),
            cc=sorted({c.email for c in cc} - recipients),
            subject=subject,
            body=body,
            reference=workflow.info().workflow_id,
        ),
        start_to_close_timeout=retry_policies.NOTIFICATION_TIMEOUT,
        retry_policy=retry_policies.NOTIFICATION,
    )
