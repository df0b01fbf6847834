"""Simulator configuration: one dataclass whose fields are also the CLI flags of ``python -m simulator``."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Literal

# Fault fields that POST /__sim/faults may change at run time.
FAULT_FIELDS = ("error_rate", "drop_rate", "rate", "burst", "latency_ms", "per_issue_ms", "dev_status")


@dataclass
class SimConfig:
    """Everything that shapes a simulated site: data size and seed, mode, credentials, faults."""

    issues: int = 500
    seed: int = 7
    mode: Literal["cloud", "server"] = "cloud"
    tz: str = "America/Los_Angeles"
    latency_ms: float = 0.0
    per_issue_ms: float = 0.0
    rate: float | None = None
    burst: float | None = None
    error_rate: float = 0.0
    drop_rate: float = 0.0
    email: str = "demo@example.com"
    token: str = "demo-token"  # noqa: S105 - the documented demo credential of a fake server
    page_cap: int = 100
    dev_status: Literal["ok", "forbidden", "absent"] = "ok"
    consistency_lag_s: float = 0.0
    start: str = "2026-01-15T12:00:00+00:00"

    def with_changes(self, **changes: Any) -> SimConfig:
        """A copy with the given fields replaced (unknown names raise ``TypeError``)."""
        return replace(self, **changes)

    @classmethod
    def field_names(cls) -> list[str]:
        """Names of all configuration fields."""
        return [f.name for f in fields(cls)]
