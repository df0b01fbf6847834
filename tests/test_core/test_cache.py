"""The cache interface on memory and on the real Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from app.core.cache import Cache, MemoryCache, RedisCache, create_cache


@pytest.fixture(params=["memory", "redis"])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    if request.param == "memory":
        yield MemoryCache(max_entries=3)
        return
    url = request.getfixturevalue("redis_url")
    # A per-test prefix: tests of other parts may share this Redis database.
    redis_cache = RedisCache(url, prefix=f"test:{uuid.uuid4().hex}:")
    yield redis_cache
    await redis_cache.close()


async def _wait_until_gone(cache: Cache, key: str) -> bool:
    for _ in range(100):
        if await cache.get(key) is None:
            return True
        await asyncio.sleep(0.02)
    return False


async def test_set_get_delete_json_values(cache: Cache) -> None:
    assert await cache.ping()
    assert await cache.get("missing") is None
    value = {"projects": ["ENG"], "count": 3, "nested": {"ok": True}}
    await cache.set("ref", value)
    assert await cache.get("ref") == value
    await cache.delete("ref")
    assert await cache.get("ref") is None
    await cache.delete("ref")  # deleting twice is fine


async def test_ttl_expires_entries(cache: Cache) -> None:
    await cache.set("short", "v", ttl=0.05)
    await cache.set("long", "v", ttl=60)
    assert await _wait_until_gone(cache, "short")
    assert await cache.get("long") == "v"


async def test_memory_cache_is_bounded() -> None:
    cache = MemoryCache(max_entries=2)
    await cache.set("a", 1)
    await cache.set("b", 2)
    assert await cache.get("a") == 1  # a is now the most recent
    await cache.set("c", 3)
    assert await cache.get("b") is None
    assert await cache.get("a") == 1
    assert await cache.get("c") == 3


async def test_create_cache_follows_redis_url(redis_url: str) -> None:
    assert isinstance(create_cache(None), MemoryCache)
    redis_cache = create_cache(redis_url)
    assert isinstance(redis_cache, RedisCache)
    assert await redis_cache.ping()
    await redis_cache.close()


async def test_unreachable_redis_pings_false() -> None:
    cache = RedisCache("redis://127.0.0.1:1/0")
    assert await cache.ping() is False
    await cache.close()
