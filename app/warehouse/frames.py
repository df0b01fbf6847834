"""Rows (lists of dicts) to typed Arrow tables shaped like a table's staging columns.

A value of the wrong type (a string in an int column, a naive timestamp) fails here, before the warehouse
is touched. JSON columns are serialised to text; the MERGE parses them back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from itertools import repeat
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc

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

# orjson encodes raw issues about four times faster than the stdlib's C encoder. Arrow takes its UTF-8
# bytes for a string column as they are. Datetimes pass through to the fallback so that quarantined rows
# keep the stdlib's ``str()`` rendering; anything else orjson refuses (int keys, 65-bit ints) falls back
# too.
_ORJSON_OPTS = orjson.OPT_PASSTHROUGH_DATETIME
_orjson_dumps = orjson.dumps
# A ``default`` hook slows every call down by a third, so it is only the fallback (for quarantined rows,
# which may hold datetimes).
_dumps_any = json.JSONEncoder(separators=(",", ":"), default=str).encode


_get = dict.get
_TS_TYPES = frozenset({datetime, type(None)})


def _json_text(value: Any) -> bytes | str | None:
    if value is None:
        return None
    try:
        return _orjson_dumps(value, option=_ORJSON_OPTS)
    except (TypeError, ValueError, RecursionError):
        return _dumps_any(value)


def _check_ts(table: Table, col: Column, rows: Sequence[dict[str, Any]]) -> None:
    name = col.name
    values = list(map(_get, rows, repeat(name)))
    # Arrow would read a naive datetime as UTC silently; a naive value is a transform bug.
    if set(map(type, values)) <= _TS_TYPES and all(v.tzinfo is not None for v in values if v is not None):
        return  # the usual case, checked without a Python frame per value for the types
    bad = [v for v in values if v is not None and (type(v) is not datetime or v.tzinfo is None)]
    if bad:
        raise PayloadError(f"{table.name}.{name}: expected a timezone-aware datetime, got {bad[0]!r}")


def _locate(table: Table, cols: list[Column], rows: Sequence[dict[str, Any]], exc: Exception) -> PayloadError:
    """The error naming the first column that does not convert (slow path, only after a failure)."""
    for col in cols:
        try:
            pa.array([r.get(col.name) for r in rows], type=ARROW_TYPES[col.kind])
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError) as col_exc:
            return PayloadError(f"{table.name}.{col.name}: value does not fit {col.kind}: {col_exc}")
    return PayloadError(f"{table.name}: rows do not fit the table: {exc}")


def to_arrow(table: Table, rows: Sequence[dict[str, Any]], *, job_id: str, synced_at: datetime) -> pa.Table:
    """The rows as an Arrow table with ``table.stage_columns`` (``_synced_at``/``_job_id`` filled in).

    Raises :class:`PayloadError` naming the table and column when a value does not fit the column type.
    Scalar columns are converted by Arrow from the dicts directly (``from_pylist``, C speed); JSON columns
    are serialised here. Run ``validate`` first: it also rejects values Arrow would coerce (a float in an
    int column).
    """
    n = len(rows)
    cols = table.stage_columns
    plain = [c for c in cols if c.kind != "json" and c.name not in (SYNCED_AT, JOB_ID)]
    for col in plain:
        if col.kind == "ts":
            _check_ts(table, col, rows)
    schema = pa.schema([(c.name, ARROW_TYPES[c.kind]) for c in plain])
    try:
        base = pa.Table.from_pylist(list(rows), schema=schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError) as exc:
        raise _locate(table, plain, rows, exc) from exc
    arrays: list[pa.Array | pa.ChunkedArray] = []
    for col in cols:
        if col.name == SYNCED_AT:
            arrays.append(pa.repeat(pa.scalar(synced_at, type=ARROW_TYPES["ts"]), n))
        elif col.name == JOB_ID:
            arrays.append(pa.repeat(pa.scalar(job_id, type=pa.string()), n))
        elif col.kind == "json":
            name = col.name
            # Built as binary and viewed as text: the encoders only emit UTF-8 (orjson) or ASCII, so
            # Arrow's UTF-8 validation of every document (5x the cost of the copy) is skipped.
            texts = list(map(_json_text, map(_get, rows, repeat(name))))
            arrays.append(pa.array(texts, type=pa.binary()).view(pa.string()))
        else:
            arrays.append(base.column(col.name))
    return pa.Table.from_arrays(arrays, names=[c.name for c in cols])


def keys_unique(table: Table, data: pa.Table) -> bool:
    """Whether every row of ``data`` has its own primary key (counted by Arrow, not row by row)."""
    n = data.num_rows
    if n <= 1:
        return True
    keys = list(table.primary_key)
    if len(keys) == 1:
        return int(pc.count_distinct(data.column(keys[0]), mode="all").as_py()) == n
    return int(data.select(keys).group_by(keys).aggregate([]).num_rows) == n
