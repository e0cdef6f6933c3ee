"""No float anywhere in money (issue 13): every amount is whole fen on the wire, in the workflows
and activities, in the databases, and a fraction that arrives anyway is refused, never rounded.

The checks walk every message, dataclass and column, so a money field added later is held to the
same rule without anyone remembering this file.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import types
import typing
from decimal import Decimal

import pytest
from csd.finance.v1 import finance_pb2
from csd.gateway.v1 import gateway_pb2
from csd.notify.v1 import notify_pb2
from csd.staff.v1 import staff_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from sqlalchemy import Integer

import activities
import workflows
from services.finance.models import Base as FinanceBase
from services.runtime.temporal_client import data_converter
from services.staff.models import Base as StaffBase
from workflows.claim import ClaimInput
from workflows.regulation import InvalidInput
from workflows.regulation.money import MAX_AMOUNT_FEN, whole_fen

WHOLE = {
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_INT32,
    FieldDescriptor.TYPE_SINT64,
    FieldDescriptor.TYPE_UINT64,
}


def _is_money(name: str) -> bool:
    return name.endswith("_fen") or name == "fen"


def _messages(descriptor: Descriptor) -> typing.Iterator[Descriptor]:
    yield descriptor
    for nested in descriptor.nested_types:
        yield from _messages(nested)


def test_every_amount_on_the_wire_is_a_whole_number() -> None:
    found = []
    for module in (finance_pb2, gateway_pb2, notify_pb2, staff_pb2):
        for top in module.DESCRIPTOR.message_types_by_name.values():
            for message in _messages(top):
                for f in message.fields:
                    if _is_money(f.name):
                        found.append((message.full_name, f.name, f.type in WHOLE))
    assert len(found) > 40, "the walk found too few money fields to mean anything"
    assert [(m, f) for m, f, whole in found if not whole] == []


def _modules(package: types.ModuleType) -> typing.Iterator[types.ModuleType]:
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        yield importlib.import_module(info.name)


def _whole(hint: object) -> bool:
    """int, or a container of ints (list[int], dict[str, int])."""
    if hint is int:
        return True
    args = typing.get_args(hint)
    return bool(args) and typing.get_origin(hint) in (list, dict, tuple) and _whole(args[-1])


def test_every_amount_in_the_workflows_and_activities_is_an_int() -> None:
    found = []
    for package in (workflows, activities):
        for module in _modules(package):
            for value in vars(module).values():
                if not (dataclasses.is_dataclass(value) and isinstance(value, type)):
                    continue
                if value.__module__ != module.__name__:
                    continue
                hints = typing.get_type_hints(value)
                for f in dataclasses.fields(value):
                    if _is_money(f.name):
                        found.append((value.__qualname__, f.name, _whole(hints[f.name])))
    assert len(found) > 20, "the walk found too few money fields to mean anything"
    assert [(c, f) for c, f, whole in found if not whole] == []


def test_every_amount_in_the_databases_is_an_integer_column() -> None:
    found = []
    for base in (FinanceBase, StaffBase):
        for table in base.metadata.tables.values():
            for column in table.columns:
                if _is_money(column.name):
                    found.append((table.name, column.name, isinstance(column.type, Integer)))
    assert len(found) >= 6
    assert [(t, c) for t, c, whole in found if not whole] == []


@pytest.mark.parametrize(
    "value", [12.5, 12.0, True, Decimal("12"), "12", 0, -1, MAX_AMOUNT_FEN + 1]
)
def test_the_regulation_refuses_anything_but_whole_positive_fen(value: object) -> None:
    with pytest.raises(InvalidInput):
        whole_fen(value, "amount_fen")


def test_a_message_cannot_carry_a_fraction_of_a_fen() -> None:
    with pytest.raises(TypeError):
        finance_pb2.LedgerEntry(amount_fen=12.5)  # type: ignore[arg-type]


def _claim(amount: object) -> dict[str, object]:
    line = {"number": 1, "category": "taxi", "date": "2026-06-01", "city": "Wuxi",
            "amount_fen": amount}  # fmt: skip
    return {"person_id": "zhao.lei", "role": "technical_service_engineer", "region_code": "east",
            "month": "2026-06", "lines": [line], "rule_version": "2024-v1"}  # fmt: skip


def test_a_fraction_sent_to_a_workflow_is_refused_not_cut_to_whole_fen() -> None:
    """The SDK's own JSON conversion turns 12.5 into 12 for an int field; ours refuses it, so a
    caller starting a claim with a float amount is told instead of paid less."""
    converter = data_converter().payload_converter  # what every part decodes with
    [claim] = converter.from_payloads(converter.to_payloads([_claim(1250)]), [ClaimInput])
    assert claim.lines[0].amount_fen == 1250
    for fraction in (12.5, 1250.0, True):
        with pytest.raises(TypeError) as err:
            converter.from_payloads(converter.to_payloads([_claim(fraction)]), [ClaimInput])
        assert f"{fraction!r} is not a whole number" in _causes(err.value)


def _causes(err: BaseException | None) -> str:
    """The messages down the chain of causes: the SDK wraps a field's error once per level."""
    words = []
    while err is not None:
        words.append(str(err))
        err = err.__cause__
    return " / ".join(words)
