"""The simulated clock: starts at ``SimConfig.start``, moves with real time, and can be advanced or set."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


class SimClock:
    """Simulated "now" in epoch milliseconds; thread-safe."""

    def __init__(self, start_iso: str) -> None:
        start = datetime.fromisoformat(start_iso)
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        self._start_ms = int(start.timestamp() * 1000)
        self._real0 = time.monotonic()
        self._offset_ms = 0
        self._lock = threading.Lock()

    @property
    def start_ms(self) -> int:
        """The configured start instant (epoch ms)."""
        return self._start_ms

    def now_ms(self) -> int:
        """Current simulated time in epoch ms."""
        elapsed = int((time.monotonic() - self._real0) * 1000)
        return self._start_ms + elapsed + self._offset_ms

    def advance(self, seconds: float) -> int:
        """Move the clock forward (or back, if negative) by ``seconds``; returns the new now."""
        with self._lock:
            self._offset_ms += int(seconds * 1000)
        return self.now_ms()

    def set(self, iso: str) -> int:
        """Jump to an absolute instant (ISO 8601; naive means UTC)."""
        target = datetime.fromisoformat(iso)
        if target.tzinfo is None:
            target = target.replace(tzinfo=UTC)
        target_ms = int(target.timestamp() * 1000)
        with self._lock:
            self._offset_ms += target_ms - self.now_ms()
        return self.now_ms()

    def now_iso(self) -> str:
        """Current simulated time as ISO 8601 UTC."""
        return datetime.fromtimestamp(self.now_ms() / 1000, UTC).isoformat(timespec="milliseconds")
