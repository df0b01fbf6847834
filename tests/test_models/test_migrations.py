"""Alembic migrations on SQLite and PostgreSQL: they build exactly the models' schema, both ways."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from app.__main__ import main
from app.core.database import create_db_engine
from app.core.migrate import alembic_config, current_revision, head_revision, upgrade_head
from app.models import Base

ROOT = Path(__file__).resolve().parents[2]
TABLES = {"integrations", "jobs", "job_events", "sync_state", "dev_fingerprints"}


def _diff(url: str) -> list[object]:
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def test_migrations_match_the_models(db_url: str) -> None:
    assert upgrade_head(db_url) == head_revision()
    assert _diff(db_url) == []


def test_expected_indexes_exist(db_url: str) -> None:
    upgrade_head(db_url)
    engine = create_db_engine(db_url)
    inspector = sa.inspect(engine)
    assert set(inspector.get_table_names()) >= TABLES
    job_indexes = {tuple(ix["column_names"]) for ix in inspector.get_indexes("jobs")}
    assert ("integration_id", "status") in job_indexes
    assert ("status", "created_at") in job_indexes
    event_indexes = {tuple(ix["column_names"]) for ix in inspector.get_indexes("job_events")}
    assert ("job_id", "id") in event_indexes
    assert inspector.get_pk_constraint("sync_state")["constrained_columns"] == ["integration_id", "stream"]
    assert inspector.get_pk_constraint("dev_fingerprints")["constrained_columns"] == [
        "integration_id",
        "issue_id",
    ]
    engine.dispose()


def test_downgrade_and_upgrade_again(db_url: str) -> None:
    upgrade_head(db_url)
    command.downgrade(alembic_config(db_url), "base")
    engine = create_db_engine(db_url)
    assert not TABLES & set(sa.inspect(engine).get_table_names())
    engine.dispose()
    assert current_revision(db_url) is None
    upgrade_head(db_url)
    assert _diff(db_url) == []


def test_init_db_cli_is_idempotent(db_url: str, capsys) -> None:
    assert main(["init-db", "--database-url", db_url]) == 0
    assert main(["init-db", "--database-url", db_url]) == 0
    assert f"revision {head_revision()}" in capsys.readouterr().out


def test_init_db_script_runs_from_anywhere(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'script.db'}"
    env = {**os.environ, "KAIRUS_ENV_FILE": "", "DATABASE_URL": url, "DEBUG": "true"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "init_db.py")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert current_revision(url) == head_revision()


def test_replicas_migrating_at_once_do_not_collide(pg_url: str) -> None:
    # Separate processes, like replicas (Alembic's context is process-global, so threads cannot do this).
    env = {**os.environ, "KAIRUS_ENV_FILE": ""}
    command_line = [sys.executable, "-m", "app", "init-db", "--database-url", pg_url]
    processes = [
        subprocess.Popen(
            command_line, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    for process in processes:
        _out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    assert current_revision(pg_url) == head_revision()
    assert _diff(pg_url) == []
