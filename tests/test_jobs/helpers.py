"""Helpers shared by the jobs and end-to-end tests: compare a warehouse with the simulator's truth."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx


class RecordingSink:
    """A run sink that keeps what it is told and can ask the run to stop after some committed batches."""

    def __init__(self, cancel_after_batches: int | None = None) -> None:
        self.events: list[tuple[str, str, dict[str, Any] | None]] = []
        self.last_progress: dict[str, Any] = {}
        self.cancel_after_batches = cancel_after_batches

    async def event(self, level: str, message: str, data: dict[str, Any] | None = None) -> None:
        self.events.append((level, message, data))

    async def progress(self, progress: dict[str, Any]) -> None:
        self.last_progress = progress

    def issue_pages(self) -> int:
        streams = self.last_progress.get("streams", {})
        return sum(v["pages"] for k, v in streams.items() if k.startswith("issues:"))

    def issue_records(self) -> int:
        streams = self.last_progress.get("streams", {})
        return sum(v["records"] for k, v in streams.items() if k.startswith("issues:"))

    async def cancel_requested(self) -> bool:
        batches = self.last_progress.get("batches", 0)
        return self.cancel_after_batches is not None and batches >= self.cancel_after_batches


def differences(warehouse, truth: dict[str, list[str]]) -> dict[str, dict[str, Any]]:
    """Per table, how the warehouse's keys differ from the truth (duplicates count as differences)."""
    found: dict[str, dict[str, Any]] = {}
    for table, keys in truth.items():
        got = Counter(warehouse.fetch_keys(table))
        want = Counter(keys)
        if got != want:
            found[table] = {
                "missing": sorted((want - got).elements())[:5],
                "extra": sorted((got - want).elements())[:5],
                "duplicates": [k for k, n in got.items() if n > 1][:5],
                "counts": (sum(got.values()), sum(want.values())),
            }
    return found


def search_ids(sim, jql: str) -> set[str]:
    """Issue ids the simulated site answers for ``jql`` (asked over its public search API)."""
    answer = httpx.post(
        f"{sim.base_url}/rest/api/3/search/jql",
        json={"jql": jql, "fields": ["id"], "maxResults": 5000},
        auth=sim.auth,
        timeout=30,
    )
    answer.raise_for_status()
    return {str(issue["id"]) for issue in answer.json()["issues"]}
