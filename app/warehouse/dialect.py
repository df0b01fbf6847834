"""SQL of both warehouses, generated from ``app/pipeline/schema.py`` through a small dialect object.

DuckDB and Snowflake differ only in what a :class:`Dialect` declares (type names, how JSON text becomes
JSON, the bind-parameter style, the staging column case); everything else is one text that both accept
(see ``../shared/SNOWFLAKE.md``): MERGE sources are subqueries aliased ``src`` and deduplicated with
``QUALIFY``, the target is aliased ``tgt``, column lists are explicit (no ``BY NAME``), JSON is parsed in a
``SELECT`` (never ``VALUES (PARSE_JSON(...))``, which real Snowflake rejects).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from app.pipeline.schema import DEV_STATUS_ANSWERED, Column, Kind, Table


@dataclass(frozen=True)
class Dialect:
    """What one warehouse's SQL needs to know: types and a few expression shapes, no behaviour."""

    name: str
    types: Mapping[Kind, str]
    json_parse: str  # format string with one ``{}``: JSON text -> the JSON/VARIANT type
    param: str  # bind-parameter placeholder of the driver
    upper_stage_columns: bool  # write_pandas quotes names: upper case matches unquoted identifiers
    #: Whether child tables declare their primary key. Snowflake records it and enforces nothing.
    #: DuckDB enforces one with an index that every insert updates and every checkpoint writes out: on
    #: the child tables (about 20 rows per issue) that index was a sixth of the load's CPU and 40% of
    #: the file. Their keys are unique anyway: children are inserted from deduplicated staging rows,
    #: only for the issues whose stored children were deleted first in the same transaction.
    child_keys: bool = True
    #: Storage options declared after a column's type, per kind.
    column_options: Mapping[Kind, str] = field(default_factory=dict)

    def sql_type(self, col: Column) -> str:
        """The column's type in this dialect."""
        return self.types[col.kind]

    def column_sql(self, col: Column) -> str:
        """The column's definition: name, type and storage options."""
        options = self.column_options.get(col.kind)
        return f"{col.name} {self.sql_type(col)}{' ' + options if options else ''}"

    def stage_type(self, col: Column) -> str:
        """Staging column type: JSON is staged as text and parsed in the MERGE source."""
        return "VARCHAR" if col.kind == "json" else self.types[col.kind]

    def source_expr(self, col: Column) -> str:
        """The expression reading ``col`` from a staging table, JSON parsed."""
        return self.json_parse.format(col.name) if col.kind == "json" else col.name


DUCKDB = Dialect(
    name="duckdb",
    types={
        "string": "VARCHAR",
        "int": "BIGINT",
        "float": "DOUBLE",
        "bool": "BOOLEAN",
        "ts": "TIMESTAMPTZ",
        "date": "DATE",
        "json": "JSON",
    },
    json_parse="CAST({} AS JSON)",
    param="?",
    upper_stage_columns=False,
    child_keys=False,
    # Raw payloads are most of the data: zstd packs them a quarter smaller than DuckDB's own choice (FSST)
    # and costs less CPU at checkpoint. Short strings (ids, names) keep DuckDB's choice: zstd for every
    # string column doubled the changelog's checkpoint cost and its size.
    column_options={"json": "USING COMPRESSION zstd"},
)

SNOWFLAKE = Dialect(
    name="snowflake",
    types={
        "string": "VARCHAR",
        "int": "NUMBER(38,0)",
        "float": "FLOAT",
        "bool": "BOOLEAN",
        "ts": "TIMESTAMP_TZ",
        "date": "DATE",
        "json": "VARIANT",
    },
    json_parse="PARSE_JSON({})",
    param="%s",
    upper_stage_columns=True,
)


def stage_name(table: Table) -> str:
    """Name of the batch's temporary staging table for ``table``."""
    return f"stg_{table.name}"


def create_schema_sql(schema: str) -> str:
    """``CREATE SCHEMA IF NOT EXISTS``."""
    return f"CREATE SCHEMA IF NOT EXISTS {schema}"


def create_table_sql(d: Dialect, schema: str, table: Table) -> str:
    """``CREATE TABLE IF NOT EXISTS`` with every column and the primary key (see ``Dialect.child_keys``)."""
    cols = ", ".join(d.column_sql(c) for c in table.columns)
    if table.parent is not None and not d.child_keys:
        return f"CREATE TABLE IF NOT EXISTS {schema}.{table.name} ({cols})"
    pk = ", ".join(table.primary_key)
    return f"CREATE TABLE IF NOT EXISTS {schema}.{table.name} ({cols}, PRIMARY KEY ({pk}))"


def add_column_sql(d: Dialect, schema: str, table: Table, col: Column) -> str:
    """``ALTER TABLE ... ADD COLUMN`` for a column added to the schema after the table was created."""
    return f"ALTER TABLE {schema}.{table.name} ADD COLUMN {d.column_sql(col)}"


def existing_columns_sql(d: Dialect) -> str:
    """Columns of every table of a schema (case-insensitive: Snowflake reports upper case)."""
    return (
        "SELECT LOWER(table_name), LOWER(column_name) FROM information_schema.columns "
        f"WHERE LOWER(table_schema) = LOWER({d.param})"
    )


def create_stage_sql(d: Dialect, table: Table) -> str:
    """``CREATE OR REPLACE TEMPORARY TABLE`` for the batch's staging rows (JSON as text)."""
    cols = ", ".join(f"{c.name} {d.stage_type(c)}" for c in table.stage_columns)
    return f"CREATE OR REPLACE TEMPORARY TABLE {stage_name(table)} ({cols})"


def _order(table: Table) -> str:
    if table.version_column:
        return f"{table.version_column} DESC NULLS LAST"
    return ", ".join(table.primary_key)


def dedup_source_sql(
    d: Dialect, table: Table, where: str = "", *, narrow: bool = False, unique: bool = False
) -> str:
    """The staging rows, JSON parsed, one row per primary key (the newest version wins).

    ``narrow`` keeps only the key and version columns (enough to count what a MERGE will do). ``unique``
    says the loader checked the staged keys are already unique: the window that deduplicates (a sort of
    the whole batch, raw JSON included) is then left out.
    """
    keep = set(table.primary_key) | {table.version_column}
    columns = [c for c in table.columns if not narrow or c.name in keep]
    cols = ", ".join(f"{d.source_expr(c)} AS {c.name}" for c in columns)
    pk = ", ".join(table.primary_key)
    cond = f" WHERE {where}" if where else ""
    if unique:
        return f"SELECT {cols} FROM {stage_name(table)}{cond}"
    return (
        f"SELECT {cols} FROM {stage_name(table)}{cond} "
        f"QUALIFY ROW_NUMBER() OVER (PARTITION BY {pk} ORDER BY {_order(table)}) = 1"
    )


def _on(table: Table) -> str:
    return " AND ".join(f"tgt.{k} = src.{k}" for k in table.primary_key)


def _newer(table: Table) -> str:
    v = table.version_column
    return f"(tgt.{v} IS NULL OR src.{v} >= tgt.{v})" if v else "TRUE"


def merge_sql(d: Dialect, schema: str, table: Table, *, unique: bool = False) -> str:
    """MERGE of the deduplicated staging rows: insert new keys, update when the batch is not older."""
    non_key = [c.name for c in table.columns if c.name not in table.primary_key]
    names = [c.name for c in table.columns]
    sets = ", ".join(f"{c} = src.{c}" for c in non_key)
    matched = f"AND {_newer(table)} " if table.version_column else ""
    source = dedup_source_sql(d, table, unique=unique)
    return (
        f"MERGE INTO {schema}.{table.name} AS tgt USING ({source}) AS src ON {_on(table)} "
        f"WHEN MATCHED {matched}THEN UPDATE SET {sets} "
        f"WHEN NOT MATCHED THEN INSERT ({', '.join(names)}) VALUES ({', '.join('src.' + n for n in names)})"
    )


def merge_counts_sql(d: Dialect, schema: str, table: Table, *, unique: bool = False) -> str:
    """Rows the MERGE will insert and update, and staged keys already stored (run just before it).

    Needed because DuckDB's MERGE returns one total and Snowflake's returns per-action columns; the third
    count (keys that match a stored row, newer or not) tells a sole writer it may INSERT instead.
    """
    src = dedup_source_sql(d, table, narrow=True, unique=unique)
    pk0 = table.primary_key[0]
    return (
        f"SELECT COALESCE(SUM(CASE WHEN tgt.{pk0} IS NULL THEN 1 ELSE 0 END), 0), "
        f"COALESCE(SUM(CASE WHEN tgt.{pk0} IS NOT NULL AND {_newer(table)} THEN 1 ELSE 0 END), 0), "
        f"COALESCE(SUM(CASE WHEN tgt.{pk0} IS NOT NULL THEN 1 ELSE 0 END), 0) "
        f"FROM ({src}) AS src LEFT JOIN {schema}.{table.name} AS tgt ON {_on(table)}"
    )


def replaced_issues_sql(schema: str, issues: Table) -> str:
    """Ids of the batch's issues whose batch version is at least the stored one (run after the MERGE).

    After the MERGE the stored version is ``max(stored, batch)``, so ``batch >= stored`` holds exactly for
    the issues whose children the batch replaces; a replayed older batch replaces nothing.
    """
    v = issues.version_column
    return (
        f"SELECT s.issue_id FROM {stage_name(issues)} AS s JOIN {schema}.issues AS t "
        f"ON t.issue_id = s.issue_id WHERE t.{v} IS NULL OR s.{v} >= t.{v}"
    )


def dev_answered_sql(issues: Table, replaced: str) -> str:
    """Ids among ``replaced`` whose batch row says dev-status answered (see ``DEV_STATUS_ANSWERED``)."""
    answered = ", ".join(f"'{status}'" for status in DEV_STATUS_ANSWERED)
    return (
        f"SELECT issue_id FROM {stage_name(issues)} WHERE dev_status IN ({answered}) "
        f"AND issue_id IN ({replaced})"
    )


def delete_children_sql(schema: str, table: Table, replaced: str) -> str:
    """Delete the stored child rows of the replaced issues (links: either side is a replaced issue)."""
    cond = " OR ".join(f"{k} IN ({replaced})" for k in table.parent_keys)
    return f"DELETE FROM {schema}.{table.name} WHERE {cond}"


def insert_staged_sql(
    d: Dialect, schema: str, table: Table, replaced: str | None = None, *, unique: bool = False
) -> str:
    """Insert the deduplicated staging rows; for a child table only those of a replaced issue.

    ``replaced`` None inserts every staged row: the children when every issue of the batch is replaced,
    or a parent table's rows when none of their keys is stored yet.
    """
    names = ", ".join(c.name for c in table.columns)
    where = f"{table.owner} IN ({replaced})" if replaced is not None else ""
    src = dedup_source_sql(d, table, where=where, unique=unique)
    return f"INSERT INTO {schema}.{table.name} ({names}) SELECT {names} FROM ({src}) AS src"


def insert_values_sql(d: Dialect, schema: str, table: Table, n_rows: int) -> str:
    """Multi-row ``INSERT ... VALUES`` of scalar parameters, for a handful of control rows (no JSON)."""
    if any(c.kind == "json" for c in table.columns):
        raise ValueError(f"{table.name} has JSON columns: stage it instead")
    row = "(" + ", ".join(d.param for _ in table.columns) + ")"
    names = ", ".join(c.name for c in table.columns)
    return f"INSERT INTO {schema}.{table.name} ({names}) VALUES {', '.join([row] * n_rows)}"


_STATUS_RANK = "CASE status WHEN 'fail' THEN 2 WHEN 'warn' THEN 1 ELSE 0 END"


def dq_summary_sql(d: Dialect, schema: str) -> str:
    """One job's ``dq_results`` rows from its per-batch results (bind: the job id).

    Failing and checked rows are summed over the batches, the status is the worst any batch had, and the
    details are those of the latest batch that had failing rows.
    """
    return (
        f"INSERT INTO {schema}.dq_results (job_id, check_name, table_name, status, failing_rows, "
        "checked_rows, details, _synced_at, _job_id) "
        "SELECT job_id, check_name, table_name, "
        f"CASE MAX({_STATUS_RANK}) WHEN 2 THEN 'fail' WHEN 1 THEN 'warn' ELSE 'pass' END, "
        "SUM(failing_rows), SUM(checked_rows), "
        "MAX_BY(details, CASE WHEN failing_rows > 0 THEN batch_no END), MAX(_synced_at), MAX(_job_id) "
        f"FROM {schema}.dq_batch_results WHERE job_id = {d.param} GROUP BY job_id, check_name, table_name"
    )
