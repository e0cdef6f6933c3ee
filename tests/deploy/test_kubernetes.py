"""The Kubernetes manifests (deploy/k8s/base and overlays/production) are valid for Kubernetes
1.30 (kubernetes-validate's schemas, strict: an unknown field is an error), each kustomization
names only files that exist, and the workloads keep the rules of deploy/README.md: probes,
non-root read-only containers with resources, Secrets referenced and never shipped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from tests.deploy.kustomize import (
    Resource,
    build,
    containers,
    kustomization,
    pod_spec,
    referenced_files,
)
from tests.deploy.layout import BASE, K8S, PRODUCTION, documents

KUBERNETES_VERSION = "1.30.0"
PARTS = ("staff", "finance", "notify", "gateway", "worker")
SERVICE_PORTS = {"staff": 50052, "finance": 50053, "notify": 50054, "gateway": 50051}
RENDERED = {"base": build(BASE), "production": build(PRODUCTION)}


def _name(resource: Resource) -> str:
    return f"{resource['kind']}/{resource['metadata']['name']}"


def _all() -> list[tuple[str, Resource]]:
    return [(where, r) for where, resources in RENDERED.items() for r in resources]


@pytest.mark.parametrize(("where", "resource"), _all(), ids=[f"{w}:{_name(r)}" for w, r in _all()])
def test_valid_for_kubernetes(where: str, resource: Resource) -> None:
    try:
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as err:
        pytest.fail(f"{where} {_name(resource)}: {err.message} at {list(err.path)}")


MANIFEST_FILES = sorted(
    p for p in K8S.rglob("*.yaml") if "helm" not in p.parts and p.name != "kustomization.yaml"
)


@pytest.mark.parametrize("path", MANIFEST_FILES, ids=lambda p: str(p.relative_to(K8S)))
def test_every_file_validates_on_its_own(path: Path) -> None:
    """Base files whole; overlay patches as what they are, partial objects of a known kind."""
    for doc in documents(path):
        if "overlays" in path.parts:
            assert {"apiVersion", "kind", "metadata"} <= set(doc), path
            continue
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("folder", [BASE, PRODUCTION], ids=["base", "production"])
def test_kustomization_names_only_files_that_exist(folder: Path) -> None:
    for path in referenced_files(folder):
        assert path.exists(), f"{folder / 'kustomization.yaml'} names {path}, which is missing"
    listed = {p.resolve() for p in referenced_files(folder)}
    # And nothing lies beside it unused.
    for path in folder.glob("*.yaml"):
        if path.name != "kustomization.yaml":
            assert path.resolve() in listed, f"{path} is not in its kustomization"


def test_the_overlay_only_patches_the_base() -> None:
    base = {_name(r) for r in RENDERED["base"]}
    assert {_name(r) for r in RENDERED["production"]} == base
    assert kustomization(PRODUCTION)["resources"] == ["../../base"]


def test_production_scale_image_and_namespace() -> None:
    resources = {_name(r): r for r in RENDERED["production"]}
    assert all(r["metadata"]["namespace"] == "csd-ops" for r in resources.values())
    for resource in resources.values():
        for container in containers(resource):
            if "csd-ops" in container["image"]:
                assert container["image"] == "registry.csd.example/csd-ops:0.1.0"
    assert resources["HorizontalPodAutoscaler/csd-worker"]["spec"]["minReplicas"] == 3
    assert resources["Deployment/csd-staff"]["spec"]["replicas"] == 3
    worker = resources["Deployment/csd-worker"]["spec"]["template"]["spec"]["containers"][0]
    assert worker["resources"]["requests"]["memory"] == "768Mi"
    assert worker["livenessProbe"], "a patch must not drop what it does not mention"


def _workloads(where: str) -> list[Resource]:
    return [r for r in RENDERED[where] if pod_spec(r) is not None]


@pytest.mark.parametrize("where", RENDERED)
def test_every_container_is_non_root_read_only_and_bounded(where: str) -> None:
    for resource in _workloads(where):
        spec = pod_spec(resource)
        assert spec is not None
        assert spec["securityContext"]["runAsNonRoot"] is True, _name(resource)
        for container in containers(resource):
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, _name(resource)
            assert context["allowPrivilegeEscalation"] is False, _name(resource)
            assert context["capabilities"]["drop"] == ["ALL"], _name(resource)
            limits, requests = container["resources"]["limits"], container["resources"]["requests"]
            assert {"cpu", "memory"} <= set(requests) and {"cpu", "memory"} <= set(limits)


def test_every_part_is_there_with_its_probes_service_and_budget() -> None:
    resources = {_name(r): r for r in RENDERED["base"]}
    for part in PARTS:
        deployment = resources[f"Deployment/csd-{part}"]
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports["metrics"] == 9100
        assert f"PodDisruptionBudget/csd-{part}" in resources
        assert f"Service/{part}" in resources
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            assert probe in container, f"{part} has no {probe}"
        if part == "worker":
            assert container["livenessProbe"]["httpGet"]["port"] == "metrics"
            continue
        assert ports["grpc"] == SERVICE_PORTS[part]
        # The gRPC health check over the part's mutual TLS (the kubelet's grpc: probe has none).
        assert container["readinessProbe"]["exec"]["command"] == ["csd-healthcheck", part]
    for autoscaled in ("worker", "gateway"):
        hpa = resources[f"HorizontalPodAutoscaler/csd-{autoscaled}"]
        assert hpa["spec"]["scaleTargetRef"]["name"] == f"csd-{autoscaled}"
        # The autoscaler owns the count: a replicas field would fight it on every apply.
        assert "replicas" not in resources[f"Deployment/csd-{autoscaled}"]["spec"]
    assert "Job/csd-setup" in resources


def _walk(value: Any) -> list[dict[str, Any]]:
    found = []
    if isinstance(value, dict):
        found.append(value)
        for item in value.values():
            found += _walk(item)
    elif isinstance(value, list):
        for item in value:
            found += _walk(item)
    return found


def test_secrets_are_referenced_never_shipped() -> None:
    resources = RENDERED["production"]
    assert not [r for r in resources if r["kind"] == "Secret"]
    secret_env = {
        node["name"]
        for r in resources
        for node in _walk(r)
        if isinstance(node.get("valueFrom"), dict) and "secretKeyRef" in node["valueFrom"]
    }
    assert {"CSD_PAYLOAD_KEYS", "CSD_STAFF_DATABASE_URL", "CSD_PHONE_WEBHOOK_SECRET"} <= secret_env
    secret_volumes = {
        node["secret"]["secretName"] for r in resources for node in _walk(r) if "secret" in node
    }
    assert {"csd-jwks", "csd-temporal-client-tls"} <= secret_volumes
    assert {f"csd-tls-{part}" for part in (*PARTS, "admin")} <= secret_volumes
    config = next(r for r in resources if r["kind"] == "ConfigMap")
    for name in config["data"]:
        assert not any(word in name for word in ("PASSWORD", "SECRET", "KEYS", "DATABASE_URL"))
