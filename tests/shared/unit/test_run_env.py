"""The env file `ovop run` writes for `ovop` commands in other terminals, and how they read it."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from shared.settings import (
    REPO_ROOT,
    RUN_PID,
    StaleRunEnv,
    read_run_env,
    remove_run_env,
    run_env_applied,
    run_env_file,
    write_run_env,
)

SERVERS = {
    "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:19092",
    "DATABASE_URL": "postgresql://ovop:p@ss w0rd@127.0.0.1:15432/postgres",
    "ADMIN_TOKEN": "tok-en_1",
}


@pytest.fixture
def run_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OVOP_RUN_DIR", str(tmp_path))
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "ORDERS_DATABASE_URL", "ADMIN_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_without_server_variables_the_cli_reads_the_servers_and_token_of_the_run(run_dir):
    write_run_env(SERVERS)
    assert read_run_env({}) == SERVERS


@pytest.mark.parametrize(
    "given", ["KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "NOTIFICATIONS_DATABASE_URL"]
)
def test_a_server_named_by_the_environment_wins_over_the_whole_file(run_dir, given):
    write_run_env(SERVERS)
    assert read_run_env({given: "elsewhere:1"}) == {}


def test_the_file_is_its_owners_only_and_replaced_whole(run_dir):
    write_run_env(SERVERS)
    path = write_run_env(SERVERS | {"ADMIN_TOKEN": "second"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_run_env({})["ADMIN_TOKEN"] == "second"
    assert [p.name for p in run_dir.iterdir()] == ["env"], "no temporary file left"


def test_the_file_is_a_shell_script_that_exports_the_same_values(run_dir):
    path = write_run_env(SERVERS)
    out = subprocess.run(
        ["sh", "-c", f'set -a; . "{path}"; printf %s "$DATABASE_URL"'],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"]},
        check=True,
    )
    assert out.stdout == SERVERS["DATABASE_URL"]


def test_a_file_whose_run_has_stopped_is_refused_as_stale(run_dir):
    gone = subprocess.Popen(["true"])
    gone.wait()
    path = write_run_env(SERVERS)
    path.write_text(path.read_text().replace(f"{RUN_PID}={os.getpid()}", f"{RUN_PID}={gone.pid}"))
    with pytest.raises(StaleRunEnv, match=f"pid {gone.pid}"):
        read_run_env({})


def test_no_file_means_nothing_to_read(run_dir):
    assert read_run_env({}) == {}


def test_the_file_is_found_from_the_repository_in_any_working_directory(
    tmp_path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("OVOP_RUN_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    assert run_env_file() == REPO_ROOT / ".devstack" / "run" / "env"


def test_a_run_removes_its_own_file_but_not_the_one_another_run_wrote(run_dir):
    path = write_run_env(SERVERS)
    remove_run_env()
    assert not path.exists()
    write_run_env(SERVERS)
    path.write_text(path.read_text().replace(f"{RUN_PID}={os.getpid()}", f"{RUN_PID}=1"))
    remove_run_env()
    assert path.exists()


def test_applied_values_complete_the_environment_for_the_command_only(
    run_dir, monkeypatch: pytest.MonkeyPatch
):
    write_run_env(SERVERS)
    monkeypatch.setenv("ADMIN_TOKEN", "mine")
    with run_env_applied():
        assert os.environ["DATABASE_URL"] == SERVERS["DATABASE_URL"]
        assert os.environ["ADMIN_TOKEN"] == "mine", "what the environment sets is kept"
    assert "DATABASE_URL" not in os.environ


def test_with_no_server_named_anywhere_the_cli_says_so_in_one_line_without_a_traceback(run_dir):
    from click.testing import CliRunner

    from services.cli import main

    result = CliRunner().invoke(main, ["orders", "list"])
    assert result.exit_code == 1
    assert "set DATABASE_URL" in result.output and "make run" in result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, RuntimeError)
