"""The Grafana dashboard (deploy/grafana/csd-ops.json) and the alert rules
(deploy/prometheus/alerts.yml): they parse, every panel queries something, and the metrics they
name are the ones csd-ops exports (checked against the running parts in
test_dashboard_metrics.py)."""

from __future__ import annotations

import json

from tests.deploy.dashboard import (
    alert_queries,
    dashboard_metric_names,
    family,
    metric_names,
    panels,
)
from tests.deploy.layout import ALERTS, DASHBOARD, documents

# What the dashboard is for (issue 15): each must be on it.
REQUIRED = {
    "csd_sla_clocks",
    "csd_open_cases",
    "csd_rpc_requests_total",
    "csd_rpc_duration_seconds",
    "csd_notifications_total",
    "csd_ledger_rows",
    "temporal_workflow_endtoend_latency_seconds",
    "temporal_activity_execution_failed_total",
}


def test_the_dashboard_parses_and_every_panel_has_a_query() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["uid"] == "csd-ops"
    found = list(panels(dashboard))
    assert len(found) >= 10
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in found:
        assert panel["title"] and panel["targets"], panel.get("title")
        for target in panel["targets"]:
            assert target["expr"].strip() and target["refId"], panel["title"]


def test_the_dashboard_shows_what_issue_15_asks() -> None:
    assert REQUIRED <= dashboard_metric_names()


def test_alerts_parse_and_cover_breaches_workers_and_notify() -> None:
    (rules,) = documents(ALERTS)
    names = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    assert {"CsdSlaBreachSpike", "CsdWorkerDown", "CsdWorkerNotPolling"} <= names
    assert "CsdNotifyFailing" in names
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert rule["annotations"]["summary"] and rule["labels"]["severity"]
    assert "csd_notifications_total" in metric_names(alert_queries())


def test_names_are_families() -> None:
    assert family("csd_rpc_duration_seconds_bucket") == "csd_rpc_duration_seconds"
    assert family("temporal_workflow_endtoend_latency_seconds_count") == (
        "temporal_workflow_endtoend_latency_seconds"
    )
    assert metric_names(['rate(csd_rpc_requests_total{code!="OK"}[5m])']) == {
        "csd_rpc_requests_total"
    }
