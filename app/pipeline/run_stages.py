"""The stages of one run (references, issue scans, worklog tombstones, reconcile) and its statistics.

:func:`app.pipeline.run.run_pipeline` is the public face; the development-data refresh lives in
:mod:`app.pipeline.dev_refresh`, batching and loading in :mod:`app.pipeline.run_load`.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from app.core.errors import JobCancelled
from app.jira.client import JiraClient
from app.jira.dev_status import find_dev_field
from app.jira.extract import census, deleted_worklogs, issue_pages, reference_streams
from app.jira.stats import RequestStats
from app.pipeline.run_load import BatchLoader
from app.pipeline.run_support import blocking, closing
from app.pipeline.run_types import RunRequest, RunResult, RunSink
from app.pipeline.state import REFERENCE, WORKLOGS_DELETED, RunProgress, SyncStateStore, issue_stream
from app.pipeline.transform import build_field_map, transform_reference
from app.warehouse.base import Warehouse


class Run:
    """The state of one run; :func:`app.pipeline.run.run_pipeline` drives it."""

    def __init__(
        self,
        request: RunRequest,
        warehouse: Warehouse,
        state: SyncStateStore,
        sink: RunSink,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.request = request
        self.transport = transport
        self.warehouse = warehouse
        self.state = state
        self.sink = sink
        self.progress = RunProgress()
        self.loader = BatchLoader(request, warehouse, state, sink, self.progress)
        self.started = time.monotonic()
        self.result = RunResult(request.job_id, request.mode, {}, {})
        self.client: JiraClient | None = None
        self.notices_reported = 0

    @property
    def client_stats(self) -> RequestStats | None:
        """The request statistics of the run's client, once it exists."""
        return self.client.stats if self.client is not None else None

    # --- checkpoints of the caller -----------------------------------------------------------------
    async def checkpoint(self) -> None:
        """Report progress and new notices, and stop here if the caller asked for it."""
        await self.report_notices()
        if self.client is not None:
            self.progress.requests = self.client.stats.requests
            self.progress.responses_429 = self.client.stats.responses_429
        await self.sink.progress(self.progress.as_dict())
        if await self.sink.cancel_requested():
            await self.sink.event("warning", "cancel requested: stopping at the last committed batch")
            raise JobCancelled(f"job {self.request.job_id} cancelled")

    async def report_notices(self) -> None:
        """Copy the client's once-per-job notices (dev-status refused, error objects...) into events."""
        if self.client is None:
            return
        notices = self.client.notices.as_list()
        for notice in notices[self.notices_reported :]:
            await self.sink.event("warning", notice, {"notice": True})
        self.notices_reported = len(notices)

    # --- stages ------------------------------------------------------------------------------------
    async def references(self, client: JiraClient) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Load every reference stream as one batch; returns (fields records, project records)."""
        fields: list[dict[str, Any]] = []
        projects: list[dict[str, Any]] = []
        async with closing(reference_streams(client)) as streams:
            async for name, records in streams:
                self.progress.add_page(name, len(records))
                if name == "fields":
                    fields = records
                    self.loader.dev_field = find_dev_field(records)
                elif name == "projects":
                    projects = records
                self.loader.buffer.add(transform_reference(name, records))
                await self.checkpoint()
        await self.loader.flush()
        await asyncio.to_thread(
            self.state.save, REFERENCE, watermark=None, cursor={"job_id": self.request.job_id}
        )
        await self.sink.event(
            "info", "reference data loaded", {"fields": len(fields), "projects": len(projects)}
        )
        return fields, projects

    def project_keys(self, projects: list[dict[str, Any]]) -> list[str]:
        """The projects to scan: the request's, else the integration's, else every visible active one."""
        wanted = self.request.projects or self.request.site.projects
        if wanted:
            return list(dict.fromkeys(wanted))
        return [str(p["key"]) for p in projects if p.get("key") and not p.get("_archived")]

    async def since(self, keys: list[str]) -> dict[str, datetime | None]:
        """Each partition's starting point for this run's mode."""
        saved = await asyncio.to_thread(self.state.all)
        since: dict[str, datetime | None] = {}
        for key in keys:
            stream = issue_stream(key)
            checkpoint = saved.get(stream)
            if checkpoint is None:
                since[stream] = None
            elif self.request.mode != "full":
                since[stream] = checkpoint.watermark
            elif checkpoint.cursor.get("job_id") == self.request.job_id and checkpoint.cursor.get("position"):
                # A resumed full job continues from its own last committed batch.
                since[stream] = datetime.fromisoformat(str(checkpoint.cursor["position"]))
            else:
                since[stream] = None
        return since

    async def issues(self, client: JiraClient, fields: list[dict[str, Any]], keys: list[str]) -> None:
        """Stream every partition's issue pages into the warehouse, advancing the checkpoints."""
        since = await self.since(keys)
        resumed = {k: v.isoformat() for k, v in since.items() if v is not None}
        await self.sink.event(
            "info", f"scanning issues of {len(keys)} project(s)", {"projects": keys, "since": resumed}
        )
        await self.scan(client, fields, keys, since, checkpointed=True)

    async def scan(
        self,
        client: JiraClient,
        fields: list[dict[str, Any]],
        keys: list[str],
        since: dict[str, datetime | None],
        *,
        checkpointed: bool,
        extra_jql: str | None = None,
    ) -> None:
        """Transform and load the issue pages of ``keys``; ``checkpointed`` scans advance the watermarks.

        Scans that are not checkpointed (the development-data refresh) count as ``dev_refresh:<KEY>``.
        """
        # Pages are buffered raw and transformed once per batch, when it is flushed (a tenth less work
        # than page by page, and an issue or link read twice in a batch is transformed once).
        self.loader.fmap = build_field_map(fields)
        until = datetime.now(UTC)
        overlap = timedelta(minutes=self.request.overlap_minutes)
        pages = issue_pages(
            client,
            fields_list=fields,
            since=since,
            until=until,
            projects=keys,
            overlap=overlap,
            extra_jql=extra_jql,
        )
        async with closing(pages) as stream:
            async for page in stream:
                key = page.partition.removeprefix("issues:")
                stream_name = issue_stream(key) if checkpointed else f"dev_refresh:{key}"
                self.progress.add_page(stream_name, len(page.issues))
                if page.issues:
                    position = page.max_updated if checkpointed else None
                    self.loader.buffer.add_issues(page.issues, stream=stream_name, position=position)
                if self.loader.due():
                    await self.loader.flush()
                await self.checkpoint()
        await self.loader.flush()

    async def worklog_tombstones(self, client: JiraClient) -> None:
        """Delete the worklogs Jira reports deleted since the last run."""
        saved = await asyncio.to_thread(self.state.get, WORKLOGS_DELETED)
        since_ms = int(saved.cursor.get("since_ms", 0)) if saved else 0
        ids, new_since = await deleted_worklogs(client, since_ms)
        if ids:
            await blocking(self.warehouse.delete_children, "worklogs", ids)
            await self.sink.event("info", f"{len(ids)} deleted worklog(s) removed", {"count": len(ids)})
        await asyncio.to_thread(self.state.save, WORKLOGS_DELETED, cursor={"since_ms": int(new_since)})
        self.result.deleted_worklogs = len(ids)

    async def reconcile(self, client: JiraClient, keys: list[str]) -> None:
        """Mark issues that vanished from every visible project ``is_deleted``."""
        visible: list[str] = []
        alive: set[str] = set()
        for key in keys:
            ids = await census(client, key)
            await self.checkpoint()
            if ids is None:
                await self.sink.event("warning", f"project {key} is not visible: skipped by reconcile")
                continue
            visible.append(key)
            alive |= ids
        missing: set[str] = set()
        for key in visible:
            known = await blocking(self.warehouse.issue_ids, key)
            # An issue moved to another visible project is still alive: compare with the union.
            missing |= known - alive
        if missing:
            await blocking(self.warehouse.mark_deleted, sorted(missing), self.request.job_id)
        self.result.deleted_issues = len(missing)
        await self.sink.event(
            "info", f"reconcile: {len(missing)} issue(s) marked deleted", {"projects": visible}
        )

    def stats(self) -> dict[str, Any]:
        """The contract's ``Job.stats``: request statistics plus seconds, rows, dq, quarantine, notices."""
        stats = dict(self.client.stats.as_dict()) if self.client is not None else {}
        stats["seconds"] = round(time.monotonic() - self.started, 3)
        stats["rows"] = dict(self.progress.tables)
        stats["dq"] = list(self.loader.dq.values())
        stats["quarantined"] = self.loader.quarantined
        stats["deleted_issues"] = self.result.deleted_issues
        stats["deleted_worklogs"] = self.result.deleted_worklogs
        stats["notices"] = self.client.notices.as_list() if self.client is not None else []
        return stats
