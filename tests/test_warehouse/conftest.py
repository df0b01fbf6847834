"""Warehouse fixtures: the same loader tests run on DuckDB and on Snowflake through ``fakesnow.patch()``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from app.pipeline.schema import TABLES
from app.warehouse.sql_warehouse import SqlWarehouse

SNOWFLAKE_TEST_CONFIG = {"account": "kairus-test", "user": "etl", "password": "pw", "database": "kairus"}

# Columns that legitimately change when the same data is loaded again (load_audit records what each
# load did: the replay updates where the first load inserted).
VOLATILE = {"_synced_at", "started_at", "finished_at"}
AUDIT_COUNTS = {"inserted", "updated", "deleted"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """fakesnow warns on every fetch that it copies rows; that is its business, not ours."""
    for item in items:
        item.add_marker(pytest.mark.filterwarnings("ignore:Arrow output on a DB-API result:UserWarning"))


@pytest.fixture(params=["duckdb", "fakesnow"])
def warehouse(request: pytest.FixtureRequest, tmp_path) -> Iterator[SqlWarehouse]:
    """An empty warehouse with the schema created."""
    if request.param == "duckdb":
        from app.warehouse.duckdb import DuckDBWarehouse

        wh: SqlWarehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
        wh.ensure_schema()
        yield wh
        wh.close()
        return
    import fakesnow

    from app.warehouse.snowflake import SnowflakeWarehouse

    with fakesnow.patch():
        wh = SnowflakeWarehouse(SNOWFLAKE_TEST_CONFIG)
        wh.ensure_schema()
        yield wh
        wh.close()


def _norm(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.dumps(json.loads(value), sort_keys=True)
        except ValueError:
            return value
    return value


def snapshot(
    wh: SqlWarehouse, skip: frozenset[str] | set[str] = frozenset()
) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but ``skip`` (volatile timestamps left out, JSON normalised), sorted."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for name, table in TABLES.items():
        if name in skip:
            continue
        left_out = VOLATILE | (AUDIT_COUNTS if name == "load_audit" else set())
        cols = [c.name for c in table.columns if c.name not in left_out]
        found = wh._query(f"SELECT {', '.join(cols)} FROM {wh.schema}.{name}")
        out[name] = sorted((tuple(_norm(v) for v in r) for r in found), key=repr)
    return out


def column(wh: SqlWarehouse, table: str, col: str, where: str = "") -> list[Any]:
    """Values of one column, sorted."""
    cond = f" WHERE {where}" if where else ""
    return sorted((r[0] for r in wh._query(f"SELECT {col} FROM {wh.schema}.{table}{cond}")), key=repr)
