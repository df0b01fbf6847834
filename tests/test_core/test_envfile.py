"""`python -m app init-env`: a working production .env from .env.example, written once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.__main__ import main
from app.core.config import load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_init_env_writes_working_secrets_once(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = tmp_path / ".env"
    assert main(["init-env", "--env-file", str(env), "--example", str(ROOT / ".env.example")]) == 0
    out = capsys.readouterr().out
    password = re.search(r"password: (\S+)", out)
    assert password is not None
    text = env.read_text()
    assert f"ADMIN_PASSWORD={password.group(1)}" in text
    assert "change-me" not in text
    assert "# Fernet key encrypting Jira tokens" in text  # the comments are kept
    assert env.stat().st_mode & 0o777 == 0o600
    # DEBUG=false settings accept the generated file as is.
    settings = load_settings(_env_file=str(env))
    assert settings.generated_secrets == ()
    assert settings.admin_password is not None
    assert settings.admin_password.get_secret_value() == password.group(1)
    assert settings.jira_url == "http://127.0.0.1:8081"

    assert main(["init-env", "--env-file", str(env), "--example", str(ROOT / ".env.example")]) == 0
    assert "left unchanged" in capsys.readouterr().out
    assert env.read_text() == text


def test_env_example_documents_every_setting() -> None:
    from app.core.config import Settings

    documented = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    expected = {name.upper() for name in Settings.model_fields if name != "generated_secrets"}
    assert expected <= documented, sorted(expected - documented)
