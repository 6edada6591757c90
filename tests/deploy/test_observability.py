"""The Grafana dashboard and the PrometheusRule: every query parses as PromQL; every metric it
names is one the code registers with prometheus_client (the services' metrics modules are
imported and the default registry read: a metric only written in the docs does not count), every
label it uses is one that metric has, and every label value it picks is written in the owning
code; the alerts cover lag, dead letters, SMS failures, the outbox backlog and pickups planned
late; docs/operations.md lists exactly the registered metrics."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from types import ModuleType

import promql_parser
import pytest
import yaml
from prometheus_client import REGISTRY
from prometheus_client.metrics import MetricWrapperBase

import services.catalog.metrics
import services.logistics.metrics
import services.notifications.metrics
import services.orders.metrics
import shared.messaging.lag
import shared.metrics
from tests.deploy.deployfiles import ROOT

DASHBOARD = ROOT / "deploy" / "grafana" / "ovop-fulfilment.json"
RULES = ROOT / "deploy" / "k8s" / "base" / "monitoring" / "prometheusrule.yaml"
DOCS = ROOT / "docs" / "operations.md"
# Where each service's metrics are defined; "all": every service exports them.
METRIC_MODULES: dict[str, tuple[ModuleType, ...]] = {
    "all": (shared.metrics, shared.messaging.lag),
    "catalog": (services.catalog.metrics,),
    "logistics": (services.logistics.metrics,),
    "notifications": (services.notifications.metrics,),
    "orders": (services.orders.metrics,),
}
# Grafana's variables, as Grafana would substitute them before sending the query.
GRAFANA_VARS = {"$__rate_interval": "1m", "$namespace": "ovop", "${namespace}": "ovop"}
# Exported by Prometheus itself and kube-state-metrics (kube-prometheus-stack).
EXTERNAL = re.compile(r"^(up|kube_[a-z_]+)$")
# Labels Prometheus adds from the ServiceMonitor's target (honorLabels keeps ours on a clash).
TARGET_LABELS = {"namespace", "pod", "job", "instance", "container", "endpoint"}
# The series a metric family exposes, by type (prometheus_client's text format).
SERIES_SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
}


@dataclass(frozen=True)
class Family:
    name: str  # as documented: counters with their _total
    type: str
    labels: frozenset[str]
    service: str


def registered() -> dict[str, Family]:
    """Every ovop_ metric in prometheus_client's default registry, by the name it is documented
    under, with the service whose metrics module defines it."""
    owner = {
        id(obj): service
        for service, modules in METRIC_MODULES.items()
        for module in modules
        for obj in vars(module).values()
        if isinstance(obj, MetricWrapperBase)
    }
    out = {}
    for collector in list(REGISTRY._collector_to_names):
        if not isinstance(collector, MetricWrapperBase):
            continue
        [desc] = collector.describe()
        if not desc.name.startswith("ovop_"):
            continue
        name = f"{desc.name}_total" if desc.type == "counter" else desc.name
        out[name] = Family(
            name, desc.type, frozenset(collector._labelnames), owner.get(id(collector), "?")
        )
    return out


def exported_series() -> dict[str, Family]:
    """Series name (as a query names it) -> its family."""
    out = {}
    for family in registered().values():
        base = family.name.removesuffix("_total") if family.type == "counter" else family.name
        for suffix in SERIES_SUFFIXES[family.type]:
            out[base + suffix] = family
    return out


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


def all_exprs() -> list[str]:
    return [r["expr"] for r in rules()] + [e for _, e in dashboard_queries()]


def recorded() -> set[str]:
    return {rule["record"] for rule in rules() if "record" in rule}


def selectors(expr: str) -> list[tuple[str, dict[str, tuple[str, str]]]]:
    """Every vector selector of the query: (metric, {label: (op, value)})."""
    out = []

    def visit(node):
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            matchers = {
                m.name: (str(m.op).rsplit(".", 1)[-1], m.value)
                for m in node.matchers.matchers
                if m.name != "__name__"
            }
            out.append((node.name, matchers))

    promql_parser.walk(promql_parser.parse(expr), visit)
    return out


def metric_names(expr: str) -> set[str]:
    return {name for name, _ in selectors(expr)}


def picks(matchers: dict[str, tuple[str, str]], label: str, value: str) -> bool:
    """Whether the matchers select `label="value"` (equal, or a regex matching it)."""
    op, wanted = matchers.get(label, ("", ""))
    return (op == "Equal" and wanted == value) or (
        op == "Re" and re.fullmatch(wanted, value) is not None
    )


@pytest.mark.parametrize("rule", rules(), ids=lambda r: r.get("alert") or r.get("record"))
def test_every_rule_expression_parses(rule):
    promql_parser.parse(rule["expr"])


@pytest.mark.parametrize(("title", "expr"), dashboard_queries(), ids=lambda v: v[:40])
def test_every_dashboard_query_parses(title, expr):
    promql_parser.parse(expr)


def test_a_broken_query_would_fail():
    with pytest.raises(ValueError):
        promql_parser.parse("sum by (group (ovop_consumer_lag)")


def test_the_registry_holds_every_metric_module_of_every_service():
    families = registered()
    assert {f.service for f in families.values()} == set(METRIC_MODULES), "one module each"
    assert "?" not in {f.service for f in families.values()}, "a metric defined elsewhere"
    assert families["ovop_consumer_lag"] == Family(
        "ovop_consumer_lag", "gauge", frozenset({"service", "group", "topic", "partition"}), "all"
    )
    series = exported_series()
    assert series["ovop_sms_sent_total"].labels == {"provider", "channel", "message_type"}
    assert "ovop_sms_sent" not in series, "a counter is queried with its _total"
    assert "ovop_order_journey_seconds_bucket" in series


def test_every_metric_queried_is_registered_by_the_code():
    known = set(exported_series()) | recorded()
    unknown = {
        name
        for expr in all_exprs()
        for name in metric_names(expr)
        if not EXTERNAL.match(name) and name not in known
    }
    assert not unknown, f"no service registers: {unknown}"


def _label_errors(expr: str, series: dict[str, Family]) -> list[str]:
    """Labels a query uses (matchers, `by`, label_replace's source) that its metric lacks."""
    errors: list[str] = []

    def allowed(node) -> set[str] | None:
        names = metric_names(node.prettify())
        families = {series[n].name if n in series else None for n in names}
        if len(families) != 1 or None in families:
            return None  # several metrics (or a recording rule): not checked here
        [family] = [series[n] for n in names][:1]
        buckets = any(n.endswith("_bucket") for n in names)
        made: set[str] = set()  # labels the query itself adds with label_replace

        def replaced(inner):
            if isinstance(inner, promql_parser.Call) and inner.func.name == "label_replace":
                made.add(inner.args[1].val)

        promql_parser.walk(node, replaced)
        return set(family.labels) | TARGET_LABELS | made | ({"le"} if buckets else set())

    def visit(node):
        if isinstance(node, promql_parser.AggregateExpr) and node.modifier is not None:
            ok = allowed(node.expr)
            if ok is not None and not set(node.modifier.labels) <= ok:
                errors.append(f"by {set(node.modifier.labels) - ok} in {node.prettify()[:80]}")
        if isinstance(node, promql_parser.Call) and node.func.name == "label_replace":
            ok = allowed(node.args[0])
            if ok is not None and node.args[3].val not in ok:
                errors.append(f"label_replace from {node.args[3].val} in {node.prettify()[:80]}")
        if isinstance(node, promql_parser.VectorSelector):
            ok = allowed(node)
            used = {m.name for m in node.matchers.matchers} - {"__name__"}
            if ok is not None and not used <= ok:
                errors.append(f"{used - ok} on {node.name}")

    promql_parser.walk(promql_parser.parse(expr), visit)
    return errors


def test_every_label_queried_is_one_the_metric_has():
    series = exported_series()
    errors = [err for expr in all_exprs() for err in _label_errors(expr, series)]
    assert not errors, "\n".join(errors)
    assert _label_errors("sum by (hub) (ovop_consumer_lag)", series), "would catch a typo"
    assert _label_errors('ovop_logistics_wave_kpi{hub="H"}', series), "the planned name"
    assert _label_errors(
        'sum by (channel) (label_replace(ovop_orders_backlog, "channel", "$1", "platform", ".*"))',
        series,
    ), "label_replace from a label the metric lacks"
    assert not _label_errors(
        'sum by (channel) (label_replace(ovop_orders_stock_pushes_total, "c", "$1", "channel",'
        ' ".*"))',
        series,
    )


def _source_literals(service: str) -> set[str]:
    """The string literals of a service's code (shared code counts for every service)."""
    dirs = [ROOT / "shared"] + (
        [ROOT / "services"] if service == "all" else [ROOT / "services" / service]
    )
    return {
        literal
        for folder in dirs
        for path in folder.rglob("*.py")
        for literal in re.findall(r"\"([A-Za-z0-9_.:-]+)\"", path.read_text())
    }


def test_every_label_value_queried_is_one_the_code_writes():
    """kpi="parcel_per_stop" or measure="lates" would show an empty panel or never alert."""
    series, literals = exported_series(), {}
    errors = []
    for expr in all_exprs():
        for name, matchers in selectors(expr):
            family = series.get(name)
            if family is None:
                continue
            known = literals.setdefault(family.service, _source_literals(family.service))
            for label, (op, value) in matchers.items():
                if label in TARGET_LABELS or op not in ("Equal", "NotEqual", "Re"):
                    continue
                values = value.split("|") if op == "Re" else [value]
                errors += [f'{name}{{{label}="{v}"}}' for v in values if v not in known]
    assert not errors, "values no code writes:\n" + "\n".join(sorted(set(errors)))
    assert "parcels_per_stop" in _source_literals("logistics")
    assert "parcel_per_stop" not in _source_literals("logistics")


def test_alerts_cover_lag_dead_letters_sms_outbox_and_late_pickups():
    alerts = {r["alert"]: r for r in rules() if "alert" in r}
    records = {r["record"]: r["expr"] for r in rules() if "record" in r}
    watched: list[tuple[str, dict]] = []
    for alert in alerts.values():
        for name, matchers in selectors(alert["expr"]):
            # A recording rule stands for what it reads.
            watched += selectors(records[name]) if name in records else [(name, matchers)]
    needed = [
        ("ovop_consumer_lag", {}),
        ("ovop_dead_lettered_total", {}),
        ("ovop_sms_failed_total", {"channel": "sms"}),
        ("ovop_sms_sent_total", {"channel": "sms"}),
        ("ovop_outbox_backlog", {}),
        ("ovop_logistics_planned_total", {"plan": "plan", "measure": "late"}),
        ("ovop_orders_webhooks_dead_lettered_total", {}),
        ("ovop_orders_backlog", {"kind": "queued_webhooks"}),
    ]
    for metric, labels in needed:
        assert any(
            name == metric and all(picks(m, k, v) for k, v in labels.items()) for name, m in watched
        ), (metric, labels)
    for name, alert in alerts.items():
        assert alert["labels"]["severity"] in {"warning", "critical"}, name
        assert alert["annotations"]["summary"], name
    late = alerts["OvopPickupsPlannedLate"]
    assert "$labels.hub_id" in late["annotations"]["summary"], "the label the metric has"


def test_dashboard_shows_what_an_operator_watches_in_a_day():
    board = dashboard()
    panels = [p for p in board["panels"] if p["type"] != "row"]
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    queried = [s for _, expr in dashboard_queries() for s in selectors(expr)]
    wanted = [
        ("ovop_orders_webhooks_applied_total", {"outcome": "created"}),  # orders by channel
        ("ovop_orders_detail_fetches_total", {"outcome": "applied"}),
        ("ovop_order_journey_seconds_bucket", {"stage": "pickup_scheduled"}),  # end to end
        ("ovop_order_journey_seconds_bucket", {"stage": "confirmed"}),
        ("ovop_notification_latency_seconds_bucket", {"channel": "sms"}),
        ("ovop_consumer_lag", {}),
        ("ovop_dead_lettered_total", {}),
        ("ovop_outbox_backlog", {}),
        ("ovop_sms_sent_total", {"channel": "sms"}),  # SMS by status
        ("ovop_sms_failed_total", {"channel": "sms"}),
        ("ovop_sms_delivery_reports_total", {}),
        # consolidation KPIs: cost per parcel beside both baselines, fill, stops, on time
        ("ovop_logistics_wave_kpi", {"plan": "plan", "kpi": "parcels_per_stop"}),
        ("ovop_logistics_wave_kpi", {"plan": "plan", "kpi": "stops_per_route"}),
        ("ovop_logistics_wave_kpi", {"kpi": "cost_per_parcel"}),
        ("ovop_logistics_wave_kpi", {"plan": "plan", "kpi": "weight_fill"}),
        ("ovop_logistics_wave_kpi", {"plan": "plan", "kpi": "volume_fill"}),
        ("ovop_logistics_wave_kpi", {"plan": "plan", "kpi": "on_time_pct"}),
        ("ovop_logistics_planned_total", {"plan": "plan", "measure": "late"}),
        ("ovop_logistics_planned_total", {"plan": "plan", "measure": "deferred"}),
        ("ovop_logistics_planned_total", {"measure": "cost"}),
    ]
    for metric, labels in wanted:
        assert any(
            name == metric and all(picks(m, k, v) for k, v in labels.items()) for name, m in queried
        ), (metric, labels)
    # The baselines beside the plan: the cost per parcel is not narrowed to one plan kind.
    cost = [
        m
        for n, m in queried
        if n == "ovop_logistics_wave_kpi" and picks(m, "kpi", "cost_per_parcel")
    ]
    assert cost and all("plan" not in m for m in cost)
    by_channel = [e for t, e in dashboard_queries() if "channel" in t.lower()]
    assert by_channel and all("by (channel)" in e for e in by_channel)
    for panel in panels:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}", "the datasource is a variable"
    assert {v["name"] for v in board["templating"]["list"]} == {"datasource", "namespace"}


def documented() -> dict[str, Family]:
    """The table of docs/operations.md's "### Metrics": metric, type, labels, service."""
    section = DOCS.read_text().split("### Metrics\n", 1)[1].split("\n## ", 1)[0]
    out = {}
    for name, kind, labels, service in re.findall(
        r"^\| `(ovop_[a-z0-9_]+)` \| (\w+) \| ([^|]*)\| (\w+) \|", section, re.M
    ):
        out[name] = Family(name, kind, frozenset(re.findall(r"`(\w+)`", labels)), service)
    return out


def test_the_operator_docs_list_exactly_the_metrics_the_code_registers():
    docs, code = documented(), registered()
    assert docs, "the table was found"
    assert set(docs) == set(code), (
        f"undocumented: {set(code) - set(docs)}; not registered: {set(docs) - set(code)}"
    )
    wrong = {name: (docs[name], code[name]) for name in code if docs[name] != code[name]}
    assert not wrong, wrong
    assert "Metrics the services add" not in DOCS.read_text(), "no planned names left"


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
