"""Snowflake warehouse (snowflake-connector-python 4.x; tested through ``fakesnow.patch()``).

``write_pandas`` and ``connect`` are always looked up through their modules at call time, so that
fakesnow's patch (which swaps the module attributes) takes effect even though this module was imported
first.

Transaction boundary: staging (CREATE TEMPORARY TABLE + ``write_pandas``, i.e. DDL, a stage, PUT and COPY)
runs before ``BEGIN``, because any DDL commits an open transaction in Snowflake. The MERGEs, the child
replacement and the ``load_audit`` rows then run inside one ``BEGIN ... COMMIT``. fakesnow 0.12.1 cannot run
MERGE inside a transaction, so on a fakesnow connection those statements run in autocommit (documented
branch; see ``../shared/SNOWFLAKE.md``); a failure while staging still leaves no trace there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
import snowflake.connector
import snowflake.connector.pandas_tools

from app.core.errors import ConfigError, KairusError, WarehouseError, WarehouseTransientError
from app.pipeline.schema import Table
from app.warehouse import dialect as sql
from app.warehouse.sql_warehouse import SqlWarehouse

_CONNECT_KEYS = (
    "account",
    "user",
    "role",
    "warehouse",
    "database",
    "schema",
    "login_timeout",
    "network_timeout",
    "application",
)


def _load_private_key(pem: str | bytes, passphrase: str | None) -> bytes:
    from cryptography.hazmat.primitives import serialization

    data = pem.encode() if isinstance(pem, str) else pem
    key = serialization.load_pem_private_key(data, password=passphrase.encode() if passphrase else None)
    return key.private_bytes(
        encoding=serialization.Encoding.DER,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def connect_kwargs(config: Mapping[str, Any]) -> dict[str, Any]:
    """``snowflake.connector.connect`` keywords from a settings mapping (production and tests alike).

    Recognised keys: ``account, user, role, warehouse, database, schema`` and either ``password`` or a key
    pair (``private_key`` PEM text, or ``private_key_file``, with optional ``private_key_passphrase``),
    plus ``query_tag`` (``private_key_file_pwd`` is accepted for the passphrase). Key-pair auth is
    preferred: Snowflake blocks password-only sign-ins for service users. Raises :class:`ConfigError`
    when no credential is given.
    """
    kwargs: dict[str, Any] = {k: config[k] for k in _CONNECT_KEYS if config.get(k)}
    if not kwargs.get("account") or not kwargs.get("user"):
        raise ConfigError("Snowflake needs SNOWFLAKE_ACCOUNT and SNOWFLAKE_USER")
    # ``private_key_file_pwd`` is the connector's own name for the passphrase; both are accepted.
    passphrase = config.get("private_key_passphrase") or config.get("private_key_file_pwd") or None
    if config.get("private_key"):
        kwargs["private_key"] = _load_private_key(config["private_key"], passphrase)
        kwargs["authenticator"] = "SNOWFLAKE_JWT"
    elif config.get("private_key_file"):
        with open(config["private_key_file"], "rb") as fh:
            kwargs["private_key"] = _load_private_key(fh.read(), passphrase)
        kwargs["authenticator"] = "SNOWFLAKE_JWT"
    elif config.get("password"):
        kwargs["password"] = config["password"]
    else:
        raise ConfigError("Snowflake needs a key pair (SNOWFLAKE_PRIVATE_KEY[_FILE]) or SNOWFLAKE_PASSWORD")
    session = {"TIMEZONE": "UTC"}
    if config.get("query_tag"):
        session["QUERY_TAG"] = str(config["query_tag"])
    # ALTER SESSION is not available on fakesnow; session parameters work on both.
    kwargs["session_parameters"] = session
    kwargs["autocommit"] = True
    return kwargs


class SnowflakeWarehouse(SqlWarehouse):
    """Snowflake through the DB-API connector; batches staged with ``write_pandas``."""

    dialect = sql.SNOWFLAKE

    def __init__(self, config: Mapping[str, Any], *, schema: str = "jira") -> None:
        self.schema = str(config.get("schema") or schema)
        kwargs = connect_kwargs(config)
        try:
            self._con = snowflake.connector.connect(**kwargs)
        except Exception as exc:
            raise self._map_error(exc) from exc
        # fakesnow's MERGE is emulated with a temp table, which fails inside BEGIN (SNOWFLAKE.md section 2).
        self.transactional = not type(self._con).__module__.startswith("fakesnow")

    def ensure_schema(self) -> None:
        """Create schema and tables, then make the schema current (temporary staging tables live there)."""
        super().ensure_schema()
        with self._errors():
            self._execute(f"USE SCHEMA {self.schema}")

    def _execute(self, statement: str, params: Sequence[Any] = ()) -> int:
        cur = self._con.cursor()
        try:
            cur.execute(statement, list(params) if params else None)
            count = cur.rowcount
            return int(count) if count is not None and count >= 0 else 0
        finally:
            cur.close()

    def _query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cur = self._con.cursor()
        try:
            cur.execute(statement, list(params) if params else None)
            return [tuple(r) for r in cur.fetchall()]
        finally:
            cur.close()

    def _stage(self, table: Table, data: pa.Table) -> None:
        frame = data.to_pandas()
        # write_pandas quotes identifiers: upper case matches the unquoted names of the staging DDL.
        frame.columns = [c.upper() for c in frame.columns]
        snowflake.connector.pandas_tools.write_pandas(
            self._con,
            frame,
            sql.stage_name(table).upper(),
            use_logical_type=True,
            auto_create_table=False,
        )

    def _map_error(self, exc: Exception) -> KairusError:
        errors = snowflake.connector.errors
        if isinstance(exc, errors.OperationalError | errors.InterfaceError):
            return WarehouseTransientError(f"Snowflake connection problem: {exc}")
        return WarehouseError(f"Snowflake refused a statement: {exc}")

    def close(self) -> None:
        """Close the session (temporary tables go with it)."""
        self._con.close()
