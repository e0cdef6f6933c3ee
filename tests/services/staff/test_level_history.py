"""ORG-3 on SQLite and PostgreSQL: every level, track and role a person has had is kept with
when and who changed it, from the day they joined; an upsert that changes none of them adds
nothing; no promotion rule is applied (the source defines none)."""

from __future__ import annotations

import grpc
import pytest
from csd.staff.v1 import staff_pb2 as S
from csd.staff.v1.staff_pb2_grpc import StaffServiceStub

from tests.services.staff.test_staff_service import _person


def _changes(history: S.PersonHistory) -> list[tuple[str, str, str, str]]:
    return [(c.field, getattr(c, "from"), c.to, c.changed_by) for c in history.changes]


async def test_each_change_is_kept_with_who_made_it(demo_staff_stub: StaffServiceStub) -> None:
    await demo_staff_stub.UpsertPerson(
        S.UpsertPersonRequest(idempotency_key="hire", person=_person("new.engineer", level=3))
    )
    await demo_staff_stub.UpsertPerson(
        S.UpsertPersonRequest(
            idempotency_key="promote",
            person=_person("new.engineer", level=4),
            changed_by="jiang.chengzhao",
        )
    )
    # A change of phone is no change of level, track or role.
    await demo_staff_stub.UpsertPerson(
        S.UpsertPersonRequest(
            idempotency_key="phone", person=_person("new.engineer", level=4, phone="+86-1")
        )
    )
    await demo_staff_stub.UpsertPerson(
        S.UpsertPersonRequest(
            idempotency_key="to-manager",
            person=_person("new.engineer", level=9, role=S.ROLE_TECHNICAL_SERVICE_MANAGER),
            changed_by="huang.aiping",
        )
    )
    history = await demo_staff_stub.GetPersonHistory(
        S.GetPersonHistoryRequest(person_id="new.engineer")
    )
    assert _changes(history) == [
        ("role", "", "technical_service_engineer", "directory-admin"),
        ("track", "", "technical_service", "directory-admin"),
        ("level", "", "3", "directory-admin"),
        ("level", "3", "4", "jiang.chengzhao"),
        ("role", "technical_service_engineer", "technical_service_manager", "huang.aiping"),
        ("level", "4", "9", "huang.aiping"),
    ]
    assert all(c.at.endswith("Z") for c in history.changes)


async def test_nobody_has_no_history(demo_staff_stub: StaffServiceStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await demo_staff_stub.GetPersonHistory(S.GetPersonHistoryRequest(person_id="nobody"))
    assert err.value.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION)
