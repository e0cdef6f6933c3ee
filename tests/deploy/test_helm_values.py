"""deploy/k8s/helm/temporal-values.yaml uses only keys the official chart knows.

The chart (temporalio/helm-charts, charts/temporal 1.6.0, commit
e51b7344c9b2a04ee36b3ad52a13ffb688454fd7) ships no values schema; what it reads is its
values.yaml and templates. KNOWN lists, from them, the keys this file sets, so a typo
(`numHistoryShard`) or a key of another chart version is caught here rather than silently
ignored by `helm install`."""

from __future__ import annotations

from typing import Any

from tests.deploy.layout import HELM_VALUES, documents

TOP_LEVEL = {
    "nameOverride", "fullnameOverride", "debug", "imagePullSecrets", "serviceAccount",
    "additionalAnnotations", "additionalLabels", "extraObjects", "server", "admintools", "web",
    "schema", "shims", "test",
}  # fmt: skip
SERVER_SERVICES = ("frontend", "internal-frontend", "history", "matching", "worker")
SERVICE_KEYS = {
    "enabled", "service", "readinessProbe", "metrics", "deploymentLabels",
    "deploymentAnnotations", "deploymentStrategy", "podAnnotations", "podLabels", "serviceLabels",
    "resources", "nodeSelector", "tolerations", "affinity", "additionalEnv",
    "containerSecurityContext", "topologySpreadConstraints", "schedulerName", "runtimeClassName",
    "priorityClassName", "podDisruptionBudget", "replicaCount", "ingress",
}  # fmt: skip
SQL_KEYS = {
    "createDatabase", "manageSchema", "pluginName", "driverName", "databaseName", "connectAddr",
    "connectProtocol", "host", "port", "user", "password", "existingSecret", "secretKey",
    "passwordCommand", "maxConns", "maxIdleConns", "maxConnLifetime", "connectAttributes", "tls",
}  # fmt: skip
TLS_KEYS = {"enabled", "secretName", "mountPath", "requireClientAuth", "serverName"}
KNOWN: dict[str, set[str]] = {
    "server": {
        "enabled", "image", "replicaCount", "readinessProbe", "metrics", "resources",
        "securityContext", "config", "tls", "additionalEnv", "additionalVolumes",
        "additionalVolumeMounts", "nodeSelector", "tolerations", "affinity", *SERVER_SERVICES,
    },
    "server.image": {"repository", "tag", "pullPolicy"},
    "server.config": {"logLevel", "tls", "authorization", "persistence", "metrics", "namespaces"},
    "server.config.persistence": {
        "defaultStore", "visibilityStore", "numHistoryShards", "datastores",
    },
    "server.config.persistence.datastores": {"default", "visibility"},
    "server.config.persistence.datastores.default": {"sql", "cassandra"},
    "server.config.persistence.datastores.default.sql": SQL_KEYS,
    "server.config.persistence.datastores.visibility": {"sql", "elasticsearch"},
    "server.config.persistence.datastores.visibility.sql": SQL_KEYS,
    "server.config.namespaces": {"create", "useExternalFrontend", "useHelmHooks", "namespace"},
    "server.config.metrics": {"tags", "excludeTags", "prefix", "prometheus"},
    "server.config.metrics.prometheus": {"timerType", "listenAddress"},
    "server.tls": {"internode", "frontend"},
    "server.tls.internode": TLS_KEYS,
    "server.tls.frontend": TLS_KEYS,
    **{f"server.{service}": SERVICE_KEYS for service in SERVER_SERVICES},
    "admintools": {"enabled", "useExternalFrontend", "image", "resources", "additionalEnv"},
    "admintools.image": {"repository", "tag", "pullPolicy"},
    "web": {
        "enabled", "replicaCount", "image", "service", "readinessProbe", "ingress", "resources",
        "tls", "additionalEnv", "podDisruptionBudget", "containerSecurityContext",
        "securityContext",
    },
    "web.image": {"repository", "tag", "pullPolicy"},
    "web.tls": {"enabled", "secretName", "mountPath", "serverName", "enableHostVerification"},
    "schema": {
        "useHelmHooks", "backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished",
        "jobAnnotations", "podAnnotations", "podLabels", "resources",
        "containerSecurityContext", "securityContext",
    },
}  # fmt: skip


def _values() -> dict[str, Any]:
    (values,) = documents(HELM_VALUES)
    assert isinstance(values, dict)
    return values


def _unknown(path: str, node: dict[str, Any]) -> list[str]:
    """Keys under `path` the chart does not know, descending where KNOWN says what is below."""
    known = KNOWN.get(path)
    if known is None:
        return []
    found = []
    for name, value in node.items():
        here = f"{path}.{name}"
        if name not in known:
            found.append(here)
        elif isinstance(value, dict):
            found += _unknown(here, value)
    return found


def test_top_level_keys_are_the_charts() -> None:
    assert set(_values()) <= TOP_LEVEL, set(_values()) - TOP_LEVEL


def test_every_key_set_is_one_the_chart_reads() -> None:
    values = _values()
    unknown = [key for name in values for key in _unknown(name, values[name])]
    assert not unknown, f"keys the chart does not know: {unknown}"


def test_postgres_persistence_with_schema_setup_and_frontend_tls() -> None:
    config = _values()["server"]["config"]
    persistence = config["persistence"]
    assert isinstance(persistence["numHistoryShards"], int)
    for store in ("default", "visibility"):
        sql = persistence["datastores"][store]["sql"]
        assert sql["pluginName"] == "postgres12"
        assert sql["manageSchema"] is True and sql["createDatabase"] is True
        assert "password" not in sql and sql["existingSecret"]
    frontend = _values()["server"]["tls"]["frontend"]
    assert frontend["enabled"] is True and frontend["secretName"]
    assert any(n["name"] == "csd" for n in config["namespaces"]["namespace"])


def test_the_shard_count_says_why() -> None:
    text = HELM_VALUES.read_text(encoding="utf-8")
    before = text.split("numHistoryShards:", 1)[0].splitlines()[-10:]
    assert any("never be changed" in line for line in before)
