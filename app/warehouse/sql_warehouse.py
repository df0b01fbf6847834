"""The load algorithm shared by DuckDB and Snowflake; drivers supply a handful of primitives.

One batch:

1. every table's rows become typed Arrow tables (a bad value fails here, nothing touched);
2. each is bulk-loaded into a TEMPORARY staging table (outside any transaction: on Snowflake staging is DDL,
   which commits implicitly, and fakesnow cannot create temp tables inside BEGIN);
3. in one transaction (when ``transactional``): per table ``MERGE`` of the deduplicated staging rows,
   replacement of the children of the issues whose batch version is at least the stored one, and the
   ``load_audit`` rows. Any error rolls back explicitly (DuckDB and fakesnow turn a COMMIT after an error
   into a silent rollback) and is re-raised as a warehouse error.
"""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from app.core.errors import KairusError, WarehouseError
from app.core.gc_pause import collector_paused
from app.pipeline.frames import keys_unique, to_arrow, with_sync_columns
from app.pipeline.schema import CHILD_TABLES, DEV_CHILD_TABLES, TABLES, Table
from app.warehouse import dialect as sql
from app.warehouse.base import Rows, TableResult

log = logging.getLogger(__name__)

_IN_CHUNK = 1000


def _parse_json(value: Any) -> Any:
    # Both drivers hand JSON/VARIANT back as text (Snowflake's possibly indented).
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class SqlWarehouse(ABC):
    """Base of both warehouses: everything but connecting, executing and bulk-staging."""

    dialect: sql.Dialect
    schema: str
    #: Whether merge + child replacement + audit run inside BEGIN/COMMIT (False only under fakesnow,
    #: which cannot MERGE inside a transaction; staging errors then still leave no trace).
    transactional: bool = True
    #: Whether no other session can write the tables between two statements of a load (DuckDB's file
    #: lock). A sole writer INSERTs a batch whose keys its own count found unstored instead of MERGEing.
    sole_writer: bool = False

    # -- driver primitives ---------------------------------------------------------------------------
    @abstractmethod
    def _execute(self, statement: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return the affected row count for DML (0 when unknown)."""

    @abstractmethod
    def _query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a query and return all rows."""

    @abstractmethod
    def _stage(self, table: Table, data: pa.Table) -> None:
        """Bulk-load ``data`` into the staging table of ``table`` (created by :meth:`_create_stage`)."""

    def _create_stage(self, table: Table) -> None:
        """Create the empty staging table of ``table`` (drivers that stage without a table skip this)."""
        self._execute(sql.create_stage_sql(self.dialect, table))

    def _drop_stage(self, table: Table) -> None:
        """Drop the staging table of ``table``."""
        self._execute(f"DROP TABLE IF EXISTS {sql.stage_name(table)}")

    @abstractmethod
    def _map_error(self, exc: Exception) -> KairusError:
        """The service error for a driver error (one place per driver)."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection."""

    # -- helpers -------------------------------------------------------------------------------------
    def _q(self, name: str) -> str:
        return f"{self.schema}.{name}"

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except KairusError:
            raise
        except Exception as exc:
            raise self._map_error(exc) from exc

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        if not self.transactional:
            yield
            return
        self._execute("BEGIN")
        try:
            yield
        except BaseException:
            try:
                self._execute("ROLLBACK")
            except Exception:  # the original error matters more than a failed rollback
                log.exception("rollback failed")
            raise
        self._execute("COMMIT")

    # -- protocol ------------------------------------------------------------------------------------
    def ensure_schema(self) -> None:
        """Create the schema and tables if missing and add the columns the schema gained since."""
        with self._errors():
            self._execute(sql.create_schema_sql(self.schema))
            for table in TABLES.values():
                self._execute(sql.create_table_sql(self.dialect, self.schema, table))
            existing: dict[str, set[str]] = {}
            for tname, cname in self._query(sql.existing_columns_sql(self.dialect), [self.schema]):
                existing.setdefault(tname, set()).add(cname)
            for table in TABLES.values():
                have = existing.get(table.name, set())
                for col in table.columns:
                    if col.name not in have:
                        log.info("adding column %s.%s", table.name, col.name)
                        self._execute(sql.add_column_sql(self.dialect, self.schema, table, col))

    @collector_paused()
    def load(
        self,
        rows: Rows,
        *,
        job_id: str,
        batch_no: int,
        quarantine: Sequence[dict[str, Any]] = (),
        dq_results: Sequence[dict[str, Any]] = (),
        frames: Mapping[str, pa.Table] | None = None,
    ) -> dict[str, TableResult]:
        """Stage, then merge/replace/audit together; see :class:`app.warehouse.base.Warehouse`."""
        started = datetime.now(UTC)
        batch: dict[str, list[dict[str, Any]]] = {k: v for k, v in rows.items() if v}
        if quarantine:
            batch["quarantine"] = list(quarantine)
        if dq_results:
            # Stored per batch; the job's dq_results rows are recomputed from them in the transaction.
            batch["dq_batch_results"] = [{**r, "batch_no": batch_no} for r in dq_results]
        unknown = set(batch) - set(TABLES)
        if unknown:
            raise WarehouseError(f"rows for unknown tables: {sorted(unknown)}")
        given = frames or {}
        staging: dict[str, pa.Table] = {}
        # Batches checked by ``validate`` have unique keys: their MERGE sources need no dedup window.
        unique: set[str] = set()
        for name, table_rows in batch.items():
            table = TABLES[name]
            data = given.get(name)
            if data is None or data.num_rows != len(table_rows):
                data = to_arrow(table, table_rows, job_id=job_id, synced_at=started)
            else:
                # ``validate`` converted these rows already (one pass over the values, not two).
                data = with_sync_columns(table, data, job_id=job_id, synced_at=started)
            if keys_unique(table, data):
                unique.add(name)
            staging[name] = data
        staged: list[Table] = []
        try:
            with self._errors():
                for name in list(staging):
                    table = TABLES[name]
                    self._create_stage(table)
                    staged.append(table)
                    # Each frame is dropped once staged: the batch is not held twice during the merge.
                    self._stage(table, staging.pop(name))
                with self._transaction():
                    if dq_results:
                        self._forget_batch_dq(job_id, batch_no)
                    result = self._apply(batch, staged, unique)
                    if dq_results:
                        result["dq_results"] = self._summarise_dq(job_id, len(dq_results))
                    self._audit(result, job_id=job_id, batch_no=batch_no, started=started)
        finally:
            self._drop_stages(staged)
        return result

    def _apply(self, batch: Rows, staged: list[Table], unique: set[str]) -> dict[str, TableResult]:
        result: dict[str, TableResult] = {}
        d = self.dialect
        for table in staged:
            if table.parent is not None:
                continue
            u = table.name in unique
            ins, upd, matched = self._query(sql.merge_counts_sql(d, self.schema, table, unique=u))[0]
            if self.sole_writer and int(matched) == 0:
                # None of the keys is stored (a first load): a plain INSERT does what the MERGE would,
                # without joining the target (a third of DuckDB's load time for the wide issues rows).
                self._execute(sql.insert_staged_sql(d, self.schema, table, unique=u))
            else:
                self._execute(sql.merge_sql(d, self.schema, table, unique=u))
            result[table.name] = TableResult(
                rows_in=len(batch[table.name]), inserted=int(ins), updated=int(upd), deleted=0
            )
        if "issues" not in batch:
            for name in CHILD_TABLES:
                if name in batch:  # children travel with their issue (validate quarantines orphans)
                    log.warning(
                        "%d %s rows without their issues in the batch were ignored", len(batch[name]), name
                    )
                    result[name] = TableResult(rows_in=len(batch[name]), inserted=0, updated=0, deleted=0)
            return result
        issues = result["issues"]
        # With unique issue keys, every staged issue is replaced when the MERGE inserted or updated all of
        # them (the usual case): the children then need no join against the stored versions.
        every = "issues" in unique and issues["inserted"] + issues["updated"] == issues["rows_in"]
        replaced = (
            f"SELECT issue_id FROM {sql.stage_name(TABLES['issues'])}"
            if every
            else sql.replaced_issues_sql(self.schema, TABLES["issues"])
        )
        # Children exist only next to their stored issue: when every issue of the batch is new, no stored
        # child belongs to one, and the DELETE (a scan of the whole child table) is skipped. Links are
        # still deleted: a stored link of another issue may point at a new one.
        all_new = every and issues["updated"] == 0
        # Dev rows are replaced only where dev-status answered: a refusal (403/404) or an error says
        # nothing about an issue's development data, so its stored dev rows stay.
        dev_replaced = sql.dev_answered_sql(TABLES["issues"], replaced)
        for name in CHILD_TABLES:
            table = TABLES[name]
            deleted = 0
            if not all_new or table.parent_keys != (table.owner,):
                owners = dev_replaced if name in DEV_CHILD_TABLES else replaced
                deleted = self._execute(sql.delete_children_sql(self.schema, table, owners))
            inserted = 0
            if name in batch:
                inserted = self._execute(
                    sql.insert_staged_sql(
                        d, self.schema, table, None if every else replaced, unique=name in unique
                    )
                )
            if name in batch or deleted:
                result[name] = TableResult(
                    rows_in=len(batch.get(name, ())), inserted=inserted, updated=0, deleted=deleted
                )
        return result

    def _forget_batch_dq(self, job_id: str, batch_no: int) -> None:
        # A replayed batch replaces its own check results (it may report fewer checks the second time).
        p = self.dialect.param
        self._execute(
            f"DELETE FROM {self._q('dq_batch_results')} WHERE job_id = {p} AND batch_no = {p}",
            [job_id, batch_no],
        )

    def _summarise_dq(self, job_id: str, rows_in: int) -> TableResult:
        """Rewrite the job's ``dq_results`` as the sum of its batches' results (replays count once)."""
        deleted = self._execute(
            f"DELETE FROM {self._q('dq_results')} WHERE job_id = {self.dialect.param}", [job_id]
        )
        inserted = self._execute(sql.dq_summary_sql(self.dialect, self.schema), [job_id])
        return TableResult(rows_in=rows_in, inserted=inserted, updated=0, deleted=deleted)

    def _audit(
        self, result: dict[str, TableResult], *, job_id: str, batch_no: int, started: datetime
    ) -> None:
        table = TABLES["load_audit"]
        # A replayed batch replaces its own audit rows, so replays leave the same warehouse.
        self._execute(
            f"DELETE FROM {self._q('load_audit')} WHERE job_id = {self.dialect.param} "
            f"AND batch_no = {self.dialect.param}",
            [job_id, batch_no],
        )
        if not result:
            return
        finished = datetime.now(UTC)
        params: list[Any] = []
        for name, r in result.items():
            values = {
                "job_id": job_id,
                "table_name": name,
                "batch_no": batch_no,
                **r,
                "started_at": started,
                "finished_at": finished,
                "_synced_at": finished,
                "_job_id": job_id,
            }
            params.extend(values[c.name] for c in table.columns)
        self._execute(sql.insert_values_sql(self.dialect, self.schema, table, len(result)), params)

    def _drop_stages(self, staged: list[Table]) -> None:
        for table in staged:
            try:
                self._drop_stage(table)
            except Exception:  # a leftover temp table dies with the session; never mask the real error
                log.warning("could not drop %s", sql.stage_name(table), exc_info=True)

    def _in_chunks(self, ids: Iterable[str]) -> Iterator[list[str]]:
        chunk: list[str] = []
        for i in ids:
            chunk.append(str(i))
            if len(chunk) >= _IN_CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def _placeholders(self, n: int) -> str:
        return ", ".join([self.dialect.param] * n)

    def delete_children(self, table: str, ids: Iterable[str]) -> int:
        """Delete rows of ``table`` by single-column primary key (worklog tombstones)."""
        t = TABLES[table]
        if len(t.primary_key) != 1:
            raise WarehouseError(f"{table} has a composite key; delete_children needs a single-column key")
        total = 0
        with self._errors():
            for chunk in self._in_chunks(ids):
                marks = self._placeholders(len(chunk))
                total += self._execute(
                    f"DELETE FROM {self._q(table)} WHERE {t.primary_key[0]} IN ({marks})", chunk
                )
        return total

    def mark_deleted(self, issue_ids: Iterable[str], job_id: str) -> int:
        """Soft-delete issues: ``is_deleted = TRUE`` (children stay, hidden by :meth:`fetch_keys`)."""
        total = 0
        now = datetime.now(UTC)
        p = self.dialect.param
        with self._errors():
            for chunk in self._in_chunks(issue_ids):
                total += self._execute(
                    f"UPDATE {self._q('issues')} SET is_deleted = TRUE, _job_id = {p}, _synced_at = {p} "
                    f"WHERE issue_id IN ({self._placeholders(len(chunk))})",
                    [job_id, now, *chunk],
                )
        return total

    def issue_ids(self, project_key: str | None = None) -> set[str]:
        """Ids of issues not marked deleted, optionally of one project."""
        cond, params = "COALESCE(is_deleted, FALSE) = FALSE", []
        if project_key is not None:
            cond += f" AND project_key = {self.dialect.param}"
            params.append(project_key)
        with self._errors():
            return {
                str(r[0])
                for r in self._query(f"SELECT issue_id FROM {self._q('issues')} WHERE {cond}", params)
            }

    def quarantine_rows(self, job_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """Up to ``limit`` quarantined rows of a job (``entity, entity_id, reason, raw``; raw parsed)."""
        p = self.dialect.param
        with self._errors():
            found = self._query(
                f"SELECT entity, entity_id, reason, raw FROM {self._q('quarantine')} WHERE job_id = {p} "
                f"ORDER BY entity, entity_id LIMIT {max(0, int(limit))}",
                [job_id],
            )
        return [
            {"entity": entity, "entity_id": entity_id, "reason": reason, "raw": _parse_json(raw)}
            for entity, entity_id, reason, raw in found
        ]

    def table_counts(self) -> dict[str, int]:
        """Row count per table."""
        with self._errors():
            return {name: int(self._query(f"SELECT COUNT(*) FROM {self._q(name)}")[0][0]) for name in TABLES}

    def fetch_keys(self, table: str) -> list[str]:
        """Primary keys joined by ``|``; deleted issues and their children are left out."""
        t = TABLES[table]
        deleted = f"SELECT issue_id FROM {self._q('issues')} WHERE is_deleted"
        if table == "issues":
            cond = " WHERE COALESCE(is_deleted, FALSE) = FALSE"
        elif t.parent is not None:
            cond = " WHERE " + " AND ".join(f"{k} NOT IN ({deleted})" for k in t.parent_keys)
        else:
            cond = ""
        cols = ", ".join(t.primary_key)
        with self._errors():
            found = self._query(f"SELECT {cols} FROM {self._q(table)}{cond}")
        return sorted("|".join("" if v is None else str(v) for v in r) for r in found)
