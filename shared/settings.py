"""Settings every service reads from the environment (pydantic-settings).

`DATABASE_URL` names a PostgreSQL *server*: each service gets its own database on it,
`ovop_<service>`. `<SERVICE>_DATABASE_URL` overrides that with a full URL of its own.

`ovop run` writes its servers and admin token to an env file in its run folder, so that `ovop`
commands in another terminal find them; the environment wins whenever it names a server.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TypeVar, overload
from urllib.parse import urlsplit, urlunsplit

from dotenv import dotenv_values
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_PORTS = {"orders": 8001, "catalog": 8002, "logistics": 8003, "notifications": 8004}
DEFAULT_KAFKA_BOOTSTRAP_SERVERS = "127.0.0.1:19092"
REPO_ROOT = Path(__file__).resolve().parents[1]
RUN_PID = "OVOP_RUN_PID"  # the `ovop run` that wrote the env file


def kafka_bootstrap_servers() -> str:
    return os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or DEFAULT_KAFKA_BOOTSTRAP_SERVERS


class NoDatabaseNamed(RuntimeError):
    """Neither the environment nor a running `ovop run` names the database to use."""


def database_url_for(service: str, server_url: str | None = None) -> str:
    """The URL of one service's own database."""
    own = os.environ.get(f"{service.upper()}_DATABASE_URL")
    if own:
        return own
    server_url = server_url or os.environ.get("DATABASE_URL")
    if not server_url:
        raise NoDatabaseNamed(
            f"set DATABASE_URL (a PostgreSQL server) or {service.upper()}_DATABASE_URL"
        )
    return with_database(server_url, f"ovop_{service}")


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    service: str
    kafka_bootstrap_servers: str = DEFAULT_KAFKA_BOOTSTRAP_SERVERS
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


S = TypeVar("S", bound=ServiceSettings)


@overload
def load_settings(service: str) -> ServiceSettings: ...
@overload
def load_settings(service: str, kind: type[S]) -> S: ...
def load_settings(service: str, kind: type[ServiceSettings] = ServiceSettings) -> ServiceSettings:
    """A service's settings from the environment; `<SERVICE>_HTTP_PORT` wins over HTTP_PORT."""
    prefix = f"{service.upper()}_"
    port = os.environ.get(f"{prefix}HTTP_PORT")
    overrides: dict[str, object] = {"service": service}
    if port:
        overrides["http_port"] = int(port)
    return kind(**overrides)  # type: ignore[arg-type]


class RunnerSettings(BaseSettings):
    """What the platform's own commands (`ovop setup`, `simulate`, `run`) read: the servers they
    were given, and the demo shop's webhook secret, which is never an option, so that it never
    shows in the process list."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    kafka_bootstrap_servers: str | None = None
    database_url: str | None = None
    catalog_database_url: str | None = None
    orders_database_url: str | None = None
    logistics_database_url: str | None = None
    notifications_database_url: str | None = None
    ovop_demo_shop_secret: SecretStr | None = None

    def databases_given(self) -> bool:
        """DATABASE_URL (a server), or one URL per service."""
        own = (
            self.catalog_database_url,
            self.orders_database_url,
            self.logistics_database_url,
            self.notifications_database_url,
        )
        return bool(self.database_url) or all(own)

    def demo_shop_secret(self) -> str | None:
        secret = self.ovop_demo_shop_secret
        return (secret.get_secret_value() if secret else "") or None


def run_dir() -> Path:
    """Where `ovop run` keeps its servers' data, the services' logs and its env file: found from
    the repository, not the working directory, so any terminal finds the same one."""
    return Path(os.environ.get("OVOP_RUN_DIR") or REPO_ROOT / ".devstack" / "run")


def run_env_file() -> Path:
    return run_dir() / "env"


def server_variables() -> tuple[str, ...]:
    """The variables that name a server: one of them set means the environment chose its own."""
    own = tuple(f"{service.upper()}_DATABASE_URL" for service in DEFAULT_PORTS)
    return ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", *own)


class StaleRunEnv(RuntimeError):
    """The env file's `ovop run` is no longer running: its servers are gone with it."""


def write_run_env(values: Mapping[str, str], path: Path | None = None) -> Path:
    """Write the env file for `ovop` commands in other terminals: readable by its owner only (it
    holds the admin token), and replaced in one step, so a reader never sees half of it. The
    format is a shell's too: `set -a; . <file>` exports it for curl and friends."""
    path = path or run_env_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{RUN_PID}={os.getpid()}"] + [f"{k}={shlex.quote(v)}" for k, v in values.items()]
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".env.")  # mode 0600
    try:
        with os.fdopen(fd, "w") as out:
            out.write("\n".join(lines) + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def remove_run_env(path: Path | None = None) -> None:
    """Remove the env file if this process wrote it (another `ovop run` may have replaced it)."""
    path = path or run_env_file()
    with contextlib.suppress(FileNotFoundError):
        if dotenv_values(path).get(RUN_PID) == str(os.getpid()):
            path.unlink()


def read_run_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The servers and admin token of the running `ovop run`; {} when the environment names a
    server (it wins, and a mix of both would be neither) or no `ovop run` wrote the file.
    Raises StaleRunEnv for a file whose `ovop run` is gone."""
    environ = os.environ if environ is None else environ
    if any(environ.get(name) for name in server_variables()):
        return {}
    path = run_env_file()
    if not path.is_file():
        return {}
    values = {k: v for k, v in dotenv_values(path).items() if v is not None}
    pid = values.pop(RUN_PID, "")
    if not (pid.isdigit() and _running(int(pid))):
        raise StaleRunEnv(f"{path}: the `ovop run` that wrote it (pid {pid or '?'}) has stopped")
    return values


@contextlib.contextmanager
def run_env_applied() -> Iterator[dict[str, str]]:
    """The environment completed with the running `ovop run`'s servers, for the duration; what
    the environment sets itself is kept."""
    added = {k: v for k, v in read_run_env().items() if k not in os.environ}
    os.environ.update(added)
    try:
        yield added
    finally:
        for name in added:
            os.environ.pop(name, None)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process, but alive
        return True
    return True
