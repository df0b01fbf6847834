"""DuckDB's storage choices: small row groups, child tables without an index, INSERT for unstored keys."""

from __future__ import annotations

from pathlib import Path

import duckdb

from app.pipeline.schema import CHILD_TABLES, TABLES
from app.warehouse import dialect as sql
from app.warehouse.duckdb import ROW_GROUP_SIZE, DuckDBWarehouse
from app.warehouse.sql_warehouse import SqlWarehouse
from tests.test_warehouse.conftest import column
from tests.test_warehouse.payloads import issue, rows

T1 = "2025-03-01T10:00:00.000+0000"
T2 = "2025-03-02T10:00:00.000+0000"


def _row_groups(wh: DuckDBWarehouse, table: str) -> int:
    wh._execute("CHECKPOINT")
    found = wh._query(f"SELECT COUNT(DISTINCT row_group_id) FROM pragma_storage_info('jira.{table}')")
    return int(found[0][0])


def test_the_file_is_written_in_small_row_groups(tmp_path: Path) -> None:
    wh = DuckDBWarehouse(tmp_path / "w.duckdb")
    wh.ensure_schema()
    n = ROW_GROUP_SIZE * 3
    wh._execute(
        "INSERT INTO jira.users (account_id, display_name) "
        f"SELECT 'u' || i::VARCHAR, 'User ' || i::VARCHAR FROM range({n}) AS t(i)"
    )
    # DuckDB's default (122,880 rows a group) would hold all of them in one row group.
    assert _row_groups(wh, "users") == 3
    wh.close()
    # The file reopens (also without the option, as any DuckDB client would open it) with every row.
    wh = DuckDBWarehouse(tmp_path / "w.duckdb")
    assert wh.table_counts()["users"] == n
    wh.close()
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    assert con.execute("SELECT COUNT(*) FROM jira.users").fetchone() == (n,)
    con.close()


def test_a_path_with_a_quote_opens(tmp_path: Path) -> None:
    wh = DuckDBWarehouse(tmp_path / "it's here.duckdb")
    wh.ensure_schema()
    wh.load(rows(issue(1, T1)), job_id="j", batch_no=1)
    assert wh.table_counts()["issues"] == 1
    wh.close()


def test_duckdb_child_tables_have_no_key_index_and_snowflake_declares_every_key() -> None:
    for name in CHILD_TABLES:
        table = TABLES[name]
        assert "PRIMARY KEY" not in sql.create_table_sql(sql.DUCKDB, "jira", table), name
        assert "PRIMARY KEY" in sql.create_table_sql(sql.SNOWFLAKE, "jira", table), name
    for name in ("issues", "projects", "load_audit", "quarantine"):
        assert "PRIMARY KEY" in sql.create_table_sql(sql.DUCKDB, "jira", TABLES[name]), name


def test_child_keys_stay_unique_across_replacements_and_replays(tmp_path: Path) -> None:
    wh = DuckDBWarehouse(tmp_path / "w.duckdb")
    wh.ensure_schema()
    batch = rows(issue(1, T1, comments=(11, 12), histories=3, commits=2), issue(2, T1, comments=(13,)))
    wh.load(batch, job_id="j", batch_no=1)
    wh.load(batch, job_id="j", batch_no=1)  # a replay
    wh.load(rows(issue(1, T2, comments=(11, 12, 14), histories=3, commits=2)), job_id="j", batch_no=2)
    for name in CHILD_TABLES:
        table = TABLES[name]
        keys = ", ".join(table.primary_key)
        dupes = wh._query(f"SELECT {keys} FROM jira.{name} GROUP BY {keys} HAVING COUNT(*) > 1")
        assert dupes == [], name
    assert wh.fetch_keys("comments") == ["11", "12", "13", "14"]
    wh.close()


def test_a_batch_of_new_and_stored_issues_inserts_one_and_updates_the_other(warehouse: SqlWarehouse) -> None:
    first = warehouse.load(rows(issue(1, T1, summary="first")), job_id="j", batch_no=1)
    assert first["issues"] == {"rows_in": 1, "inserted": 1, "updated": 0, "deleted": 0}
    second = warehouse.load(
        rows(issue(1, T2, summary="edited"), issue(2, T1, summary="new")), job_id="j", batch_no=2
    )
    assert second["issues"] == {"rows_in": 2, "inserted": 1, "updated": 1, "deleted": 0}
    assert column(warehouse, "issues", "summary") == ["edited", "new"]
    # Stored keys only, all older: nothing is inserted and nothing changes.
    third = warehouse.load(rows(issue(1, T1, summary="stale")), job_id="j", batch_no=3)
    assert third["issues"] == {"rows_in": 1, "inserted": 0, "updated": 0, "deleted": 0}
    assert column(warehouse, "issues", "summary") == ["edited", "new"]


def test_json_columns_are_stored_with_zstd_and_short_strings_with_duckdbs_choice(tmp_path: Path) -> None:
    wh = DuckDBWarehouse(tmp_path / "w.duckdb")
    wh.ensure_schema()
    wh._execute("ALTER TABLE jira.issues DROP COLUMN custom_fields")  # re-added by ensure_schema below
    wh.ensure_schema()
    batch = rows(*(issue(i, T1, comments=(10 * i,)) for i in range(1, 300)))
    wh.load(batch, job_id="j", batch_no=1)
    wh._execute("CHECKPOINT")
    found = wh._query(
        "SELECT column_name, compression FROM pragma_storage_info('jira.issues') "
        "WHERE segment_type IN ('VARCHAR', 'JSON') AND compression <> 'Constant' GROUP BY ALL"
    )
    by_column: dict[str, set[str]] = {}
    for name, compression in found:
        by_column.setdefault(name, set()).add(compression)
    for name in ("raw", "custom_fields", "labels"):  # custom_fields: added by ALTER TABLE, also zstd
        assert by_column[name] == {"ZSTD"}, (name, by_column)
    assert "ZSTD" not in by_column["issue_key"], by_column
    wh.close()


def _forced_compression(wh: DuckDBWarehouse) -> str:
    return str(wh._query("SELECT current_setting('force_compression')")[0][0]).lower()


def test_a_file_from_before_per_column_compression_keeps_zstd_for_its_json(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))  # the issues table as earlier versions created it
    con.execute("CREATE SCHEMA jira")
    con.execute("CREATE TABLE jira.issues (issue_id VARCHAR, raw JSON, PRIMARY KEY (issue_id))")
    con.close()
    wh = DuckDBWarehouse(path)
    wh.ensure_schema()  # adds the other columns; raw keeps its definition
    assert _forced_compression(wh) == "zstd"
    wh.load(rows(*(issue(i, T1) for i in range(1, 50))), job_id="j", batch_no=1)
    wh._execute("CHECKPOINT")
    found = wh._query(
        "SELECT DISTINCT compression FROM pragma_storage_info('jira.issues') "
        "WHERE column_name = 'raw' AND segment_type = 'JSON' AND compression <> 'Constant'"
    )
    assert found == [("ZSTD",)]
    wh.close()
    fresh = DuckDBWarehouse(tmp_path / "new.duckdb")
    fresh.ensure_schema()
    assert _forced_compression(fresh) != "zstd"  # new files declare it per JSON column instead
    fresh.close()
