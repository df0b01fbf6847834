"""One pipeline run: extract -> transform -> validate -> load, in bounded batches, with checkpoints.

The job worker, the CLI ``sync`` and ``scripts/demo.py`` are thin callers of :func:`run_pipeline`.

Order of a run:
1. reference streams (projects, users, fields, ...) are loaded as one batch; the ``fields`` records give
   the field map every issue page is transformed with;
2. issue pages, per project partition in ``updated ASC, id ASC`` order, are transformed and buffered; the
   buffer is validated and loaded by issue count, row cap or age (:mod:`app.pipeline.run_load`). Only
   *after* the warehouse committed a batch are the partitions' checkpoints advanced to the largest
   ``updated`` that batch contained, so a crash replays at most one idempotent batch;
3. incremental and reconcile runs re-read issues whose development data changed without ``updated``
   moving, found by fingerprinting the Development field (:mod:`app.pipeline.dev_refresh`), without
   moving checkpoints;
4. worklog tombstones since the last run are deleted from ``worklogs``;
5. ``reconcile`` mode lists every visible project's issue ids and marks the warehouse's missing ones
   ``is_deleted`` (a project that is no longer visible is skipped: lost access is not deletion).

Cancellation is cooperative: the sink is asked between pages and :class:`JobCancelled` is raised; the
rows still in the buffer are dropped, so the warehouse stays at the last committed batch.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace

import httpx

from app.jira.client import JiraClient
from app.pipeline.dev_refresh import DEV_REFRESH_JQL, refresh_dev_data
from app.pipeline.run_stages import Run
from app.pipeline.run_support import blocking
from app.pipeline.run_types import (
    DEV_REFRESH_CHOICES,
    MODES,
    DevRefresh,
    Mode,
    RunRequest,
    RunResult,
    RunSink,
)
from app.pipeline.state import SyncStateStore
from app.warehouse.base import Warehouse

__all__ = [
    "DEV_REFRESH_CHOICES",
    "DEV_REFRESH_JQL",
    "MODES",
    "DevRefresh",
    "Mode",
    "RunRequest",
    "RunResult",
    "RunSink",
    "run_pipeline",
]


async def run_pipeline(
    request: RunRequest,
    *,
    warehouse: Warehouse,
    state: SyncStateStore,
    sink: RunSink,
    transport: httpx.AsyncBaseTransport | None = None,
) -> RunResult:
    """Run one sync of ``request.site`` into ``warehouse``; see the module docstring for the order.

    Raises :class:`JobCancelled` when the sink asked to stop, :class:`DataQualityError` when a batch
    failed the quality threshold, and the extraction's or warehouse's errors as they are.
    ``RunResult.stats`` (and ``sink.progress``) are filled in either case: on an error the partial
    statistics are attached to the exception as ``partial_stats``.
    """
    run = Run(request, warehouse, state, sink, transport)
    site = request.site
    if request.jql:
        # The request narrows the integration's own filter; it never widens it.
        site = replace(site, jql=f"({site.jql}) AND ({request.jql})" if site.jql else request.jql)
    if request.projects:
        site = replace(site, projects=tuple(request.projects))
    await blocking(warehouse.ensure_schema)
    await sink.event("info", f"{request.mode} sync of {site.name} started", {"base_url": site.base_url})
    client = JiraClient(
        site, transport=transport, max_in_flight=request.max_in_flight, timeout=request.timeout
    )
    run.client = client
    try:
        async with client:
            fields, projects = await run.references(client)
            keys = run.project_keys(projects)
            run.result.projects = keys
            await run.issues(client, fields, keys)
            await refresh_dev_data(run, client, fields, keys)
            await run.worklog_tombstones(client)
            if request.mode == "reconcile":
                await run.reconcile(client, keys)
        await run.report_notices()
    except BaseException as exc:
        with contextlib.suppress(Exception):
            await run.report_notices()
        partial = run.stats()
        with contextlib.suppress(Exception):
            exc.partial_stats = partial  # type: ignore[attr-defined]
            exc.partial_progress = run.progress.as_dict()  # type: ignore[attr-defined]
        raise
    run.progress.requests = client.stats.requests
    run.progress.responses_429 = client.stats.responses_429
    run.result.progress = run.progress.as_dict()
    run.result.stats = run.stats()
    await sink.progress(run.result.progress)
    await sink.event("info", f"{request.mode} sync finished", {"rows": run.result.stats["rows"]})
    return run.result
