"""deploy/k8s: both overlays render, validate (built-in kinds with kubernetes-validate --strict,
custom resources against their CRD schemas in the repo), and are wired the way the platform
needs: hardened pods, secrets by reference, lag-based scaling capped by partitions, deny-by-default
networking, a topic per registry entry, one database per service. No cluster needed."""

from __future__ import annotations

import importlib
import shutil
from urllib.parse import urlsplit

import pytest
import yaml

from shared.contracts.topics import all_topic_specs
from shared.settings import DEFAULT_PORTS, load_settings
from tests.deploy.deployfiles import APP_SERVICES
from tests.deploy.k8s import (
    K8S,
    KUBERNETES_VERSIONS,
    OVERLAYS,
    RenderError,
    builtin_errors,
    crd_errors,
    documents,
    named,
    of_kind,
    render,
    selects,
)


@pytest.fixture(scope="session")
def rendered() -> dict[str, str]:
    return {overlay: render(K8S / "overlays" / overlay) for overlay in OVERLAYS}


@pytest.fixture(scope="session")
def manifests(rendered) -> dict[str, list[dict]]:
    return {overlay: documents(text) for overlay, text in rendered.items()}


def pods(docs: list[dict]) -> list[tuple[str, dict]]:
    """(name, pod spec) of every Deployment and Job."""
    return [
        (f"{d['kind']}/{d['metadata']['name']}", d["spec"]["template"])
        for d in docs
        if d["kind"] in ("Deployment", "Job")
    ]


def deployment(docs: list[dict], service: str) -> dict:
    return named(docs, "Deployment", f"ovop-{service}")


def container(docs: list[dict], service: str) -> dict:
    return deployment(docs, service)["spec"]["template"]["spec"]["containers"][0]


def config(docs: list[dict]) -> dict[str, str]:
    [cm] = [c for c in of_kind(docs, "ConfigMap") if c["metadata"]["name"].startswith("ovop-")]
    return cm["data"]


# --- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_builtin_kinds_pass_kubernetes_validate_strict(overlay, version, rendered, tmp_path):
    assert builtin_errors(rendered[overlay], tmp_path, version) == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_custom_resources_match_their_crd_schemas(overlay, manifests):
    assert crd_errors(manifests[overlay]) == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_kind_is_one_of_the_validated_ones(overlay, manifests):
    kinds = {(d["apiVersion"], d["kind"]) for d in manifests[overlay]}
    expected = {
        ("v1", "Namespace"), ("v1", "ServiceAccount"), ("v1", "ConfigMap"), ("v1", "Service"),
        ("apps/v1", "Deployment"), ("batch/v1", "Job"), ("policy/v1", "PodDisruptionBudget"),
        ("networking.k8s.io/v1", "NetworkPolicy"),
        ("kafka.strimzi.io/v1beta2", "Kafka"), ("kafka.strimzi.io/v1beta2", "KafkaNodePool"),
        ("kafka.strimzi.io/v1beta2", "KafkaTopic"), ("postgresql.cnpg.io/v1", "Cluster"),
        ("keda.sh/v1alpha1", "ScaledObject"), ("monitoring.coreos.com/v1", "ServiceMonitor"),
        ("monitoring.coreos.com/v1", "PrometheusRule"),
        ("postgresql.cnpg.io/v1", "ScheduledBackup"),
    }  # fmt: skip
    assert kinds <= expected, kinds - expected


def _broken_copy(tmp_path, edit) -> str:
    """Renders a temporary copy of deploy/k8s after `edit(copy_root)` changed it."""
    copy = tmp_path / "k8s"
    shutil.copytree(K8S, copy)
    edit(copy)
    return render(copy / "overlays" / "dev")


def _replace(path, old, new):
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_a_broken_builtin_manifest_fails_validation(tmp_path):
    text = _broken_copy(
        tmp_path,
        lambda k8s: _replace(
            k8s / "base/apps/orders.yaml", "readOnlyRootFilesystem: true", "readOnlyRootFs: true"
        ),
    )
    errors = builtin_errors(text, tmp_path, KUBERNETES_VERSIONS[0])
    assert errors and "readOnlyRootFs" in " ".join(errors)


def test_a_broken_custom_resource_fails_validation(tmp_path):
    def edit(k8s):
        # KEDA's trigger metadata is a map of strings: an integer threshold is refused.
        _replace(k8s / "base/apps/catalog.yaml", 'lagThreshold: "50"', "lagThreshold: 50")
        # A misspelt field of a Strimzi resource is refused, not silently dropped.
        _replace(k8s / "base/kafka/kafka.yaml", "roles: [controller, broker]", "role: [broker]")

    errors = crd_errors(documents(_broken_copy(tmp_path, edit)))
    joined = "\n".join(errors)
    assert "ScaledObject/ovop-catalog" in joined and "lagThreshold" in joined
    assert "KafkaNodePool/dual-role" in joined and "'roles' is a required property" in joined


def test_a_custom_resource_without_a_schema_fails_validation(manifests):
    doc = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert crd_errors([doc]) == ["Widget/w: no CRD schema for example.com/v1 in deploy/k8s/schemas"]


def test_a_kustomization_that_does_not_render_fails(tmp_path):
    with pytest.raises(RenderError, match="missing.yaml"):
        _broken_copy(
            tmp_path,
            lambda k8s: _replace(
                k8s / "base/kustomization.yaml", "- serviceaccount.yaml", "- missing.yaml"
            ),
        )


# --- topics --------------------------------------------------------------------------------


def test_checked_in_topic_manifests_match_the_registry():
    spec = importlib.util.spec_from_file_location("generate_topics", K8S / "generate_topics.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    on_disk = (K8S / "base/kafka/topics.yaml").read_text()
    assert on_disk == module.render(), "run .venv/bin/python deploy/k8s/generate_topics.py"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_topic_and_dead_letter_topic_is_a_kafka_topic(overlay, manifests):
    docs = manifests[overlay]
    kafka = of_kind(docs, "Kafka")[0]["metadata"]["name"]
    topics = {
        t["spec"]["topicName"]: (t["spec"]["partitions"], t["spec"]["config"]["retention.ms"])
        for t in of_kind(docs, "KafkaTopic")
        if t["metadata"]["labels"]["strimzi.io/cluster"] == kafka
    }
    assert topics == {name: (parts, ret) for name, parts, ret in all_topic_specs()}
    assert any(name.endswith(".dlq") for name in topics)


@pytest.mark.parametrize(("overlay", "brokers"), [("dev", 1), ("prod", 3)])
def test_topic_replication_fits_the_brokers(overlay, brokers, manifests):
    docs = manifests[overlay]
    [pool] = of_kind(docs, "KafkaNodePool")
    assert pool["spec"]["replicas"] == brokers
    assert set(pool["spec"]["roles"]) == {"controller", "broker"}, "KRaft: no ZooKeeper"
    config = of_kind(docs, "Kafka")[0]["spec"]["kafka"]["config"]
    assert config["auto.create.topics.enable"] is False
    min_isr = max(1, brokers - 1)
    for topic in of_kind(docs, "KafkaTopic"):
        assert topic["spec"]["replicas"] == brokers, topic["metadata"]["name"]
        assert topic["spec"]["config"]["min.insync.replicas"] == min_isr
    assert config["offsets.topic.replication.factor"] == brokers


# --- workloads -----------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_runs_non_root_on_a_read_only_root_filesystem(overlay, manifests):
    for name, template in pods(manifests[overlay]):
        spec = template["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] != 0, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name
        for c in spec.get("initContainers", []) + spec["containers"]:
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True, (name, c["name"])
            assert sc["allowPrivilegeEscalation"] is False, (name, c["name"])
            assert sc["capabilities"]["drop"] == ["ALL"], (name, c["name"])
            assert {"mountPath": "/tmp", "name": "tmp"} in c["volumeMounts"], "a writable /tmp"
            requests, limits = c["resources"]["requests"], c["resources"]["limits"]
            assert requests["cpu"] and requests["memory"], (name, c["name"])
            assert limits["memory"] == requests["memory"], "the memory limit equals the request"


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", APP_SERVICES)
def test_each_service_has_probes_spread_and_a_disruption_budget(overlay, service, manifests):
    docs = manifests[overlay]
    dep = deployment(docs, service)
    c = container(docs, service)
    assert c["args"] == ["serve", service]
    [port] = c["ports"]
    assert port == {"name": "http", "containerPort": DEFAULT_PORTS[service], "protocol": "TCP"}
    assert c["startupProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
    assert c["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "http"}
    pod = dep["spec"]["template"]
    spread = pod["spec"]["topologySpreadConstraints"]
    assert {s["topologyKey"] for s in spread} >= {
        "kubernetes.io/hostname",
        "topology.kubernetes.io/zone",
    }
    assert all(selects(s["labelSelector"], pod["metadata"]["labels"]) for s in spread)
    assert pod["spec"]["terminationGracePeriodSeconds"] > 20, "above GRACEFUL_TIMEOUT_S"
    pdbs = [
        p
        for p in of_kind(docs, "PodDisruptionBudget")
        if selects(p["spec"]["selector"], pod["metadata"]["labels"])
    ]
    assert [p["spec"] for p in pdbs] == [
        {"maxUnavailable": 1, "selector": dep["spec"]["selector"]}
    ]
    [svc] = [
        s
        for s in of_kind(docs, "Service")
        if s["spec"]["selector"] == dep["spec"]["selector"]["matchLabels"]
    ]
    assert svc["spec"]["ports"][0]["targetPort"] == "http"


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", APP_SERVICES)
def test_service_settings_resolve_from_the_pod_environment(
    overlay, service, manifests, monkeypatch
):
    """What the service makes of its pod's environment: ConfigMap, then env (secrets faked)."""
    docs = manifests[overlay]
    for var in ("HTTP_HOST", "HTTP_PORT", "DATABASE_URL", "OWN_DATABASE_URL"):
        monkeypatch.delenv(var, raising=False)
    for svc in APP_SERVICES:
        monkeypatch.delenv(f"{svc.upper()}_HTTP_PORT", raising=False)
        monkeypatch.delenv(f"{svc.upper()}_DATABASE_URL", raising=False)
    env = dict(config(docs))
    secrets = {}
    for var in container(docs, service)["env"]:
        if "value" in var:
            env[var["name"]] = var["value"]
        else:
            ref = var["valueFrom"]["secretKeyRef"]
            secrets[var["name"]] = ref
            if not ref.get("optional"):
                env[var["name"]] = f"postgresql://u:p@{ref['name']}-rw:5432/ovop_{service}"
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = load_settings(service)
    assert settings.http_host == "0.0.0.0"
    assert settings.resolved_http_port() == DEFAULT_PORTS[service]
    assert settings.kafka_bootstrap_servers == "ovop-kafka-bootstrap:9092"
    db_ref = secrets[f"{service.upper()}_DATABASE_URL"]
    assert db_ref == {"name": f"ovop-{service}-db-app", "key": "uri"}, "CloudNativePG's secret"
    assert urlsplit(settings.resolved_database_url()).hostname == f"ovop-{service}-db-app-rw"
    assert secrets["ADMIN_TOKEN"]["name"] == "ovop-admin"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_secret_is_inlined(overlay, manifests, rendered):
    docs = manifests[overlay]
    assert not of_kind(docs, "Secret"), "secrets are created by the operator, not the repo"
    for name, template in pods(docs):
        for c in template["spec"].get("initContainers", []) + template["spec"]["containers"]:
            for var in c.get("env", []):
                if any(w in var["name"] for w in ("PASSWORD", "SECRET", "TOKEN", "DATABASE_URL")):
                    assert "secretKeyRef" in var.get("valueFrom", {}), (name, var["name"])
                assert "@" not in str(var.get("value", "")), (name, var["name"])
    assert "password" not in yaml.safe_dump([config(docs)]).lower()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_database_is_a_cloudnativepg_cluster_owned_by_its_service(overlay, manifests):
    docs = manifests[overlay]
    clusters = {c["metadata"]["name"]: c for c in of_kind(docs, "Cluster")}
    assert set(clusters) == {f"ovop-{s}-db" for s in APP_SERVICES}
    for service in APP_SERVICES:
        initdb = clusters[f"ovop-{service}-db"]["spec"]["bootstrap"]["initdb"]
        assert initdb["database"] == f"ovop_{service}"
    instances = {c["spec"]["instances"] for c in clusters.values()}
    assert instances == ({1} if overlay == "dev" else {3})


def test_prod_backs_up_every_database(manifests):
    docs = manifests["prod"]
    scheduled = {b["spec"]["cluster"]["name"] for b in of_kind(docs, "ScheduledBackup")}
    for cluster in of_kind(docs, "Cluster"):
        backup = cluster["spec"]["backup"]
        assert backup["barmanObjectStore"]["destinationPath"].startswith("s3://")
        creds = backup["barmanObjectStore"]["s3Credentials"]
        assert {creds["accessKeyId"]["name"], creds["secretAccessKey"]["name"]} == {
            "ovop-backup-s3"
        }
        assert cluster["metadata"]["name"] in scheduled


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_migration_job_runs_ovop_setup_once_the_topics_exist(overlay, manifests):
    docs = manifests[overlay]
    job = named(docs, "Job", "ovop-migrate")
    spec = job["spec"]["template"]["spec"]
    assert spec["restartPolicy"] == "Never"
    [migrate] = spec["containers"]
    # The demo component (dev) adds the demo catalogue; prod gets the bare migrations.
    assert migrate["args"] == (["setup", "--demo"] if overlay == "dev" else ["setup"])
    refs = {v["name"]: v["valueFrom"]["secretKeyRef"] for v in migrate["env"] if "valueFrom" in v}
    for service in APP_SERVICES:
        assert refs[f"{service.upper()}_DATABASE_URL"] == {
            "name": f"ovop-{service}-db-app",
            "key": "uri",
        }
    assert "DATABASE_URL" not in refs, "a server URL would make setup create databases"
    [wait] = spec["initContainers"]
    assert "all_topic_specs" in wait["args"][0], "waits for the registry's topics"
    compile(wait["args"][0], "wait-for-topics", "exec")


# --- scaling -------------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("service", APP_SERVICES)
def test_each_service_scales_on_its_consumer_lag_up_to_its_partitions(
    overlay, service, manifests
):
    docs = manifests[overlay]
    [scaled] = [
        s
        for s in of_kind(docs, "ScaledObject")
        if s["spec"]["scaleTargetRef"]["name"] == f"ovop-{service}"
    ]
    [trigger] = scaled["spec"]["triggers"]
    assert trigger["type"] == "kafka"
    meta = trigger["metadata"]
    assert meta["consumerGroup"] == service, "shared.messaging.consumer uses the service name"
    assert meta["bootstrapServers"] == config(docs)["KAFKA_BOOTSTRAP_SERVERS"]
    assert meta.get("allowIdleConsumers", "false") == "false"
    bootstrap = importlib.import_module(f"services.{service}.bootstrap")
    consumed = {sub.topic for sub in bootstrap.build().subscriptions}
    partitions = {name: parts for name, parts, _ in all_topic_specs()}
    # Range assignment gives each member a share of every topic: members beyond the largest
    # topic's partition count get nothing.
    assert scaled["spec"]["maxReplicaCount"] == max(partitions[t] for t in consumed)
    assert 1 <= scaled["spec"]["minReplicaCount"] <= scaled["spec"]["maxReplicaCount"]
    assert "replicas" not in deployment(docs, service)["spec"], "KEDA owns the replica count"


def test_prod_keeps_two_replicas_of_each_service(manifests):
    for scaled in of_kind(manifests["prod"], "ScaledObject"):
        assert scaled["spec"]["minReplicaCount"] >= 2, scaled["metadata"]["name"]


# --- network -------------------------------------------------------------------------------


def _egress_allowed(docs, pod_labels: dict, peer_labels: dict, port) -> bool:
    for policy in of_kind(docs, "NetworkPolicy"):
        if not selects(policy["spec"]["podSelector"], pod_labels):
            continue
        for rule in policy["spec"].get("egress", []):
            ports = {p["port"] for p in rule.get("ports", [])}
            if port in ports and any(
                "podSelector" in peer and selects(peer["podSelector"], peer_labels)
                for peer in rule.get("to", [])
            ):
                return True
    return False


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_is_denied_by_default_then_dns_kafka_and_own_database(overlay, manifests):
    docs = manifests[overlay]
    deny = [
        p
        for p in of_kind(docs, "NetworkPolicy")
        if set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
    ]
    assert deny, "a deny-all policy"
    kafka = of_kind(docs, "Kafka")[0]["metadata"]["name"]
    broker = {"strimzi.io/cluster": kafka, "strimzi.io/broker-role": "true"}
    dns = {"k8s-app": "kube-dns"}
    for name, template in pods(docs):
        labels = template["metadata"]["labels"]
        assert any(selects(p["spec"]["podSelector"], labels) for p in deny), name
        assert _egress_allowed(docs, labels, dns, 53), f"{name}: DNS"
        assert _egress_allowed(docs, labels, broker, 9092), f"{name}: Kafka"
    for service in APP_SERVICES:
        labels = deployment(docs, service)["spec"]["template"]["metadata"]["labels"]
        own = {"cnpg.io/cluster": f"ovop-{service}-db"}
        assert _egress_allowed(docs, labels, own, 5432), f"{service}: its database"
        for other in set(APP_SERVICES) - {service}:
            theirs = {"cnpg.io/cluster": f"ovop-{other}-db"}
            assert not _egress_allowed(docs, labels, theirs, 5432), f"{service} -> {other} db"
    job = named(docs, "Job", "ovop-migrate")["spec"]["template"]["metadata"]["labels"]
    for service in APP_SERVICES:
        assert _egress_allowed(docs, job, {"cnpg.io/cluster": f"ovop-{service}-db"}, 5432)


# --- monitoring ----------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_prometheus_scrapes_every_service(overlay, manifests):
    docs = manifests[overlay]
    [monitor] = of_kind(docs, "ServiceMonitor")
    assert "release" in monitor["metadata"]["labels"], "kube-prometheus-stack selects by release"
    [endpoint] = monitor["spec"]["endpoints"]
    assert (endpoint["port"], endpoint["path"]) == ("http", "/metrics")
    assert endpoint["honorLabels"] is True, "keep our `service` label, not the Service's name"
    for service in APP_SERVICES:
        svc = named(docs, "Service", f"ovop-{service}")
        assert selects(monitor["spec"]["selector"], svc["metadata"]["labels"]), service
        assert svc["spec"]["ports"][0]["name"] == "http"
    [rules] = of_kind(docs, "PrometheusRule")
    assert rules["metadata"]["labels"]["release"] == monitor["metadata"]["labels"]["release"]

