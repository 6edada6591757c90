"""Rendering and validating the Kubernetes manifests offline: `kubectl kustomize` renders an
overlay, `kubernetes-validate --strict` checks the built-in kinds, and the custom resources are
checked against the CRD JSON schemas kept in deploy/k8s/schemas."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import jsonschema
import yaml

from tests.deploy.deployfiles import ROOT

K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
# The oldest Kubernetes the manifests promise to work on, and the newest the tool knows.
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")


def kubectl() -> str:
    found = shutil.which("kubectl")
    assert found, "kubectl is needed to render the overlays (`kubectl kustomize` needs no cluster)"
    return found


def render(overlay_dir: Path) -> str:
    result = subprocess.run(
        [kubectl(), "kustomize", str(overlay_dir)], capture_output=True, text=True, timeout=120
    )
    if result.returncode != 0:
        raise RenderError(result.stderr.strip())
    return result.stdout


class RenderError(Exception):
    pass


def documents(text: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if d]


def builtin_errors(rendered: str, tmp: Path, version: str) -> list[str]:
    """kubernetes-validate --strict on every built-in kind (it only warns on custom ones)."""
    path = tmp / f"rendered-{version}.yaml"
    path.write_text(rendered)
    tool = Path(sys.executable).parent / "kubernetes-validate"
    result = subprocess.run(
        [str(tool), "--strict", "--no-warn", "--quiet", "-k", version, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode == 0:
        return []
    return [ln for ln in result.stdout.splitlines() if ln.startswith("ERROR")] or [result.stderr]


BUILTIN_GROUPS = {"", "apps", "batch", "policy", "networking.k8s.io", "rbac.authorization.k8s.io"}


def group_version(doc: dict) -> tuple[str, str]:
    group, _, version = doc["apiVersion"].rpartition("/")
    return group, version


def is_custom(doc: dict) -> bool:
    return group_version(doc)[0] not in BUILTIN_GROUPS


@cache
def crd_schema(group: str, kind: str, version: str) -> dict | None:
    path = K8S / "schemas" / group / f"{kind.lower()}-{version}.json"
    return json.loads(path.read_text()) if path.exists() else None


def crd_errors(docs: list[dict], schemas_dir: Path | None = None) -> list[str]:
    """Every custom resource against its CRD schema; a kind without a schema is an error."""
    errors = []
    for doc in filter(is_custom, docs):
        group, version = group_version(doc)
        name = f"{doc['kind']}/{doc.get('metadata', {}).get('name')}"
        if schemas_dir is None:
            schema = crd_schema(group, doc["kind"], version)
        else:
            path = schemas_dir / group / f"{doc['kind'].lower()}-{version}.json"
            schema = json.loads(path.read_text()) if path.exists() else None
        if schema is None:
            errors.append(f"{name}: no CRD schema for {doc['apiVersion']} in deploy/k8s/schemas")
            continue
        validator = jsonschema.Draft7Validator(schema)
        for err in validator.iter_errors(doc):
            where = "/".join(map(str, err.absolute_path))
            errors.append(f"{name}: {where}: {err.message}")
    return errors


def of_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def named(docs: list[dict], kind: str, name: str) -> dict:
    found = [d for d in of_kind(docs, kind) if d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def selects(selector: dict, labels: dict) -> bool:
    """A label selector (matchLabels and matchExpressions) against a set of labels."""
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        value, op = labels.get(expr["key"]), expr["operator"]
        if op == "In" and value not in expr["values"]:
            return False
        if op == "NotIn" and value in expr["values"]:
            return False
        if op == "Exists" and value is None:
            return False
        if op == "DoesNotExist" and value is not None:
            return False
    return True
