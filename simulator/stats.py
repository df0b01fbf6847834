"""Request accounting: calls per endpoint template and status, and Retry-After violations."""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any


class Stats:
    """Calls per ``"METHOD /template"`` and status, plus Retry-After violations."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget all counts."""
        with self.lock:
            self.by_endpoint: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
            self.total = 0
            self.retry_after_violations = 0

    def count(self, endpoint: str, status: int | str) -> None:
        """Record one answered request."""
        with self.lock:
            self.by_endpoint[endpoint][str(status)] += 1
            self.total += 1

    def as_dict(self) -> dict[str, Any]:
        """The ``GET /__sim/stats`` body."""
        with self.lock:
            return {
                "total": self.total,
                "by_endpoint": {k: dict(v) for k, v in sorted(self.by_endpoint.items())},
                "retry_after_violations": self.retry_after_violations,
            }
