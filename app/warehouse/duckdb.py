"""DuckDB warehouse: the embedded default (one file, one writer process)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from app.core.errors import KairusError, WarehouseError, WarehouseLockedError
from app.pipeline.schema import TABLES, Table
from app.warehouse import dialect as sql
from app.warehouse.sql_warehouse import SqlWarehouse

_JSON = pa.json_()

#: Rows per row group of the file (DuckDB's default is 122,880). A checkpoint rewrites every row group a
#: commit appended to, so with the default the issues table (one row group until 122,880 issues, raw JSON
#: included) is rewritten whole at every checkpoint and a sync's checkpoints cost O(issues^2). With small
#: groups a checkpoint rewrites at most one partly filled group per table, so its cost stays flat as the
#: tables grow. 8,192 (four 2,000-issue batches) measured best for loading 20,000 issues: 2.8-2.9 s of CPU
#: vs 3.3 s at 2,048 (the smallest, one vector; more groups to create and describe) and 3.4 s at 12,288.
ROW_GROUP_SIZE = 8192


class DuckDBWarehouse(SqlWarehouse):
    """A DuckDB file (or ``:memory:``). Opening a file another process holds raises WarehouseLockedError."""

    dialect = sql.DUCKDB
    sole_writer = True  # one process holds the file's lock, and a warehouse object is used by one thread

    def __init__(
        self,
        path: str | Path,
        *,
        schema: str = "jira",
        threads: int | None = None,
        checkpoint_threshold: str = "64MB",
        memory_limit: str | None = "256MB",
        string_compression: str | None = None,
        row_group_size: int | None = ROW_GROUP_SIZE,
    ) -> None:
        self.path = str(path)
        self.schema = schema
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # DuckDB checkpoints (rewrites and compresses table files) whenever the WAL passes 16MB, i.e. after
        # nearly every batch here; a larger threshold amortises that work (crash recovery replays the WAL).
        config: dict[str, Any] = {"checkpoint_threshold": checkpoint_threshold}
        if threads:
            config["threads"] = threads
        if memory_limit:
            # DuckDB's buffer pool otherwise grows towards 80% of RAM as the file grows. Data not yet
            # checkpointed stays in memory, so keep the limit well above checkpoint_threshold: 64MB with a
            # 1GB threshold ran out of memory after 10,000 issues; 64MB with 32-64MB ran 20,000 issues flat.
            config["memory_limit"] = memory_limit
        self._string_compression = string_compression
        if string_compression:
            # One compression for every string column (None: DuckDB picks per column, and the JSON columns
            # are declared zstd; see ``dialect.DUCKDB.column_options``).
            config["force_compression"] = string_compression
        try:
            self._con = self._connect(config, row_group_size)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise WarehouseLockedError(
                    f"DuckDB file {self.path} is in use by another process (DuckDB allows one writer): "
                    "stop the other process (service, sync or demo) or point DUCKDB_PATH elsewhere"
                ) from exc
            raise WarehouseError(f"cannot open DuckDB file {self.path}: {exc}") from exc
        # Stored instants are UTC; the session zone only affects how DuckDB renders them.
        self._con.execute("SET TimeZone = 'UTC'")

    def _connect(self, config: dict[str, Any], row_group_size: int | None) -> duckdb.DuckDBPyConnection:
        if self.path == ":memory:" or not row_group_size:
            return duckdb.connect(self.path, config=config)
        # The row group size is an option of ATTACH, not of connect: attach the file to an in-memory
        # session and make it the default catalog, so ``jira.issues`` names the file's table as before.
        con = duckdb.connect(":memory:", config=config)
        try:
            path = self.path.replace("'", "''")
            con.execute(f"ATTACH '{path}' AS warehouse (ROW_GROUP_SIZE {int(row_group_size)})")
            con.execute("USE warehouse")
        except BaseException:
            con.close()
            raise
        return con

    def ensure_schema(self) -> None:
        """Create or extend the tables; a file from before per-column compression keeps zstd everywhere."""
        super().ensure_schema()
        if self._string_compression is None and self._json_columns_undeclared():
            # Such a file compressed every string with zstd (a connection setting then). A column's
            # compression cannot be altered, so keep that setting rather than let its JSON columns fall
            # back to DuckDB's own choice, larger and slower for raw payloads.
            with self._errors():
                self._con.execute("SET force_compression = 'zstd'")

    def _json_columns_undeclared(self) -> bool:
        """Whether a JSON column of this schema's tables was created without its compression option."""
        option = self.dialect.column_options.get("json", "").upper()
        found = self._query(
            "SELECT table_name, sql FROM duckdb_tables() WHERE schema_name = ? AND database_name = "
            "current_database()",
            [self.schema],
        )
        created = {name: sql_text.upper() for name, sql_text in found}
        for table in TABLES.values():
            definition = created.get(table.name, "")
            for col in table.columns:
                if col.kind == "json" and f"{col.name.upper()} JSON {option}" not in definition:
                    return True
        return False

    def _execute(self, statement: str, params: Sequence[Any] = ()) -> int:
        cur = self._con.execute(statement, list(params) if params else None)
        if statement.lstrip()[:6].upper() in ("DELETE", "UPDATE", "INSERT"):
            row = cur.fetchone()
            return int(row[0]) if row else 0
        return 0

    def _query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._con.execute(statement, list(params) if params else None).fetchall()

    def _create_stage(self, table: Table) -> None:
        """Nothing to create: the Arrow table itself is the stage (see :meth:`_stage`)."""

    def _stage(self, table: Table, data: pa.Table) -> None:
        # DuckDB scans a registered Arrow table in place: registering it under the staging name saves the
        # copy into a temporary table (and its CREATE and DROP), a third of the load's fixed work.
        # JSON columns arrive as text the loader serialised itself; typed as Arrow's JSON extension, DuckDB
        # takes them as JSON without parsing each document again (the MERGE's cast is then a no-op).
        json_cols = [i for i, c in enumerate(table.stage_columns) if c.kind == "json"]
        for i in json_cols:
            data = data.set_column(i, data.field(i).with_type(_JSON), data.column(i).cast(_JSON))
        self._con.register(sql.stage_name(table), data)

    def _drop_stage(self, table: Table) -> None:
        self._con.unregister(sql.stage_name(table))

    def _map_error(self, exc: Exception) -> KairusError:
        return WarehouseError(f"DuckDB ({self.path}) refused a statement: {exc}")

    def close(self) -> None:
        """Close the connection, releasing the file lock."""
        self._con.close()
