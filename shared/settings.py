"""Settings every service reads from the environment (pydantic-settings).

`DATABASE_URL` names a PostgreSQL *server*: each service gets its own database on it,
`ovop_<service>`. `<SERVICE>_DATABASE_URL` overrides that with a full URL of its own.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_PORTS = {"orders": 8001, "catalog": 8002, "logistics": 8003, "notifications": 8004}


def database_url_for(service: str, server_url: str | None = None) -> str:
    """The URL of one service's own database."""
    own = os.environ.get(f"{service.upper()}_DATABASE_URL")
    if own:
        return own
    server_url = server_url or os.environ.get("DATABASE_URL")
    if not server_url:
        raise RuntimeError(
            f"set DATABASE_URL (a PostgreSQL server) or {service.upper()}_DATABASE_URL"
        )
    return with_database(server_url, f"ovop_{service}")


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    service: str
    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    database_url: str | None = Field(default=None, description="The PostgreSQL server")
    own_database_url: str | None = Field(
        default=None, description="This service's database (else <SERVICE>_DATABASE_URL)"
    )
    http_host: str = "127.0.0.1"
    http_port: int = 0
    log_level: str = "INFO"
    admin_token: SecretStr | None = Field(default=None, description="Bearer token for admin APIs")
    consumer_max_attempts: int = 4
    consumer_backoff_initial_s: float = 0.2
    consumer_backoff_max_s: float = 5.0
    outbox_batch_size: int = 100
    outbox_poll_interval_s: float = 1.0
    kafka_request_timeout_ms: int = 15000
    graceful_timeout_s: float = 20.0
    outbox_keep_days: float = 7.0  # sent rows, kept for inspection
    inbox_keep_days: float = 45.0  # must exceed every topic's retention (dead letters: 30 days)

    def resolved_database_url(self) -> str:
        return self.own_database_url or database_url_for(self.service, self.database_url)

    def resolved_http_port(self) -> int:
        return self.http_port or DEFAULT_PORTS[self.service]


def load_settings(service: str) -> ServiceSettings:
    prefix = f"{service.upper()}_"
    port = os.environ.get(f"{prefix}HTTP_PORT")
    overrides: dict[str, object] = {"service": service}
    if port:
        overrides["http_port"] = int(port)
    return ServiceSettings(**overrides)  # type: ignore[arg-type]
