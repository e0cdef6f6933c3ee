"""The production worker shares csd-ops's workflow modules between workflows
(services/worker/sandbox.py): one workflow must never be able to change what another sees. So
every value a workflow module holds at module level is immutable: constants, functions, classes,
compiled patterns, read-only mappings; never a list, a dict or a set that code could append to.
"""

from __future__ import annotations
import __future__

import dataclasses
import enum
import importlib
import pkgutil
import re
import types
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
from temporalio.common import RetryPolicy, SearchAttributeKey

import workflows
from services.worker.main import WORKFLOWS
from services.worker.sandbox import modules_of

SCALARS = (str, bytes, int, float, bool, type(None), Decimal, date, datetime, time, timedelta)
SHARED_OBJECTS = (re.Pattern, ZoneInfo, range, enum.Enum, TypeVar, SearchAttributeKey, RetryPolicy)


def _shared_modules() -> list[str]:
    package = [m.name for m in pkgutil.walk_packages(workflows.__path__, "workflows.")]
    return sorted({*package, *modules_of(WORKFLOWS)})


def _immutable(value: Any, depth: int = 0) -> bool:
    if depth > 6:
        return False
    if isinstance(value, (*SCALARS, *SHARED_OBJECTS)):
        return True
    if isinstance(value, type | types.ModuleType | types.FunctionType | types.BuiltinFunctionType):
        return True
    if callable(value) and hasattr(value, "__wrapped__"):  # decorated functions
        return True
    if isinstance(value, tuple | frozenset):
        return all(_immutable(v, depth + 1) for v in value)
    if isinstance(value, types.MappingProxyType):
        return all(_immutable(k, depth + 1) and _immutable(v, depth + 1) for k, v in value.items())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # Frozen: no field can be rebound (the regulation's rule sets and tables).
        params = getattr(type(value), "__dataclass_params__", None)
        return bool(params and params.frozen)
    if isinstance(value, __future__._Feature):  # `from __future__ import annotations`
        return True
    # typing constructs (aliases, Literal[...], generics) describe types, hold no state.
    return type(value).__module__ == "typing"


@pytest.mark.parametrize("name", _shared_modules())
def test_a_shared_workflow_module_holds_nothing_a_workflow_could_change(name: str) -> None:
    module = importlib.import_module(name)
    mutable = {
        attribute: type(value).__name__
        for attribute, value in vars(module).items()
        if not attribute.startswith("__") and not _immutable(value)
    }
    assert not mutable, (
        f"{name} holds mutable module-level values {mutable}: make them immutable "
        "(a tuple, a frozenset, types.MappingProxyType, a frozen dataclass), since every "
        "workflow on a production worker shares this module"
    )


def test_every_registered_workflow_module_is_shared_in_production() -> None:
    assert {w.__module__ for w in WORKFLOWS} <= set(modules_of(WORKFLOWS))
