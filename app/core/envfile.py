"""``python -m app init-env``: write ``.env`` from ``.env.example`` with fresh secrets.

Only the three secrets are generated; every other line of the example is copied as is, so the comments
keep documenting the file the user edits.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet


@dataclass(frozen=True)
class EnvInitResult:
    """What ``init-env`` did: the file written (None when it already existed) and the admin password."""

    path: Path
    created: bool
    admin_password: str | None


def generated_secrets() -> dict[str, str]:
    """Fresh values for SECRET_KEY, ENCRYPTION_KEY and ADMIN_PASSWORD."""
    return {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "ADMIN_PASSWORD": secrets.token_urlsafe(18),
    }


def render_env(example: str, values: dict[str, str]) -> str:
    """``example`` with each ``NAME=...`` line of ``values`` replaced (added at the end if missing)."""
    remaining = dict(values)
    lines = []
    for line in example.splitlines():
        match = re.match(r"^\s*#?\s*([A-Z][A-Z0-9_]*)=", line)
        if match and match.group(1) in remaining:
            name = match.group(1)
            line = f"{name}={remaining.pop(name)}"
        lines.append(line)
    lines.extend(f"{name}={value}" for name, value in remaining.items())
    return "\n".join(lines) + "\n"


def init_env(env_path: Path = Path(".env"), example_path: Path = Path(".env.example")) -> EnvInitResult:
    """Create ``env_path`` from ``example_path`` with generated secrets, unless it already exists."""
    if env_path.exists():
        return EnvInitResult(env_path, created=False, admin_password=None)
    example = example_path.read_text(encoding="utf-8") if example_path.exists() else ""
    values = generated_secrets()
    env_path.write_text(render_env(example, values), encoding="utf-8")
    env_path.chmod(0o600)  # it holds secrets: owner only
    return EnvInitResult(env_path, created=True, admin_password=values["ADMIN_PASSWORD"])
