"""docker-compose.yml: valid against the Compose Specification, and wired the way the platform
needs (start order, health, loopback-only ports, no secrets in the repo). No Docker needed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from importlib import resources
from urllib.parse import urlsplit

import jsonschema
import pytest
from click.testing import CliRunner

from shared.settings import DEFAULT_PORTS, load_settings
from tests.deploy.deployfiles import APP_SERVICES, ROOT, image_env, interpolate

DEV_SECRETS = {"POSTGRES_PASSWORD": "pw", "ADMIN_TOKEN": "tok", "OVOP_DEMO_SHOP_SECRET": "sec"}
REQUIRED = re.compile(r"^\$\{[A-Z][A-Z0-9_]*:\?[^}]+\}$")  # ${VAR:?why}: no default to leak


def compose_spec() -> dict:
    # The Compose Specification's own schema, as vendored (and kept current) by check-jsonschema.
    vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    return json.loads((vendor / "compose-spec.json").read_text())


def test_matches_the_compose_specification(compose):
    schema = compose_spec()
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(compose)
    ]
    assert not errors, "\n".join(errors)


def test_every_dependency_waits_on_a_condition(services):
    for name, svc in services.items():
        deps = svc.get("depends_on", {})
        assert isinstance(deps, dict), f"{name}: short depends_on only waits for container start"
        for dep, spec in deps.items():
            assert dep in services, f"{name} depends on unknown {dep}"
            assert spec.get("condition") in {"service_healthy", "service_completed_successfully"}, (
                f"{name} -> {dep} has no condition"
            )


def test_setup_runs_once_the_servers_are_healthy_and_before_the_services(services):
    setup = services["setup"]
    assert setup["command"] == ["setup", "--demo"]
    assert setup.get("restart", "no") == "no"
    assert {d: s["condition"] for d, s in setup["depends_on"].items()} == {
        "topics": "service_completed_successfully",
        "postgres": "service_healthy",
    }
    topics = services["topics"]
    assert topics.get("restart", "no") == "no"
    assert topics["depends_on"] == {"kafka": {"condition": "service_healthy"}}
    for name in APP_SERVICES:
        cond = services[name]["depends_on"]["setup"]["condition"]
        assert cond == "service_completed_successfully", name


def test_each_service_is_served_with_a_readiness_healthcheck(services):
    for name in APP_SERVICES:
        svc = services[name]
        assert svc["command"] == ["serve", name]
        test = svc["healthcheck"]["test"]
        assert test[0] == "CMD" and test[1] == "python", f"{name}: the slim image has no curl"
        port = int(svc["environment"]["HTTP_PORT"])
        assert f"http://127.0.0.1:{port}/health/ready" in test[-1], name
        assert svc["healthcheck"].get("start_period"), f"{name}: migrations run at start-up"


def test_published_ports_bind_loopback_only(services):
    published = []
    for name, svc in services.items():
        for port in svc.get("ports", []):
            if isinstance(port, dict):  # long syntax
                host_ip, host_port = port.get("host_ip"), port.get("published")
            else:
                host_ip, host_port, *_ = str(port).split(":")
            assert host_ip == "127.0.0.1", f"{name}: {port} is reachable from the network"
            published.append(str(host_port))
    assert len(published) == len(set(published)), f"a host port is published twice: {published}"


def test_app_ports_keep_the_usual_numbers_on_the_host(services):
    for name in APP_SERVICES:
        svc = services[name]
        assert svc["ports"] == [
            f"127.0.0.1:{DEFAULT_PORTS[name]}:{svc['environment']['HTTP_PORT']}"
        ]


def test_no_secret_is_written_in_the_file(services):
    for name, svc in services.items():
        for key, value in (svc.get("environment") or {}).items():
            if re.search(r"PASSWORD|SECRET|TOKEN", key):
                assert REQUIRED.match(str(value)), f"{name}.{key} must be ${{{key}:?...}}"
            if isinstance(value, str) and "://" in value and (pw := urlsplit(value).password):
                assert REQUIRED.match(pw), f"{name}.{key}: password must come from the environment"


def test_kafka_is_a_single_kraft_node_with_the_handbook_settings(services):
    kafka = services["kafka"]
    assert re.fullmatch(r"apache/kafka:4\.1\.\d+", kafka["image"])
    env = kafka["environment"]
    for key in (
        "KAFKA_NODE_ID",
        "KAFKA_LISTENERS",
        "KAFKA_ADVERTISED_LISTENERS",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP",
        "KAFKA_CONTROLLER_QUORUM_VOTERS",
        "KAFKA_CONTROLLER_LISTENER_NAMES",
        "KAFKA_INTER_BROKER_LISTENER_NAME",
    ):
        assert env.get(key), key
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == 1
    assert env["KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS"] == 0
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false", "topics come from `ovop setup`"
    assert "kafka-broker-api-versions.sh" in " ".join(kafka["healthcheck"]["test"])
    advertised = {u.split("://")[1] for u in env["KAFKA_ADVERTISED_LISTENERS"].split(",")}
    for name in ("topics", "setup", *APP_SERVICES):
        assert services[name]["environment"]["KAFKA_BOOTSTRAP_SERVERS"] in advertised, name


def test_postgres_creates_each_service_database(services):
    pg = services["postgres"]
    assert pg["image"] == "postgres:17"
    assert "pg_isready" in pg["healthcheck"]["test"]
    mount = next(v for v in pg["volumes"] if "/docker-entrypoint-initdb.d" in v)
    init_dir = ROOT / mount.split(":")[0]
    sql = "\n".join(f.read_text() for f in sorted(init_dir.iterdir()) if f.suffix == ".sql")
    created = set(re.findall(r"CREATE DATABASE (\w+)", sql, re.IGNORECASE))
    assert created == {f"ovop_{name}" for name in DEFAULT_PORTS}


def test_simulator_posts_to_orders_once_it_is_ready(services):
    sim = services["simulator"]
    assert sim["depends_on"] == {"orders": {"condition": "service_healthy"}}
    cmd = sim["command"]
    assert cmd[0] == "simulate"
    port = services["orders"]["environment"]["HTTP_PORT"]
    assert cmd[cmd.index("--orders-url") + 1] == f"http://orders:{port}"
    assert "OVOP_DEMO_SHOP_SECRET" in sim["environment"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_service_settings_resolve_from_the_container_environment(
    name, services, stages, monkeypatch
):
    """What the service itself makes of its environment: image ENV, then compose's."""
    for var in (
        "HTTP_HOST",
        "HTTP_PORT",
        "DATABASE_URL",
        "OWN_DATABASE_URL",
        "KAFKA_BOOTSTRAP_SERVERS",
        f"{name.upper()}_HTTP_PORT",
        f"{name.upper()}_DATABASE_URL",
    ):
        monkeypatch.delenv(var, raising=False)
    env = image_env(stages[-1])
    env |= {k: interpolate(str(v), DEV_SECRETS) for k, v in services[name]["environment"].items()}
    for key, value in env.items():
        if key != "PATH":
            monkeypatch.setenv(key, value)
    settings = load_settings(name)
    assert settings.http_host == "0.0.0.0", "reachable from the other containers"
    assert settings.resolved_http_port() == int(env["HTTP_PORT"])
    db = urlsplit(settings.resolved_database_url())
    assert (db.hostname, db.port, db.path) == ("postgres", 5432, f"/ovop_{name}")


def test_every_command_is_an_ovop_command(services):
    """Fails until `ovop setup` and `ovop simulate` exist (see deploy/README.md)."""
    from services.cli import main

    for name, svc in services.items():
        if svc.get("image") == services["orders"]["image"] and "entrypoint" not in svc:
            result = CliRunner().invoke(main, [*svc["command"], "--help"])
            assert result.exit_code == 0, (
                f"{name}: ovop {' '.join(svc['command'])}\n{result.output}"
            )


def _compose_cli() -> list[str] | None:
    if standalone := shutil.which("docker-compose"):
        return [standalone]
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        return [docker, "compose"]
    return None


@pytest.mark.skipif(_compose_cli() is None, reason="no docker compose CLI here")
def test_docker_compose_accepts_the_file_and_requires_each_secret(tmp_path):
    """Compose's own parser (interpolation, merge keys); `config` needs no Docker engine."""
    cmd = [*_compose_cli(), "-f", str(ROOT / "docker-compose.yml"), "config", "-q"]
    base = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    ok = subprocess.run(cmd, env=base | DEV_SECRETS, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    for secret in DEV_SECRETS:
        env = base | {k: v for k, v in DEV_SECRETS.items() if k != secret}
        missing = subprocess.run(cmd, env=env, capture_output=True, text=True)
        assert missing.returncode != 0 and secret in missing.stderr, secret
