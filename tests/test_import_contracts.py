"""The layering as import-linter contracts (pyproject.toml), checked on every `make test`: they
hold, and each one bites: a copy of the code with one forbidden import added breaks the contract
that forbids it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
CONTRACTS = {contract["id"]: contract["name"] for contract in CONFIG["contracts"]}
LINT = "from importlinter.cli import lint_imports_command as lint; raise SystemExit(lint())"


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """import-linter on the `services` and `shared` packages found in `root`."""
    return subprocess.run(
        [sys.executable, "-c", LINT, "--no-cache", "--no-logo"],
        cwd=root,
        env=os.environ | {"PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_import_contracts_hold() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in result.stdout


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The Python files of `services` and `shared`, and the contracts, in a folder of their own."""
    root = tmp_path_factory.mktemp("code")

    def not_python(_: str, names: list[str]) -> set[str]:
        return {n for n in names if "." in n and not n.endswith(".py")}

    for package in ("services", "shared"):
        shutil.copytree(ROOT / package, root / package, ignore=not_python)
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    result = lint_imports(root)
    assert result.returncode == 0, result.stdout + result.stderr
    yield root


@pytest.mark.parametrize(
    ("module", "statement", "contract"),
    [
        ("services/orders/domain/leak.py", "import asyncpg", "domains"),
        ("services/notifications/domain/leak.py", "import structlog", "domains"),
        (
            "services/catalog/domain/leak.py",
            "from services.catalog.adapters import postgres",
            "domains",
        ),
        ("services/logistics/domain/leak.py", "from services.logistics import handlers", "domains"),
        ("services/orders/leak.py", "from services.catalog import handlers", "services"),
        ("services/catalog/leak.py", "from services.platform import serve", "services"),
        ("shared/leak.py", "from services.orders.domain import model", "services"),
        ("services/orders/entrypoints/leak.py", "from services.orders import jobs", "entrypoints"),
        (
            "services/logistics/entrypoints/leak.py",
            "from services.logistics import jobs",
            "entrypoints",
        ),
    ],
)
def test_a_forbidden_import_breaks_its_contract(
    copy: Path, module: str, statement: str, contract: str
) -> None:
    leak = copy / module
    leak.write_text(f"{statement}\n")
    try:
        result = lint_imports(copy)
    finally:
        leak.unlink()
    assert result.returncode != 0, result.stdout
    assert f"{CONTRACTS[contract]} BROKEN" in " ".join(result.stdout.split()), result.stdout
    assert module.removesuffix(".py").replace("/", ".") in result.stdout
