"""The metric names the Grafana dashboard and the alert rules use."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from tests.deploy.layout import ALERTS, DASHBOARD, documents

METRIC = re.compile(r"\b(?:csd|temporal)_[a-z0-9_]+")
SERIES_SUFFIXES = ("_bucket", "_sum", "_count")


def family(name: str) -> str:
    """A histogram's series (`x_bucket`, `x_sum`, `x_count`) as its family `x`."""
    for suffix in SERIES_SUFFIXES:
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, those inside rows too; rows themselves left out."""
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


def dashboard_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return [target["expr"] for panel in panels(dashboard) for target in panel["targets"]]


def alert_queries() -> list[str]:
    (rules,) = documents(ALERTS)
    return [rule["expr"] for group in rules["groups"] for rule in group["rules"]]


def metric_names(queries: list[str]) -> set[str]:
    return {family(token) for query in queries for token in METRIC.findall(query)}


def dashboard_metric_names() -> set[str]:
    """The metric families the dashboard and the alert rules query."""
    return metric_names(dashboard_queries() + alert_queries())
