"""Choose the warehouse: Snowflake when credentials are configured, else the embedded DuckDB file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.warehouse.base import Warehouse


def open_warehouse(
    *, duckdb_path: str | Path, schema: str = "jira", snowflake: Mapping[str, Any] | None = None
) -> Warehouse:
    """Open (not yet ``ensure_schema``) the configured warehouse.

    ``snowflake`` is the mapping :func:`app.warehouse.snowflake.connect_kwargs` reads; when it is empty or
    has no ``account``, the DuckDB file at ``duckdb_path`` is used. Raises ``WarehouseLockedError`` when
    another process holds the DuckDB file, ``ConfigError`` for incomplete Snowflake credentials.
    """
    if snowflake and snowflake.get("account"):
        from app.warehouse.snowflake import SnowflakeWarehouse

        return SnowflakeWarehouse(snowflake, schema=schema)
    from app.warehouse.duckdb import DuckDBWarehouse

    return DuckDBWarehouse(duckdb_path, schema=schema)
