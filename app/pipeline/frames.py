"""Rows (lists of dicts) to typed Arrow tables shaped like a table's staging columns (``validate`` and
the loader share it).

A value of the wrong type (a string in an int column, a naive timestamp) fails here, before the warehouse
is touched. JSON columns are serialised to text; the MERGE parses them back.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from itertools import accumulate, repeat
from operator import attrgetter
from typing import Any, cast

import orjson
import pandas as pd
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
_orjson_column = functools.partial(orjson.dumps, option=_ORJSON_OPTS)
# A ``default`` hook slows every call down by a third, so it is only the fallback (for quarantined rows,
# which may hold datetimes).
_dumps_any = json.JSONEncoder(separators=(",", ":"), default=str).encode


_get = dict.get
_tzinfo = attrgetter("tzinfo")
_TS_TYPES = frozenset({datetime, type(None)})


def _json_text(value: Any) -> bytes | str | None:
    if value is None:
        return None
    try:
        return _orjson_dumps(value, option=_ORJSON_OPTS)
    except (TypeError, ValueError, RecursionError):
        return _dumps_any(value)


def _json_texts(rows: Sequence[dict[str, Any]], name: str) -> list[bytes | str | None]:
    values = list(map(_get, rows, repeat(name)))
    if None not in values:
        # The usual case (a column of lists or objects): orjson over the whole column without a Python
        # call per value; a value it refuses sends the column down the per-value path.
        try:
            return list(map(_orjson_column, values))
        except (TypeError, ValueError, RecursionError):
            pass
    return list(map(_json_text, values))


_MAX_OFFSET = 2**31 - 1  # a string array's offsets are 32-bit


def _text_array(texts: list[bytes | str | None]) -> pa.Array:
    """JSON texts as a string array, built as binary and viewed as text.

    The encoders only emit UTF-8 (orjson) or ASCII, so Arrow's UTF-8 validation of every document (5x the
    cost of the copy) is skipped. A column of documents only (the usual case) is joined into one buffer at
    C speed with the offsets summed from the lengths: a tenth of the cost of converting item by item.
    """
    if texts and set(map(type, texts)) == {bytes}:
        encoded = cast("list[bytes]", texts)  # every item is bytes (checked above)
        offsets = [0, *accumulate(map(len, encoded))]
        if offsets[-1] <= _MAX_OFFSET:
            data = pa.py_buffer(b"".join(encoded))
            bounds = pa.array(offsets, type=pa.int32()).buffers()[1]
            return pa.Array.from_buffers(pa.string(), len(encoded), [None, bounds, data])
    return pa.array(texts, type=pa.binary()).view(pa.string())


_TS = ARROW_TYPES["ts"]


def ts_array(values: list[Any]) -> pa.Array:
    """Timezone-aware datetimes (and None) as a ``timestamp[us, UTC]`` array.

    Read through pandas' datetime parser, which takes an aware datetime for about two thirds of what
    Arrow's per-value conversion costs (it calls ``utcoffset()`` in Python for every value). Anything
    pandas declines (offsets other than UTC mixed in, instants beyond its range, no value at all) goes
    the direct way, which gives the same instants.
    """
    try:
        index = pd.DatetimeIndex(values)
    except (TypeError, ValueError, OverflowError):  # OutOfBoundsDatetime is a ValueError
        return pa.array(values, type=_TS)
    if str(index.tz) != "UTC":
        return pa.array(values, type=_TS)
    return pa.Array.from_pandas(index).cast(_TS)


def all_aware(values: list[Any]) -> bool:
    """Whether every value is a timezone-aware datetime or None (Arrow reads a naive one as UTC silently).

    Types and zones are checked at C speed, without a Python frame per value (datetimes are truthy, so
    ``filter`` drops only the Nones).
    """
    return set(map(type, values)) <= _TS_TYPES and None not in map(_tzinfo, filter(None, values))


def _check_ts(table: Table, col: Column, values: list[Any]) -> None:
    # A naive value is a transform bug.
    if all_aware(values):
        return
    bad = [v for v in values if v is not None and (type(v) is not datetime or v.tzinfo is None)]
    if bad:
        raise PayloadError(f"{table.name}.{col.name}: expected a timezone-aware datetime, got {bad[0]!r}")


def data_frame(
    table: Table,
    rows: Sequence[dict[str, Any]],
    columns: Mapping[str, pa.Array] | None = None,
) -> pa.Table:
    """The rows as an Arrow table of the staging columns except ``_synced_at``/``_job_id``.

    ``columns`` may hold columns already converted (``validate`` converts each column while checking its
    types): those are taken as they are; the others are pulled out of the rows and converted here, JSON
    columns serialised. Raises :class:`PayloadError` naming the table and column when a value does not
    fit its type. Run ``validate`` first: it also rejects values Arrow would coerce (a float or a bool in
    an int column).
    """
    columns = columns or {}
    arrays: list[pa.Array] = []
    names: list[str] = []
    for col in table.stage_columns:
        name = col.name
        if name in (SYNCED_AT, JOB_ID):
            continue
        names.append(name)
        if col.kind == "json":
            # Built as binary and viewed as text: the encoders only emit UTF-8 (orjson) or ASCII, so
            # Arrow's UTF-8 validation of every document (5x the cost of the copy) is skipped.
            arrays.append(_text_array(_json_texts(rows, name)))
            continue
        converted = columns.get(name)
        if converted is not None:
            arrays.append(converted)
            continue
        values = list(map(_get, rows, repeat(name)))
        if col.kind == "ts":
            _check_ts(table, col, values)
        try:
            arrays.append(
                ts_array(values) if col.kind == "ts" else pa.array(values, type=ARROW_TYPES[col.kind])
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError) as exc:
            raise PayloadError(f"{table.name}.{name}: value does not fit {col.kind}: {exc}") from exc
    return pa.Table.from_arrays(arrays, names=names)


def with_sync_columns(table: Table, data: pa.Table, *, job_id: str, synced_at: datetime) -> pa.Table:
    """``data`` (a :func:`data_frame`) with ``_synced_at`` and ``_job_id`` filled in, in staging order.

    The schema metadata of ``data`` (:data:`UNIQUE_KEYS`) carries over.
    """
    n = data.num_rows
    arrays: list[pa.Array | pa.ChunkedArray] = []
    for col in table.stage_columns:
        if col.name == SYNCED_AT:
            arrays.append(pa.repeat(pa.scalar(synced_at, type=ARROW_TYPES["ts"]), n))
        elif col.name == JOB_ID:
            arrays.append(pa.repeat(pa.scalar(job_id, type=pa.string()), n))
        else:
            arrays.append(data.column(col.name))
    names = [c.name for c in table.stage_columns]
    return pa.Table.from_arrays(arrays, names=names, metadata=data.schema.metadata)


def to_arrow(table: Table, rows: Sequence[dict[str, Any]], *, job_id: str, synced_at: datetime) -> pa.Table:
    """The rows as an Arrow table with ``table.stage_columns`` (``_synced_at``/``_job_id`` filled in)."""
    return with_sync_columns(table, data_frame(table, rows), job_id=job_id, synced_at=synced_at)


#: Schema metadata of a frame whose rows are known to have distinct primary keys (``validate`` marks the
#: frames it builds: its de-duplication ran on their rows).
UNIQUE_KEYS = b"kairus.unique_keys"


def mark_unique(data: pa.Table) -> pa.Table:
    """``data`` marked as holding one row per primary key (see :func:`keys_unique`)."""
    return data.replace_schema_metadata({**(data.schema.metadata or {}), UNIQUE_KEYS: b"1"})


def keys_unique(table: Table, data: pa.Table) -> bool:
    """Whether every row of ``data`` has its own primary key (marked so, else counted by Arrow)."""
    if (data.schema.metadata or {}).get(UNIQUE_KEYS) == b"1":
        return True
    n = data.num_rows
    if n <= 1:
        return True
    keys = list(table.primary_key)
    if len(keys) == 1:
        return int(pc.count_distinct(data.column(keys[0]), mode="all").as_py()) == n
    return int(data.select(keys).group_by(keys).aggregate([]).num_rows) == n
