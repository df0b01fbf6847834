"""Rows (lists of dicts) to typed Arrow tables shaped like a table's staging columns.

A value of the wrong type (a string in an int column, a naive timestamp) fails here, before the warehouse
is touched. JSON columns are serialised to text; the MERGE parses them back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa

from app.core.errors import PayloadError
from app.pipeline.schema import JOB_ID, SYNCED_AT, Column, Kind, Table

ARROW_TYPES: dict[Kind, pa.DataType] = {
    "string": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "ts": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "json": pa.string(),
}

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str).encode


def _json_text(value: Any) -> str | None:
    return None if value is None else _dumps(value)


def _column_values(rows: Sequence[dict[str, Any]], col: Column) -> list[Any]:
    name = col.name
    if col.kind == "json":
        return [_json_text(r.get(name)) for r in rows]
    if col.kind == "ts":
        values = [r.get(name) for r in rows]
        for v in values:
            # Arrow would read a naive datetime as UTC silently; a naive value is a transform bug.
            if v is not None and (not isinstance(v, datetime) or v.tzinfo is None):
                raise PayloadError(f"{name}: expected a timezone-aware datetime, got {v!r}")
        return values
    return [r.get(name) for r in rows]


def to_arrow(table: Table, rows: Sequence[dict[str, Any]], *, job_id: str, synced_at: datetime) -> pa.Table:
    """The rows as an Arrow table with ``table.stage_columns`` (``_synced_at``/``_job_id`` filled in).

    Raises :class:`PayloadError` naming the table and column when a value does not fit the column type.
    """
    arrays: list[pa.Array] = []
    names: list[str] = []
    n = len(rows)
    for col in table.stage_columns:
        names.append(col.name)
        if col.name == SYNCED_AT:
            arrays.append(pa.array([synced_at] * n, type=ARROW_TYPES["ts"]))
            continue
        if col.name == JOB_ID:
            arrays.append(pa.array([job_id] * n, type=pa.string()))
            continue
        try:
            arrays.append(pa.array(_column_values(rows, col), type=ARROW_TYPES[col.kind]))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError) as exc:
            raise PayloadError(f"{table.name}.{col.name}: value does not fit {col.kind}: {exc}") from exc
    return pa.Table.from_arrays(arrays, names=names)
