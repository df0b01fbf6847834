"""Async helpers of a run: closing stream generators, and blocking calls that survive cancellation."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@contextlib.asynccontextmanager
async def closing(stream: AsyncIterator[T]) -> AsyncIterator[AsyncIterator[T]]:
    """Close an async generator when the block ends, also on cancel (its tasks must not leak)."""
    try:
        yield stream
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()


async def blocking(fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> R:
    """Run a blocking warehouse/state call in a thread and let it finish even if the run is cancelled.

    A thread cannot be interrupted: returning early would let the caller close the warehouse under a
    running statement. The cancellation is re-raised once the call has ended.
    """
    task = asyncio.ensure_future(asyncio.to_thread(fn, *args, **kwargs))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(BaseException):
            await task
        raise
