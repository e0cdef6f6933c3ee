"""The department calendar's schedules: created once, updated in place, an operator's pause kept."""

from __future__ import annotations

from temporalio.testing import WorkflowEnvironment

from services.cli.schedules import PREFIX, plans, sync_schedules


async def test_syncing_twice_leaves_one_schedule_each_and_keeps_a_pause(
    dev_server_env: WorkflowEnvironment, task_queue: str
) -> None:
    client = dev_server_env.client
    regions = ["east", "north"]
    ids = await sync_schedules(client, regions, task_queue=task_queue)
    expected = sorted(p.schedule_id for p in plans(regions))
    assert sorted(ids) == expected
    await client.get_schedule_handle(f"{PREFIX}mt3-customer-analysis").pause(note="holiday week")
    again = await sync_schedules(client, regions, task_queue=task_queue)
    assert sorted(again) == expected
    listed = sorted([s.id async for s in await client.list_schedules() if s.id.startswith(PREFIX)])
    assert listed == expected  # no duplicates
    described = await client.get_schedule_handle(f"{PREFIX}mt3-customer-analysis").describe()
    assert described.schedule.state.paused
    assert described.schedule.spec.time_zone_name == "Asia/Shanghai"
    for schedule_id in listed:
        await client.get_schedule_handle(schedule_id).delete()
