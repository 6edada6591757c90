"""The style the project holds itself to, checked on every `make test`: ruff everywhere, mypy on
shared/ and the pure domains (the files are listed in pyproject.toml)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_ruff_finds_nothing() -> None:
    result = _run("ruff", "check", "services", "shared", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing_in_shared_and_the_domains() -> None:
    result = _run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr
