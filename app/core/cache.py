"""One async cache interface with two implementations, chosen by ``REDIS_URL``.

Values are JSON-serialisable Python objects. Used for Jira reference data and health results; a cache
miss must always be acceptable to the caller (the cache is never the source of truth).
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from typing import Any

from redis.asyncio import Redis


class Cache(ABC):
    """get/set with TTL/delete/ping over JSON values."""

    @abstractmethod
    async def get(self, key: str) -> Any | None:
        """The value stored under ``key``, or None when absent or expired."""

    @abstractmethod
    async def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        """Store ``value`` under ``key``, expiring after ``ttl`` seconds (None = never)."""

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Remove ``key`` (no error when absent)."""

    @abstractmethod
    async def ping(self) -> bool:
        """True when the backend answers."""

    async def close(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Release connections."""


class MemoryCache(Cache):
    """A per-process cache with TTLs and a size bound (least recently used entries leave first)."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._data: OrderedDict[str, tuple[float | None, str]] = OrderedDict()
        self._max_entries = max_entries

    async def get(self, key: str) -> Any | None:
        """See :meth:`Cache.get`."""
        entry = self._data.get(key)
        if entry is None:
            return None
        expires_at, payload = entry
        if expires_at is not None and time.monotonic() >= expires_at:
            del self._data[key]
            return None
        self._data.move_to_end(key)
        return json.loads(payload)

    async def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        """See :meth:`Cache.set`; the value is serialised now, so later mutations do not leak in."""
        expires_at = time.monotonic() + ttl if ttl is not None else None
        self._data[key] = (expires_at, json.dumps(value))
        self._data.move_to_end(key)
        while len(self._data) > self._max_entries:
            self._data.popitem(last=False)

    async def delete(self, key: str) -> None:
        """See :meth:`Cache.delete`."""
        self._data.pop(key, None)

    async def ping(self) -> bool:
        """Always True: memory is always there."""
        return True


class RedisCache(Cache):
    """Redis (``redis.asyncio``), shared by every replica; keys are prefixed to share a database safely."""

    def __init__(self, url: str, *, prefix: str = "kairus:cache:") -> None:
        self._redis = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        self._prefix = prefix

    async def get(self, key: str) -> Any | None:
        """See :meth:`Cache.get`."""
        payload = await self._redis.get(self._prefix + key)
        return None if payload is None else json.loads(payload)

    async def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        """See :meth:`Cache.set` (TTL in milliseconds on the server, so fractions of a second count)."""
        payload = json.dumps(value)
        if ttl is None:
            await self._redis.set(self._prefix + key, payload)
        else:
            await self._redis.set(self._prefix + key, payload, px=max(1, int(ttl * 1000)))

    async def delete(self, key: str) -> None:
        """See :meth:`Cache.delete`."""
        await self._redis.delete(self._prefix + key)

    async def ping(self) -> bool:
        """True when Redis answers PING; False (not an exception) when it does not."""
        try:
            return bool(await self._redis.ping())  # type: ignore[misc]
        except Exception:
            return False

    async def close(self) -> None:
        """Close the connection pool."""
        await self._redis.aclose()


def create_cache(redis_url: str | None) -> Cache:
    """A Redis cache when ``redis_url`` is set, else an in-memory one."""
    return RedisCache(redis_url) if redis_url else MemoryCache()
