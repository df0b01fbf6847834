"""Adaptive flow control for one Jira site: an AIMD in-flight limit, a shared cool-down and a pacer.

* **In-flight limit (AIMD).** Starts at ``max_in_flight``; a 429 halves it (once per congestion window, so a
  burst of 429s from requests already in flight counts as one signal); a run of ``limit`` successes adds 1.
  Always within ``[1, max_in_flight]``.
* **Cool-down.** A 429 with ``Retry-After`` throttles the whole credential, so no request of this site
  leaves before that instant: retrying earlier only earns a longer penalty. When it ends, a single probe
  request goes first; the others follow only once it was not throttled (a burst of requests released
  together would otherwise all arrive inside a fresh penalty).
* **Pacer.** Jira Cloud does not say its refill rate, but 429s do. Between two 429s the server's bucket
  went from empty to empty, so what it accepted in between, divided by the time, is the rate. The first
  429 gives a lower bound (accepted beyond the burst capacity of ``X-RateLimit-Limit``, over the time
  since the first request), from which the pacer grows quickly until the second 429 measures the rate.
  The pacer mirrors the server's token bucket slightly below that rate and creeps up while no 429 comes.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from app.core.metrics import JIRA_IN_FLIGHT_LIMIT

PACE_MARGIN = 0.97  # fraction of the measured rate to aim at
MIN_SAMPLE = 5  # accepted requests needed between two 429s to trust a rate measurement
MIN_RATE = 1.0  # requests/s: the pacer never goes slower


class Pacer:
    """A client-side token bucket (GCRA style: tokens may go negative to queue callers in order).

    Modes once a rate is known: ``probe`` (a lower bound: grow ~10%/s until the next 429 measures the
    rate) and ``exact`` (measured: creep +0.2%/s up to the measurement and only +0.005%/s past it, so a
    well measured site sees almost no further 429s; a 429 all the same is measured again).
    """

    def __init__(self, learned: tuple[float, float] | None = None) -> None:
        self.rate: float | None = None  # None = unpaced
        self.ceiling: float | None = None  # the last measured rate (exact mode only)
        self.mode = "probe"
        self.capacity = 1.0
        self.tokens = 0.0
        self.stamp = time.monotonic()
        self.accepted = 0  # responses (not 429) whose request left after the last 429
        self.first_sent: float | None = None
        self.last_429: float | None = None
        self.last_pause = 1.0  # seconds the last 429 asked us to wait
        if learned is not None:
            self.ceiling, self.capacity = learned
            self.rate, self.mode = self.ceiling * PACE_MARGIN, "exact"

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

    def on_accepted(self, sent_at: float) -> None:
        """Count a request the server let through, and let the paced rate grow a little."""
        if self.last_429 is None or sent_at > self.last_429:
            # Only requests sent after the last 429 belong to the current measurement interval.
            self.accepted += 1
        if self.rate is None:
            return
        if self.mode == "probe":
            self.rate *= 1.10 ** (1.0 / self.rate)  # +10% per second of traffic
        elif self.ceiling is not None:
            # Up to the measurement at +0.2%/s, beyond it only at +0.005%/s (a limit raised later).
            creep = 1.002 if self.rate < self.ceiling else 1.00005
            self.rate *= creep ** (1.0 / self.rate)

    def on_throttled(self, now: float, limit_header: float | None, pause: float = 1.0) -> float | None:
        """Learn from a 429 (the server's bucket is empty now); returns a new measured rate, if any."""
        if limit_header:
            self.capacity = max(1.0, limit_header)
        measured: float | None = None
        if self.last_429 is None:
            if self.first_sent is not None and limit_header:
                # From a bucket that started full: accepted <= capacity + rate x elapsed.
                surplus = self.accepted - self.capacity
                if surplus >= MIN_SAMPLE and self.rate is None:
                    self.rate = max(MIN_RATE, surplus / max(now - self.first_sent, 1e-3))
                    self.mode = "probe"
        elif self.accepted >= MIN_SAMPLE:
            # From empty (last 429) to empty (now): accepted = rate x time, less any refill lost while the
            # bucket sat full and less the requests still in flight, so it never overestimates.
            measured = max(MIN_RATE, self.accepted / max(now - self.last_429, 1e-3))
            self.ceiling = measured
            self.rate = measured * PACE_MARGIN
            # If the bucket could have filled up during the last cool-down, the refill beyond its capacity
            # was lost and the measurement is only a lower bound: keep probing upwards.
            self.mode = "probe" if measured * self.last_pause >= 0.9 * self.capacity else "exact"
        elif self.rate is not None and self.mode == "exact":
            self.rate = max(MIN_RATE, self.rate * 0.9)  # throttled again before a new measurement
        self.tokens = 0.0
        self.stamp = now
        self.accepted = 0
        self.last_429 = now
        self.last_pause = pause
        return measured


# What each credential's pacer learned, so the next job of the same site starts at the right pace
# instead of rediscovering it with a burst of 429s. Keyed by site and credential (never the secret).
LEARNED: dict[str, tuple[float, float]] = {}


@dataclass
class Ticket:
    """Handed out by :meth:`AdaptiveLimiter.acquire`: the congestion window it started in, probe or not."""

    generation: int
    probe: bool = False
    sent_at: float = 0.0


class AdaptiveLimiter:
    """Bounds concurrent requests and their rate; see the module docstring for the policy."""

    def __init__(self, max_in_flight: int = 8, *, name: str = "default", key: str | None = None) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self.key = key
        self.max_in_flight = max_in_flight
        self.limit = float(max_in_flight)
        self.in_flight = 0
        self.name = name
        self.pause_until = 0.0
        self.pacer = Pacer(LEARNED.get(key) if key else None)
        self._generation = 0
        self._successes = 0
        self._needs_probe = False
        self._probe_out = False
        self._cond = asyncio.Condition()
        JIRA_IN_FLIGHT_LIMIT.labels(integration=name).set(self.limit)

    @property
    def rate(self) -> float | None:
        """The paced request rate (requests/s), None while unpaced."""
        return self.pacer.rate

    async def acquire(self) -> Ticket:
        """Wait for an in-flight slot, the end of any cool-down (and its probe), and the pacer's slot."""
        async with self._cond:
            await self._cond.wait_for(lambda: self.in_flight < int(self.limit))
            self.in_flight += 1
        ticket = Ticket(self._generation)
        try:
            await self._wait_for_send_slot(ticket)
        except BaseException:
            await self.release(ticket)
            raise
        ticket.generation = self._generation
        ticket.sent_at = time.monotonic()
        return ticket

    async def _wait_for_send_slot(self, ticket: Ticket) -> None:
        while True:
            now = time.monotonic()
            if now < self.pause_until:
                await asyncio.sleep(self.pause_until - now)
                continue
            if self._needs_probe:
                if self._probe_out:
                    async with self._cond:
                        await self._cond.wait_for(lambda: not self._probe_out)
                    continue
                self._probe_out = ticket.probe = True
                return  # the probe goes at once: the cool-down already refilled the bucket
            wait = self.pacer.reserve(now)
            if wait > 0:
                await asyncio.sleep(wait)
                if time.monotonic() < self.pause_until or self._needs_probe:
                    continue  # a 429 arrived meanwhile: wait it out (the token stays spent)
            return

    async def release(self, ticket: Ticket | None = None) -> None:
        """Give the in-flight slot back (and the probe role, if ``ticket`` held it)."""
        async with self._cond:
            self.in_flight -= 1
            if ticket is not None and ticket.probe:
                self._probe_out = False
            self._cond.notify_all()

    def on_response(self, ticket: Ticket, throttled: bool) -> None:
        """Every answer the server gave: feeds the pacer and opens the gate after a good probe."""
        if throttled:
            return
        self.pacer.on_accepted(ticket.sent_at)
        if ticket.probe:
            self._needs_probe = False

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
        self.pause_until = max(self.pause_until, now + (retry_after if retry_after is not None else 1.0))
        self._needs_probe = True
        if ticket.generation != self._generation:
            return  # this request left before the last decrease: same congestion event
        self._generation += 1
        self._successes = 0
        self._set_limit(max(1.0, self.limit / 2))
        pause = retry_after if retry_after is not None else 1.0
        measured = self.pacer.on_throttled(now, limit_header, pause)
        if measured is not None and self.key:
            LEARNED[self.key] = (measured, self.pacer.capacity)

    def _set_limit(self, value: float) -> None:
        self.limit = min(float(self.max_in_flight), max(1.0, value))
        JIRA_IN_FLIGHT_LIMIT.labels(integration=self.name).set(self.limit)
