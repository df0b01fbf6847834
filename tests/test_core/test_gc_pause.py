"""The cyclic collector is paused while batches are transformed, checked and loaded, and always resumed."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from app.core.gc_pause import collector_paused
from app.pipeline.transform import transform_issues
from app.pipeline.validate import validate
from tests.test_warehouse.payloads import fmap, issue

T = "2025-03-01T10:00:00.000+0000"


@pytest.fixture
def collections() -> Iterator[list[int]]:
    """Generations the collector ran on while the test ran (seen through ``gc.callbacks``)."""
    seen: list[int] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    gc.enable()
    gc.callbacks.append(record)
    yield seen
    gc.callbacks.remove(record)
    gc.enable()


def test_a_batch_is_transformed_and_checked_without_collections(collections: list[int]) -> None:
    raw = [issue(i, T, comments=(i * 10, i * 10 + 1), histories=5) for i in range(400)]
    # Unpaused, the same work runs the collector many times (the fixture sees them)...
    rows = transform_issues.__wrapped__(raw, fmap())  # type: ignore[attr-defined]
    validate.__wrapped__(rows, job_id="j", raw_issues=raw)  # type: ignore[attr-defined]
    assert len(collections) > 10
    collections.clear()
    # ... paused, none runs inside either stage: the allocations are counted once, when each one ends.
    rows = transform_issues(raw, fmap())
    validate(rows, job_id="j", raw_issues=raw)
    assert len(collections) <= 2
    assert gc.isenabled()


def test_the_collector_resumes_after_an_error() -> None:
    gc.enable()
    with pytest.raises(ValueError), collector_paused():
        assert not gc.isenabled()
        raise ValueError("boom")
    assert gc.isenabled()


def test_nested_pauses_resume_only_at_the_outermost() -> None:
    gc.enable()
    with collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_disabled_by_the_host_stays_disabled() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
