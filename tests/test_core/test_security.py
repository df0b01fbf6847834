"""Password hashing and Fernet encryption of secrets at rest."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from app.core.errors import ConfigError
from app.core.security import decrypt_secret, encrypt_secret, hash_password, verify_password


def test_passwords_are_argon2_hashed_and_verified() -> None:
    digest = hash_password("a-long-password")
    assert digest.startswith("$argon2id$")
    assert "a-long-password" not in digest
    assert verify_password("a-long-password", digest)
    assert not verify_password("another-password", digest)
    assert not verify_password("a-long-password", None)


def test_encryption_round_trip_and_wrong_key() -> None:
    key = Fernet.generate_key().decode()
    stored = encrypt_secret("jira-token", key)
    assert "jira-token" not in stored
    assert stored != encrypt_secret("jira-token", key)  # random IV: equal tokens do not look equal
    assert decrypt_secret(stored, key) == "jira-token"
    with pytest.raises(ConfigError, match="ENCRYPTION_KEY"):
        decrypt_secret(stored, Fernet.generate_key().decode())
    with pytest.raises(ConfigError, match="not a valid Fernet key"):
        encrypt_secret("x", "short")
