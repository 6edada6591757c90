"""The inline one-shot scripts of the deploy files, run for real against the test broker: the
compose `topics` service creates every registry topic, and the Kubernetes migration Job's
`wait-for-topics` init container returns once they all exist (and waits while one is missing)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

from shared.contracts.topics import all_topic_specs
from shared.messaging.admin import partition_counts
from tests.deploy.deployfiles import ROOT

pytestmark = pytest.mark.integration


def compose_topics_script() -> str:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    topics = compose["services"]["topics"]
    assert topics["entrypoint"] == ["python", "-c"]
    return topics["command"][0]


def wait_for_topics_script() -> str:
    docs = yaml.safe_load_all((ROOT / "deploy/k8s/base/migrate-job.yaml").read_text())
    [job] = [d for d in docs if d and d["kind"] == "Job"]
    [wait] = job["spec"]["template"]["spec"]["initContainers"]
    assert wait["command"] == ["python", "-c"]
    return wait["args"][0]


def run(script: str, bootstrap: str, timeout: float) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=timeout
    )


async def test_compose_topics_one_shot_creates_every_registry_topic(kafka_bootstrap):
    result = run(compose_topics_script(), kafka_bootstrap, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("topics created:")
    wanted = {name: parts for name, parts, _ in all_topic_specs()}
    assert await partition_counts(kafka_bootstrap, wanted) == wanted


async def test_wait_for_topics_returns_once_every_topic_exists(kafka_bootstrap):
    assert run(compose_topics_script(), kafka_bootstrap, timeout=120).returncode == 0
    result = run(wait_for_topics_script(), kafka_bootstrap, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "waiting" not in result.stdout


def test_wait_for_topics_keeps_waiting_while_the_broker_has_none():
    # Nothing listens on port 9: the script must keep waiting (the Job's init container), not
    # exit and let `ovop setup` create the topics with one replica.
    with pytest.raises(subprocess.TimeoutExpired) as waited:
        run(wait_for_topics_script(), "127.0.0.1:9", timeout=8)
    assert b"waiting for topics" in (waited.value.stdout or b"")
