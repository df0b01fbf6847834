"""Opening warehouses: DuckDB's single-writer lock, Snowflake credentials, the factory's choice."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from app.core.errors import ConfigError, WarehouseLockedError
from app.warehouse.duckdb import DuckDBWarehouse
from app.warehouse.factory import open_warehouse
from app.warehouse.snowflake import SnowflakeWarehouse, connect_kwargs


def test_a_duckdb_file_held_by_another_process_raises_warehouse_locked(tmp_path) -> None:
    path = tmp_path / "held.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import duckdb, sys
            con = duckdb.connect({str(path)!r})
            print("held", flush=True)
            sys.stdin.read()
        """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(WarehouseLockedError, match="another process"):
            DuckDBWarehouse(path)
    finally:
        holder.communicate(input="", timeout=30)
    # Once the other process is gone the file opens.
    wh = DuckDBWarehouse(path)
    wh.ensure_schema()
    assert wh.table_counts()["issues"] == 0
    wh.close()


def _pem_key(passphrase: bytes | None = None) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    enc = serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc).decode()


def test_key_pair_auth_builds_jwt_kwargs_with_a_der_key(tmp_path) -> None:
    pem = _pem_key(b"s3cret")
    kwargs = connect_kwargs(
        {
            "account": "org-acct",
            "user": "ETL_SVC",
            "role": "ETL",
            "warehouse": "ETL_XS",
            "database": "RAW",
            "private_key": pem,
            "private_key_passphrase": "s3cret",
            "query_tag": "kairus",
        }
    )
    assert kwargs["authenticator"] == "SNOWFLAKE_JWT"
    assert isinstance(kwargs["private_key"], bytes) and kwargs["private_key"][:1] == b"0"  # DER sequence
    assert "password" not in kwargs
    assert kwargs["session_parameters"] == {"TIMEZONE": "UTC", "QUERY_TAG": "kairus"}
    key_file = tmp_path / "key.p8"
    key_file.write_text(_pem_key(b"unused"))
    from_file = connect_kwargs(
        {"account": "a", "user": "u", "private_key_file": str(key_file), "private_key_file_pwd": "unused"}
    )
    assert from_file["authenticator"] == "SNOWFLAKE_JWT"


def test_password_auth_and_missing_credentials() -> None:
    kwargs = connect_kwargs({"account": "a", "user": "u", "password": "pw"})
    assert kwargs["password"] == "pw" and "authenticator" not in kwargs
    with pytest.raises(ConfigError, match="key pair"):
        connect_kwargs({"account": "a", "user": "u"})
    with pytest.raises(ConfigError, match="ACCOUNT"):
        connect_kwargs({"user": "u", "password": "pw"})


def test_factory_picks_snowflake_with_credentials_else_duckdb(tmp_path) -> None:
    import fakesnow

    duck = open_warehouse(duckdb_path=tmp_path / "d.duckdb", snowflake=None)
    assert isinstance(duck, DuckDBWarehouse)
    duck.close()
    with fakesnow.patch():
        snow = open_warehouse(
            duckdb_path=tmp_path / "unused.duckdb",
            snowflake={"account": "a", "user": "u", "password": "pw", "database": "kairus"},
        )
        assert isinstance(snow, SnowflakeWarehouse)
        snow.ensure_schema()
        assert snow.table_counts()["issues"] == 0
        snow.close()
    assert not (tmp_path / "unused.duckdb").exists()
