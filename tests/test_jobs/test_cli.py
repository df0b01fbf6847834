"""``python -m app sync`` (``sync_main``) and ``scripts/demo.py`` against the simulator."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from app.core.database import dispose_engines
from app.jobs.cli import sync_main
from app.warehouse.factory import open_warehouse
from tests.test_jobs.helpers import differences

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli_env(monkeypatch, tmp_path, sim_factory):
    sim = sim_factory(issues=60, seed=4)
    env = {
        "KAIRUS_ENV_FILE": "",
        "DEBUG": "false",
        "SECRET_KEY": "k" * 48,
        "ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "ADMIN_PASSWORD": "admin-password-123",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'meta.db'}",
        "DUCKDB_PATH": str(tmp_path / "wh.duckdb"),
        "JIRA_URL": sim.base_url,
        "JIRA_USERNAME": sim.config.email,
        "JIRA_TOKEN": sim.config.token,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for key in ("SNOWFLAKE_ACCOUNT", "SNOWFLAKE_USER", "JIRA_PROJECTS", "JIRA_JQL", "LOG_LEVEL"):
        monkeypatch.delenv(key, raising=False)
    yield sim, tmp_path / "wh.duckdb", env
    dispose_engines()


def test_sync_full_then_incremental_prints_summaries_and_matches_truth(cli_env, capsys):
    sim, path, _ = cli_env
    assert sync_main(["--mode", "full"]) == 0
    out = capsys.readouterr().out
    assert "full sync succeeded" in out and "issue_changelog" in out and "requests:" in out
    sim.clock(advance_s=600)
    sim.mutate(seed=2, update=3, add_comments=2, create=2)
    assert sync_main([]) == 0
    out = capsys.readouterr().out
    assert "incremental sync succeeded" in out
    warehouse = open_warehouse(duckdb_path=path, schema="jira", snowflake=None)
    try:
        assert differences(warehouse, sim.truth()) == {}
    finally:
        warehouse.close()


def test_sync_fails_at_once_when_another_process_holds_the_duckdb_file(cli_env, capsys):
    _sim, path, _ = cli_env
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(path)!r}); print('ok', flush=True); "
            "time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        assert sync_main(["--mode", "full"]) == 3
        err = capsys.readouterr().err
        assert "another process" in err and "/api/v1/etl/jira/extract" in err
    finally:
        holder.kill()
        holder.wait()


def test_sync_without_jira_settings_is_a_configuration_error(cli_env, monkeypatch, capsys):
    monkeypatch.delenv("JIRA_URL")
    assert sync_main(["--mode", "full"]) == 2
    assert "JIRA_URL" in capsys.readouterr().err


def test_sync_of_unknown_integration_is_a_configuration_error(cli_env, capsys):
    assert sync_main(["--integration", "nope"]) == 2
    assert "nope" in capsys.readouterr().err


def test_demo_script_runs_full_and_incremental_syncs(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JIRA_", "SNOWFLAKE_", "DATABASE_URL"))}
    env.update({"DEMO_ISSUES": "60", "DEMO_DATA_DIR": str(tmp_path)})
    done = subprocess.run(
        [sys.executable, "scripts/demo.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "full sync succeeded" in done.stdout and "incremental sync succeeded" in done.stdout
    assert "mutated the simulated site" in done.stdout
    assert (tmp_path / "warehouse.duckdb").exists()


def test_sync_of_a_named_integration_uses_its_stored_site(cli_env, capsys, monkeypatch):
    sim, path, env = cli_env
    assert (
        sync_main(["--mode", "full", "--projects", "NOPE1"]) != 0
    )  # creates the metadata DB; no such project
    capsys.readouterr()
    from app.core.database import create_db_engine
    from tests.test_jobs.conftest import add_integration

    engine = create_db_engine(env["DATABASE_URL"])
    add_integration(engine, env["ENCRYPTION_KEY"], name="named", base_url=sim.base_url)
    engine.dispose()
    monkeypatch.setenv("JIRA_URL", "http://127.0.0.1:9")  # the env site is not used for a named integration
    assert sync_main(["--integration", "named", "--mode", "full"]) == 0
    assert "full sync succeeded" in capsys.readouterr().out
    warehouse = open_warehouse(duckdb_path=path, schema="jira", snowflake=None)
    try:
        assert differences(warehouse, sim.truth()) == {}
    finally:
        warehouse.close()
