"""Where each part of csd-ops listens and keeps its data, from the environment with dev defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from services.runtime.tls import TlsFiles


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _smtp_tls() -> str:
    """CSD_SMTP_TLS: "none", "starttls" or "implicit" (checked when notify starts).

    The older CSD_SMTP_STARTTLS=true still means "starttls", so that a deployment which set it
    does not fall back to sending in the clear.
    """
    default = "starttls" if _env("CSD_SMTP_STARTTLS", "false").strip().lower() == "true" else "none"
    return _env("CSD_SMTP_TLS", default).strip().lower()


@dataclass(frozen=True)
class Settings:
    """Addresses and database URLs; every field can be set by a CSD_* environment variable."""

    var_dir: Path
    temporal_address: str
    temporal_namespace: str
    temporal_ui_port: int
    gateway_address: str
    staff_address: str
    finance_address: str
    notify_address: str
    smtp_host: str
    smtp_port: int
    smtp_tls: str
    smtp_username: str
    smtp_password: str
    smtp_allow_plaintext_auth: bool
    mail_from: str
    phone_provider: str
    phone_webhook_url: str
    phone_webhook_secret: str
    auth_mode: str
    jwt_jwks: str
    jwt_issuer: str
    jwt_audience: str
    payload_keys: str
    # Where this process serves its Prometheus metrics (host:port); empty: not served.
    metrics_address: str = ""
    # Whether this worker process keeps the case gauges (a visibility listing every 30 s): one
    # of several processes on a machine is enough (`csd worker --processes`, CSD_DEV_WORKERS).
    case_gauges: bool = True
    # Workflows a worker process keeps in memory between their tasks (CSD_WORKER_CACHED_WORKFLOWS,
    # validated when the worker starts); "" for csd-ops's default.
    worker_cached_workflows: str = ""
    tls_ca: str = ""
    tls_cert: str = ""
    tls_key: str = ""
    temporal_tls_ca: str = ""
    temporal_tls_cert: str = ""
    temporal_tls_key: str = ""
    temporal_tls_server_name: str = ""
    codec_address: str = ""
    codec_ui_origins: str = ""

    def ui_origins(self) -> list[str]:
        """CSD_CODEC_UI_ORIGINS (comma-separated), or this machine's Web UI."""
        given = [o.strip() for o in self.codec_ui_origins.split(",") if o.strip()]
        port = self.temporal_ui_port
        return given or [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]

    def tls(self) -> TlsFiles | None:
        """This part's certificate, key and CA (CSD_TLS_*), or None when none is set."""
        return TlsFiles.from_paths(self.tls_ca, self.tls_cert, self.tls_key)

    def database_url(self, service: str) -> str:
        """CSD_<SERVICE>_DATABASE_URL, or a SQLite file under var/."""
        return _env(
            f"CSD_{service.upper()}_DATABASE_URL",
            f"sqlite+aiosqlite:///{self.var_dir / f'{service}.db'}",
        )

    @classmethod
    def from_env(cls) -> Settings:
        """Read the environment once, at process start."""
        return cls(
            var_dir=Path(_env("CSD_VAR_DIR", "var")).resolve(),
            temporal_address=_env("CSD_TEMPORAL_ADDRESS", "127.0.0.1:7233"),
            temporal_namespace=_env("CSD_TEMPORAL_NAMESPACE", "default"),
            temporal_ui_port=int(_env("CSD_TEMPORAL_UI_PORT", "8233")),
            gateway_address=_env("CSD_GATEWAY_ADDRESS", "127.0.0.1:50051"),
            staff_address=_env("CSD_STAFF_ADDRESS", "127.0.0.1:50052"),
            finance_address=_env("CSD_FINANCE_ADDRESS", "127.0.0.1:50053"),
            notify_address=_env("CSD_NOTIFY_ADDRESS", "127.0.0.1:50054"),
            smtp_host=_env("CSD_SMTP_HOST", "127.0.0.1"),
            smtp_port=int(_env("CSD_SMTP_PORT", "8025")),
            smtp_tls=_smtp_tls(),
            smtp_username=_env("CSD_SMTP_USERNAME", ""),
            smtp_password=_env("CSD_SMTP_PASSWORD", ""),
            smtp_allow_plaintext_auth=_env("CSD_SMTP_ALLOW_PLAINTEXT_AUTH", "").lower() == "true",
            mail_from=_env("CSD_MAIL_FROM", "csd-ops@csd.example"),
            phone_provider=_env("CSD_PHONE_PROVIDER", "log"),
            phone_webhook_url=_env("CSD_PHONE_WEBHOOK_URL", ""),
            phone_webhook_secret=_env("CSD_PHONE_WEBHOOK_SECRET", ""),
            # Secure by default: `make dev` asks for dev mode explicitly.
            auth_mode=_env("CSD_AUTH_MODE", "jwt").strip().lower(),
            jwt_jwks=_env("CSD_JWT_JWKS", ""),
            jwt_issuer=_env("CSD_JWT_ISSUER", ""),
            jwt_audience=_env("CSD_JWT_AUDIENCE", ""),
            payload_keys=_env("CSD_PAYLOAD_KEYS", ""),
            metrics_address=_env("CSD_METRICS_ADDRESS", ""),
            case_gauges=_env("CSD_CASE_GAUGES", "on").strip().lower() != "off",
            worker_cached_workflows=_env("CSD_WORKER_CACHED_WORKFLOWS", "").strip(),
            tls_ca=_env("CSD_TLS_CA", ""),
            tls_cert=_env("CSD_TLS_CERT", ""),
            tls_key=_env("CSD_TLS_KEY", ""),
            temporal_tls_ca=_env("CSD_TEMPORAL_TLS_CA", ""),
            temporal_tls_cert=_env("CSD_TEMPORAL_TLS_CERT", ""),
            temporal_tls_key=_env("CSD_TEMPORAL_TLS_KEY", ""),
            temporal_tls_server_name=_env("CSD_TEMPORAL_TLS_SERVER_NAME", ""),
            codec_address=_env("CSD_CODEC_ADDRESS", ""),
            codec_ui_origins=_env("CSD_CODEC_UI_ORIGINS", ""),
        )
