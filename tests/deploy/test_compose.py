"""The single-host layout: docker-compose.yml valid against the compose specification's JSON
schema (vendored, source in deploy/README.md), every file it mounts present, secrets only as
files, and .env.example naming every CSD_* setting of the README's table."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.deploy.layout import COMPOSE, REPO, documents

COMPOSE_FILE = COMPOSE / "docker-compose.yml"
SCHEMA = COMPOSE / "compose-spec.schema.json"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"
PARTS = ("staff", "finance", "notify", "gateway", "worker")


def _compose() -> dict[str, object]:
    (doc,) = documents(COMPOSE_FILE)
    assert isinstance(doc, dict)
    return doc


def test_valid_against_the_compose_specification() -> None:
    result = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--schemafile", str(SCHEMA), str(COMPOSE_FILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_vendored_schema_names_its_source() -> None:
    readme = (REPO / "deploy" / "README.md").read_text(encoding="utf-8")
    assert "compose-spec/compose-spec" in readme and "schema/compose-spec.json" in readme
    assert re.search(r"compose-spec/[^\s]*\b[0-9a-f]{40}\b", readme), "the commit is named"


def test_every_mounted_file_exists() -> None:
    services = _compose()["services"]
    assert isinstance(services, dict)
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0] if isinstance(volume, str) else volume["source"]
            if source.startswith("."):
                assert (COMPOSE / source).exists(), f"{name} mounts {source}, which is missing"
    build = _compose()["x-csd-part"]["build"]  # type: ignore[index]
    assert (COMPOSE / build["context"] / build["dockerfile"]).exists()


def test_secrets_are_files_and_every_one_used_is_declared() -> None:
    compose = _compose()
    declared = compose["secrets"]
    assert isinstance(declared, dict)
    for name, secret in declared.items():
        assert set(secret) == {"file"}, f"secret {name} must be a file, never inline"
        assert secret["file"].startswith("./secrets/")
    services = compose["services"]
    assert isinstance(services, dict)
    used = {s for service in services.values() for s in service.get("secrets", [])}
    assert used == set(declared)
    for service in services.values():
        for value in (service.get("environment") or {}).values():
            # A secret's value never sits in the file: only where its file is.
            assert not re.search(r"(?i)password|secret", str(value)) or "/run/secrets/" in str(
                value
            ), value


def test_every_part_runs_with_metrics_and_its_own_certificate() -> None:
    services = _compose()["services"]
    assert isinstance(services, dict)
    for part in PARTS:
        service = services[part]
        env = service["environment"]
        assert env["CSD_METRICS_ADDRESS"] == "0.0.0.0:9100"
        assert env["CSD_TLS_CERT"] == f"/run/secrets/{part}_tls_cert"
        assert {f"{part}_tls_cert", f"{part}_tls_key", "tls_ca"} <= set(service["secrets"])
    assert services["worker"]["deploy"]["replicas"] == "${CSD_WORKER_REPLICAS:-2}"
    assert services["worker"]["command"] == ["worker"]
    assert services["temporal"]["depends_on"]["temporal-schema"] == {
        "condition": "service_completed_successfully"
    }
    assert services["csd-setup"]["command"] == ["schedules"]


def test_prometheus_scrapes_every_part_and_temporal() -> None:
    (config,) = documents(COMPOSE / "prometheus" / "prometheus.yml")
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    assert jobs == {f"csd-{part}" for part in PARTS} | {"temporal"}


def _readme_settings() -> set[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme.split("### Ports and settings", 1)[1].split("\n## ", 1)[0]
    names = set(re.findall(r"CSD_[A-Z][A-Z0-9_]*[A-Z]", table))
    # csd dev's per-part overrides of CSD_METRICS_ADDRESS: a laptop's setting, not a host's.
    return {n for n in names if not DEV_ONLY.fullmatch(n)}


DEV_ONLY = re.compile(r"CSD_(GATEWAY|STAFF|FINANCE|NOTIFY|WORKER(_\d+)?|PART)_METRICS_ADDRESS")


def test_env_example_names_every_setting_of_the_readme() -> None:
    example = (COMPOSE / ".env.example").read_text(encoding="utf-8")
    settings = _readme_settings()
    assert len(settings) > 30
    missing = sorted(name for name in settings if not re.search(rf"\b{name}\b", example))
    assert not missing, f".env.example does not name {missing}"
