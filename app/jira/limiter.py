"""Adaptive flow control for one Jira site: an AIMD in-flight limit, a shared cool-down and a pacer.

* **In-flight limit (AIMD).** Starts at ``max_in_flight``; a 429 halves it (once per congestion window, so a
  burst of 429s from requests already in flight counts as one signal); a run of ``limit`` successes adds 1.
  Always within ``[1, max_in_flight]``.
* **Cool-down.** A 429 with ``Retry-After`` throttles the whole credential, so no request of this site
  leaves before that instant: retrying earlier only earns a longer penalty.
* **Pacer.** Jira Cloud does not say its refill rate, but two consecutive 429s do: between them the server's
  bucket went from empty to empty, so what it accepted in between, divided by the time, *is* the rate.
  The pacer then mirrors the server's token bucket (capacity from ``X-RateLimit-Limit``) slightly below that
  rate, so the budget is used steadily instead of in bursts that end in 429s. It creeps up while no 429
  comes, so a low estimate heals.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from app.core.metrics import JIRA_IN_FLIGHT_LIMIT

PACE_MARGIN = 0.97  # fraction of the measured rate to aim at
MIN_SAMPLE = 10  # accepted requests needed between two 429s to trust a rate measurement


@dataclass
class Ticket:
    """Handed out by :meth:`AdaptiveLimiter.acquire`; remembers the congestion window it started in."""

    generation: int


class Pacer:
    """A client-side token bucket (GCRA style: tokens may go negative to queue callers in order).

    Modes once a rate is known: ``exact`` (measured between two 429s: creep +0.3%/s, -10% on a 429) and
    ``probe`` (the server's bucket overflowed during the cool-down, so the measurement is only a lower
    bound: grow ~20%/s until the next 429, then fall back 10% and go ``exact``).
    """

    def __init__(self) -> None:
        self.rate: float | None = None  # None = unpaced
        self.mode = "exact"
        self.capacity = 1.0
        self.tokens = 0.0
        self.stamp = time.monotonic()
        self.accepted = 0  # responses (not 429) since the last 429
        self.first_sent: float | None = None
        self.last_429: float | None = None

    def reserve(self, now: float) -> float:
        """Take one token; return how long to wait before sending (0 when unpaced)."""
        if self.first_sent is None:
            self.first_sent = now
        if self.rate is None:
            return 0.0
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        self.tokens -= 1.0
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate

    def on_accepted(self) -> None:
        """Count a request the server let through, and let the paced rate grow a little."""
        self.accepted += 1
        if self.rate is not None:
            # Per-request factors: probe x1.05 per quarter second of traffic, exact x1.003 per second.
            self.rate *= 1.05 ** (4.0 / self.rate) if self.mode == "probe" else 1.003 ** (1.0 / self.rate)

    def on_throttled(self, now: float, limit_header: float | None) -> None:
        """Learn from a 429: the server's bucket is empty now."""
        if limit_header:
            self.capacity = max(1.0, limit_header)
        if self.rate is not None:
            self.rate = max(0.5, self.rate * 0.9)
            self.mode = "exact"
        elif self.last_429 is not None and self.accepted >= MIN_SAMPLE:
            # From empty (last 429) to empty (now): what was accepted in between is rate x time...
            self.rate = max(0.5, PACE_MARGIN * self.accepted / max(now - self.last_429, 1e-3))
            # ...unless the bucket filled up during the cool-down: then it is only a lower bound.
            self.mode = "probe" if self.accepted >= 0.9 * self.capacity else "exact"
        elif self.last_429 is None and self.first_sent is not None and limit_header:
            # First 429, from a bucket that started full: accepted = capacity + rate x elapsed.
            surplus = self.accepted - self.capacity
            if surplus >= MIN_SAMPLE:
                self.rate = max(0.5, PACE_MARGIN * surplus / max(now - self.first_sent, 1e-3))
        self.tokens = 0.0
        self.stamp = now
        self.accepted = 0
        self.last_429 = now


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
        self.pacer = Pacer()
        self._generation = 0
        self._successes = 0
        self._cond = asyncio.Condition()
        JIRA_IN_FLIGHT_LIMIT.labels(integration=name).set(self.limit)

    @property
    def rate(self) -> float | None:
        """The paced request rate (requests/s), None while unpaced."""
        return self.pacer.rate

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
            wait = self.pacer.reserve(now)
            if wait > 0:
                await asyncio.sleep(wait)
                if time.monotonic() < self.pause_until:
                    continue  # a 429 arrived meanwhile: wait it out (the token stays spent)
            return

    async def release(self) -> None:
        """Give the in-flight slot back."""
        async with self._cond:
            self.in_flight -= 1
            self._cond.notify_all()

    def on_response(self, throttled: bool) -> None:
        """Every answer the server gave (429 or not) except throttles: feeds the pacer's measurement."""
        if not throttled:
            self.pacer.on_accepted()

    def on_success(self) -> None:
        """Additive increase: after a run of ``limit`` successes, allow one more request in flight."""
        self._successes += 1
        if self._successes >= self.limit and self.limit < self.max_in_flight:
            self._successes = 0
            self._set_limit(self.limit + 1)

    def on_throttle(
        self, ticket: Ticket, retry_after: float | None, limit_header: float | None = None
    ) -> None:
        """Multiplicative decrease, a shared cool-down and a pacer update; called for each 429."""
        now = time.monotonic()
        if retry_after is not None:
            self.pause_until = max(self.pause_until, now + retry_after)
        if ticket.generation != self._generation:
            return  # this request left before the last decrease: same congestion event
        self._generation += 1
        self._successes = 0
        self._set_limit(max(1.0, self.limit / 2))
        self.pacer.on_throttled(now, limit_header)

    def _set_limit(self, value: float) -> None:
        self.limit = min(float(self.max_in_flight), max(1.0, value))
        JIRA_IN_FLIGHT_LIMIT.labels(integration=self.name).set(self.limit)
