"""A small kustomize for the tests, offline: the base's resources, and an overlay applied as
kustomize would for what our overlays use (namespace, images, replicas, strategic-merge patches
of base resources). Anything else in a kustomization is refused, so an overlay cannot grow a
feature these tests would silently ignore."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from tests.deploy.layout import documents

Resource = dict[str, Any]
KNOWN_FIELDS = {"apiVersion", "kind", "resources", "namespace", "images", "replicas", "patches"}
# Lists merged item by item on this key, as Kubernetes' strategic merge does for them.
MERGE_KEYS = {"containers": "name", "initContainers": "name", "env": "name", "volumes": "name"}


def kustomization(folder: Path) -> dict[str, Any]:
    (doc,) = documents(folder / "kustomization.yaml")
    assert isinstance(doc, dict)
    unknown = set(doc) - KNOWN_FIELDS
    assert not unknown, f"{folder}: this test kustomize does not know {sorted(unknown)}"
    return doc


def referenced_files(folder: Path) -> list[Path]:
    """The files and folders a kustomization names (resources and patches)."""
    doc = kustomization(folder)
    paths = [folder / entry for entry in doc.get("resources", [])]
    paths += [folder / patch["path"] for patch in doc.get("patches", [])]
    return paths


def key(resource: Resource) -> tuple[str, str]:
    return resource["kind"], resource["metadata"]["name"]


def merge(target: Any, patch: Any, field: str = "") -> Any:
    """Strategic merge, as far as our patches need it."""
    if isinstance(target, dict) and isinstance(patch, dict):
        merged = dict(target)
        for name, value in patch.items():
            merged[name] = merge(target[name], value, name) if name in target else value
        return merged
    if isinstance(target, list) and isinstance(patch, list) and field in MERGE_KEYS:
        by = MERGE_KEYS[field]
        merged_list = list(target)
        for item in patch:
            names = [existing.get(by) for existing in merged_list]
            if item.get(by) in names:
                at = names.index(item.get(by))
                merged_list[at] = merge(merged_list[at], item)
            else:
                merged_list.append(item)
        return merged_list
    return copy.deepcopy(patch)


def build(folder: Path) -> list[Resource]:
    """The resources `kubectl apply -k folder` would apply."""
    doc = kustomization(folder)
    resources: list[Resource] = []
    for entry in doc.get("resources", []):
        path = folder / entry
        if path.is_dir():
            resources += build(path)
        else:
            resources += documents(path)
    by_key = {key(r): r for r in resources}
    assert len(by_key) == len(resources), f"{folder}: a resource is defined twice"
    for patch_entry in doc.get("patches", []):
        for patch in documents(folder / patch_entry["path"]):
            assert key(patch) in by_key, f"{patch_entry['path']} patches no base resource"
            by_key[key(patch)] = merge(by_key[key(patch)], patch)
    for replica in doc.get("replicas", []):
        target = by_key[("Deployment", replica["name"])]
        target["spec"] = {**target["spec"], "replicas": replica["count"]}
    rendered = list(by_key.values())
    for image in doc.get("images", []):
        for resource in rendered:
            for container in containers(resource):
                name, _, tag = container["image"].partition(":")
                if name == image["name"]:
                    new = image.get("newName", name)
                    container["image"] = f"{new}:{image.get('newTag', tag)}"
    if "namespace" in doc:
        for resource in rendered:
            resource["metadata"] = {**resource["metadata"], "namespace": doc["namespace"]}
    return rendered


def pod_spec(resource: Resource) -> dict[str, Any] | None:
    if resource["kind"] in ("Deployment", "Job"):
        spec: dict[str, Any] = resource["spec"]["template"]["spec"]
        return spec
    return None


def containers(resource: Resource) -> list[dict[str, Any]]:
    """Every container of a workload, init containers included."""
    spec = pod_spec(resource)
    if spec is None:
        return []
    return [*spec.get("initContainers", []), *spec["containers"]]
