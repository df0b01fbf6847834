"""Adaptive flow control for one Jira site: an AIMD in-flight limit, a shared cool-down and a rate pacer.

* **In-flight limit (AIMD).** Starts at ``max_in_flight``; a 429 halves it (once per congestion window, so a
  burst of 429s from requests already in flight counts as one signal); a run of ``limit`` successes adds 1.
  Always within ``[1, max_in_flight]``.
* **Cool-down.** A 429 (or 503) with ``Retry-After`` means the whole credential is throttled, so no request
  of this site leaves before that instant: retrying earlier only earns a longer penalty.
* **Pacer.** When Jira tells us its refill rate, or 429s show the sustainable rate, requests are spaced to
  it, so the budget is used steadily instead of in bursts that end in 429s.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass

from app.core.metrics import JIRA_IN_FLIGHT_LIMIT


@dataclass
class Ticket:
    """Handed out by :meth:`AdaptiveLimiter.acquire`; remembers the congestion window it started in."""

    generation: int


class AdaptiveLimiter:
    """Bounds concurrent requests and their rate; see the module docstring for the policy."""

    def __init__(self, max_in_flight: int = 8, *, name: str = "default") -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self.max_in_flight = max_in_flight
        self.limit = float(max_in_flight)
        self.in_flight = 0
        self.name = name
        self.pause_until = 0.0
        self.rate: float | None = None  # requests per second when pacing, None = unpaced
        self._next_slot = 0.0
        self._generation = 0
        self._successes = 0
        self._cond = asyncio.Condition()
        self._sent: deque[float] = deque(maxlen=512)
        JIRA_IN_FLIGHT_LIMIT.labels(integration=name).set(self.limit)

    async def acquire(self) -> Ticket:
        """Wait for an in-flight slot, the end of any cool-down, and the pacer's next slot."""
        async with self._cond:
            await self._cond.wait_for(lambda: self.in_flight < int(self.limit))
            self.in_flight += 1
            generation = self._generation
        try:
            await self._wait_for_send_slot()
        except BaseException:
            await self.release()
            raise
        return Ticket(generation)

    async def _wait_for_send_slot(self) -> None:
        while True:
            now = time.monotonic()
            if now < self.pause_until:
                await asyncio.sleep(self.pause_until - now)
                continue
            if self.rate:
                # Reserve the next slot atomically (no await between read and write).
                slot = max(now, self._next_slot)
                self._next_slot = slot + 1.0 / self.rate
                if slot > now:
                    await asyncio.sleep(slot - now)
                    if time.monotonic() < self.pause_until:
                        continue
            self._sent.append(time.monotonic())
            return

    async def release(self) -> None:
        """Give the in-flight slot back."""
        async with self._cond:
            self.in_flight -= 1
            self._cond.notify_all()

    def on_success(self) -> None:
        """Additive increase: after a run of ``limit`` successes, allow one more request in flight."""
        self._successes += 1
        if self._successes >= self.limit and self.limit < self.max_in_flight:
            self._successes = 0
            self._set_limit(self.limit + 1)

    def on_throttle(self, ticket: Ticket, retry_after: float | None) -> None:
        """Multiplicative decrease plus a shared cool-down; called for a 429 (or 503 with Retry-After)."""
        now = time.monotonic()
        if retry_after is not None:
            self.pause_until = max(self.pause_until, now + retry_after)
        if ticket.generation != self._generation:
            return  # this request left before the last decrease: same congestion event
        self._generation += 1
        self._successes = 0
        self._set_limit(max(1.0, self.limit / 2))
        observed = self.observed_rate(now)
        if observed is not None:
            # Pace just under what got us throttled; the pacer creeps back up on success runs.
            self.rate = max(0.5, observed * 0.85) if self.rate is None else min(self.rate, observed) * 0.9

    def set_rate(self, rate: float | None) -> None:
        """Pace to ``rate`` requests/s (from rate-limit headers); None stops pacing."""
        self.rate = rate

    def observed_rate(self, now: float, window: float = 2.0) -> float | None:
        """Requests per second sent over the last ``window`` seconds (None when too few to tell)."""
        recent = [t for t in self._sent if now - t <= window]
        if len(recent) < 4:
            return None
        span = max(now - recent[0], 1e-3)
        return len(recent) / span

    def _set_limit(self, value: float) -> None:
        self.limit = min(float(self.max_in_flight), max(1.0, value))
        JIRA_IN_FLIGHT_LIMIT.labels(integration=self.name).set(self.limit)
