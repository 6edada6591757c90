"""The Grafana dashboard and the PrometheusRule: every query parses as PromQL, every metric is one
the code exports (or one docs/operations.md names as planned by its service), and the alerts cover
lag, dead letters, SMS failures, the outbox backlog and pickups planned late."""

from __future__ import annotations

import json
import re

import promql_parser
import pytest
import yaml
from prometheus_client import REGISTRY

import shared.metrics  # noqa: F401 - registers the shared metrics
from shared.messaging.lag import CONSUMER_LAG
from tests.deploy.deployfiles import ROOT

DASHBOARD = ROOT / "deploy" / "grafana" / "ovop-fulfilment.json"
RULES = ROOT / "deploy" / "k8s" / "base" / "monitoring" / "prometheusrule.yaml"
DOCS = ROOT / "docs" / "operations.md"
# Grafana's variables, as Grafana would substitute them before sending the query.
GRAFANA_VARS = {"$__rate_interval": "1m", "$namespace": "ovop", "${namespace}": "ovop"}
# Exported by Prometheus itself and kube-state-metrics (kube-prometheus-stack).
EXTERNAL = re.compile(r"^(up|kube_[a-z_]+)$")
SUFFIXES = ("_bucket", "_sum", "_count", "_created")


def rules() -> list[dict]:
    doc = yaml.safe_load(RULES.read_text())
    return [rule for group in doc["spec"]["groups"] for rule in group["rules"]]


def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def dashboard_queries() -> list[tuple[str, str]]:
    out = []
    for panel in dashboard()["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            for var, value in GRAFANA_VARS.items():
                expr = expr.replace(var, value)
            out.append((panel["title"], expr))
    return out


def metric_names(expr: str) -> set[str]:
    names: set[str] = set()

    def visit(node):
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            names.add(node.name)

    promql_parser.walk(promql_parser.parse(expr), visit)
    return names


def exported_by_the_code() -> set[str]:
    """Metric families registered with prometheus_client anywhere in services/ and shared/."""
    pattern = re.compile(r"\b(?:Counter|Gauge|Histogram|Summary)\(\s*\"(ovop_[a-z0-9_]+)\"")
    names = set()
    for path in [*ROOT.joinpath("services").rglob("*.py"), *ROOT.joinpath("shared").rglob("*.py")]:
        for name in pattern.findall(path.read_text()):
            names |= {name, name if name.endswith("_total") else f"{name}_total"}
    return names


def planned_in_the_docs() -> set[str]:
    """The metrics docs/operations.md lists as added by the services' own work."""
    text = DOCS.read_text()
    section = text.split("### Metrics the services add", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`(ovop_[a-z0-9_]+)", section))


def planned_labels() -> dict[str, set[str]]:
    """The labels docs/operations.md promises for each planned metric (its table's `{...}`)."""
    text = DOCS.read_text().split("### Metrics the services add", 1)[1].split("\n## ", 1)[0]
    out = {}
    for name, cell in re.findall(r"^\| `(ovop_[a-z0-9_]+)` \| ([^|]*)\|", text, re.M):
        labels = re.search(r"\{([^}]*)\}", cell)
        out[name] = {lb.strip() for lb in labels.group(1).split(",")} if labels else set()
    return out


def exported_labels() -> dict[str, set[str]]:
    """The label names of every metric the code registers (the default registry)."""
    out = {}
    for collector in list(REGISTRY._collector_to_names):
        name = getattr(collector, "_name", "")
        if name.startswith("ovop_"):
            out[name] = set(collector._labelnames)
            out[f"{name}_total"] = set(collector._labelnames)
    return out


def family(series: str) -> str:
    for suffix in SUFFIXES:
        if series.endswith(suffix):
            return series.removesuffix(suffix)
    return series


def recorded() -> set[str]:
    return {rule["record"] for rule in rules() if "record" in rule}


@pytest.mark.parametrize("rule", rules(), ids=lambda r: r.get("alert") or r.get("record"))
def test_every_rule_expression_parses(rule):
    promql_parser.parse(rule["expr"])


@pytest.mark.parametrize(("title", "expr"), dashboard_queries(), ids=lambda v: v[:40])
def test_every_dashboard_query_parses(title, expr):
    promql_parser.parse(expr)


def test_a_broken_query_would_fail():
    with pytest.raises(ValueError):
        promql_parser.parse("sum by (group (ovop_consumer_lag)")


def test_every_metric_queried_is_exported_or_planned():
    exprs = [r["expr"] for r in rules()] + [e for _, e in dashboard_queries()]
    known = exported_by_the_code() | planned_in_the_docs() | recorded()
    unknown = {
        name
        for expr in exprs
        for name in metric_names(expr)
        if not EXTERNAL.match(name) and name not in known and family(name) not in known
    }
    assert not unknown, f"neither exported by the code nor planned in docs/operations.md: {unknown}"


# Labels Prometheus adds from the ServiceMonitor's target (honorLabels keeps ours on a clash).
TARGET_LABELS = {"namespace", "pod", "job", "instance", "container", "endpoint"}


def _label_errors(expr: str, labels_of: dict[str, set[str]]) -> list[str]:
    errors: list[str] = []

    def allowed(node) -> set[str] | None:
        names = {family(n) for n in metric_names(node.prettify())}
        known = [labels_of.get(n) for n in names]
        if len(names) != 1 or known[0] is None:
            return None  # several metrics (or a recording rule): not checked here
        buckets = any(n.endswith("_bucket") for n in metric_names(node.prettify()))
        return known[0] | TARGET_LABELS | ({"le"} if buckets else set())

    def visit(node):
        if isinstance(node, promql_parser.AggregateExpr) and node.modifier is not None:
            ok = allowed(node.expr)
            if ok is not None and not set(node.modifier.labels) <= ok:
                errors.append(f"by {set(node.modifier.labels) - ok} in {node.prettify()[:80]}")
        if isinstance(node, promql_parser.VectorSelector):
            ok = allowed(node)
            used = {m.name for m in node.matchers.matchers} - {"__name__"}
            if ok is not None and not used <= ok:
                errors.append(f"{used - ok} on {node.name}")

    promql_parser.walk(promql_parser.parse(expr), visit)
    return errors


def test_every_label_queried_is_one_the_metric_has():
    labels_of = exported_labels() | planned_labels()
    assert labels_of["ovop_consumer_lag"] == {"service", "group", "topic", "partition"}
    assert labels_of["ovop_orders_received_total"] == {"channel", "account"}
    exprs = [r["expr"] for r in rules()] + [e for _, e in dashboard_queries()]
    errors = [err for expr in exprs for err in _label_errors(expr, labels_of)]
    assert not errors, "\n".join(errors)
    assert _label_errors("sum by (hub) (ovop_consumer_lag)", labels_of), "would catch a typo"


def test_the_planned_metrics_are_not_already_exported_under_another_name():
    """Once a service exports a planned metric, it is found in the code and needs no entry."""
    planned, exported = planned_in_the_docs(), exported_by_the_code()
    assert planned and "ovop_consumer_lag" not in planned
    assert CONSUMER_LAG._name in exported  # the lag gauge this work adds is found by the scan


def test_alerts_cover_lag_dead_letters_sms_outbox_and_late_pickups():
    alerts = {r["alert"]: r for r in rules() if "alert" in r}
    records = {r["record"]: metric_names(r["expr"]) for r in rules() if "record" in r}
    watched = set()
    for alert in alerts.values():
        for name in metric_names(alert["expr"]):
            watched |= records.get(name, {name})  # a recording rule stands for what it reads
    for metric in (
        "ovop_consumer_lag",
        "ovop_dead_lettered_total",
        "ovop_sms_failed_total",
        "ovop_outbox_backlog",
        "ovop_pickups_planned_late_total",
    ):
        assert metric in watched, metric
    for name, alert in alerts.items():
        assert alert["labels"]["severity"] in {"warning", "critical"}, name
        assert alert["annotations"]["summary"], name


def test_dashboard_shows_what_an_operator_watches_in_a_day():
    board = dashboard()
    panels = [p for p in board["panels"] if p["type"] != "row"]
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    queried = {name for _, expr in dashboard_queries() for name in metric_names(expr)}
    for metric in (
        "ovop_orders_received_total",  # orders per minute by channel
        "ovop_order_journey_seconds_bucket",  # end-to-end latency
        "ovop_consumer_lag",
        "ovop_dead_lettered_total",
        "ovop_sms_sent_total",
        "ovop_sms_failed_total",
        "ovop_pickup_wave_parcels_per_stop",  # consolidation KPIs
        "ovop_pickup_wave_baseline_cost",
    ):
        assert metric in queried, metric
    by_channel = [e for t, e in dashboard_queries() if "channel" in t.lower()]
    assert by_channel and all("by (channel)" in e for e in by_channel)
    for panel in panels:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}", "the datasource is a variable"
    assert {v["name"] for v in board["templating"]["list"]} == {"datasource", "namespace"}


def test_the_operator_docs_point_at_the_manifests_and_tools():
    docs = DOCS.read_text()
    for path in (
        "deploy/k8s/overlays/dev",
        "deploy/k8s/overlays/prod",
        "deploy/k8s/generate_topics.py",
        "deploy/grafana/ovop-fulfilment.json",
        "ovop dlq replay",
        "ovop channels rotate",
    ):
        assert path in docs, path
        if path.startswith("deploy/"):
            assert (ROOT / path).exists(), path
