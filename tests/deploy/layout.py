"""Where the deployment files are, and how to read them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
COMPOSE = DEPLOY / "compose"
K8S = DEPLOY / "k8s"
BASE = K8S / "base"
PRODUCTION = K8S / "overlays" / "production"
HELM_VALUES = K8S / "helm" / "temporal-values.yaml"
DASHBOARD = DEPLOY / "grafana" / "csd-ops.json"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"


def yaml_files() -> list[Path]:
    """Every YAML file under deploy/."""
    return sorted(p for suffix in ("*.yaml", "*.yml") for p in DEPLOY.rglob(suffix))


def documents(path: Path) -> list[Any]:
    """The YAML documents of `path`, empty ones left out."""
    with path.open(encoding="utf-8") as stream:
        return [doc for doc in yaml.safe_load_all(stream) if doc is not None]
