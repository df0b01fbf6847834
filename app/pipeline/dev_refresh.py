"""Re-read issues whose development data changed without their ``updated`` moving, cheaply.

Linking a commit or a pull request does not bump ``updated``, so an incremental scan cannot see it. For
each project, one search lists the issues that may have such changes (open pull requests; with
``DEV_REFRESH=all`` and in reconcile runs, any development data) asking for ``id`` and the Development
field only. The field's summary is fingerprinted (:func:`app.jira.dev_status.dev_fingerprint`) and compared
with the fingerprint stored when the issue was last loaded; only new or changed issues are re-read in full
(issue, children and dev-status detail). Their fingerprints are stored once the warehouse committed them
(:mod:`app.pipeline.run_load`), so an incremental run without dev changes makes no dev-status request.
These scans move no checkpoint.
"""

from __future__ import annotations

import asyncio
from typing import Any

from app.core.errors import JiraBadRequestError
from app.jira.client import JiraClient
from app.jira.dev_status import dev_fingerprint
from app.jira.extract import dev_field_values
from app.pipeline.run_stages import Run
from app.pipeline.run_support import blocking

# Which issues the cheap listing covers, by scope.
DEV_REFRESH_JQL = {
    "open": "development[pullrequests].open > 0",
    "all": "development[pullrequests].all > 0 OR development[commits].all > 0",
}
# Issues re-read per search: the JQL ``id in (...)`` list stays short, and a site that refuses dev-status
# is found out after one chunk rather than after every candidate.
REREAD_CHUNK = 200
_REFUSED = ("dev_status:forbidden", "dev_status:absent")


def refresh_scope(run: Run) -> str | None:
    """``"open"``, ``"all"`` or None (no refresh) for this run's mode and ``DEV_REFRESH`` setting."""
    setting = run.request.dev_refresh
    if run.request.mode == "full" or setting == "none":
        return None
    return "all" if run.request.mode == "reconcile" or setting == "all" else "open"


async def _candidates(
    client: JiraClient, keys: list[str], field_id: str, jql: str
) -> dict[str, tuple[str, str]]:
    """``{issue id: (project key, fingerprint)}`` of every issue the listing JQL matches."""
    try:
        # A task group: the first failing listing cancels the others instead of leaving them running.
        async with asyncio.TaskGroup() as group:
            tasks = [
                group.create_task(dev_field_values(client, key, field_id=field_id, extra_jql=jql))
                for key in keys
            ]
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    listings = [task.result() for task in tasks]
    found: dict[str, tuple[str, str]] = {}
    for key, values in zip(keys, listings, strict=True):
        for issue_id, value in values.items():
            fingerprint = dev_fingerprint(value)
            if fingerprint is not None:
                found[issue_id] = (key, fingerprint)
    return found


async def refresh_dev_data(
    run: Run, client: JiraClient, fields: list[dict[str, Any]], keys: list[str]
) -> None:
    """Re-read the issues of ``keys`` whose Development field changed since they were last loaded."""
    scope = refresh_scope(run)
    field_id = run.loader.dev_field
    if scope is None or not keys:
        return
    if field_id is None:
        await run.sink.event("info", "development data refresh skipped: the site has no Development field")
        return
    if any(key in client.notices for key in _REFUSED):
        await run.sink.event("info", "development data refresh skipped: dev-status is refused on this site")
        return
    wanted = DEV_REFRESH_JQL[scope]
    try:
        candidates = await _candidates(client, keys, field_id, wanted)
    except JiraBadRequestError as exc:
        # Sites without development tools reject the development[] JQL: nothing to refresh there.
        await run.sink.event("warning", f"development data refresh skipped: {exc}")
        return
    await run.checkpoint()
    known = await blocking(run.loader.fingerprints.get_many, list(candidates))
    changed = sorted(
        (key, issue_id) for issue_id, (key, fp) in candidates.items() if known.get(issue_id) != fp
    )
    await run.sink.event(
        "info",
        f"development data changed for {len(changed)} of {len(candidates)} issue(s)",
        {"jql": wanted, "listed": len(candidates), "changed": len(changed)},
    )
    for start in range(0, len(changed), REREAD_CHUNK):
        chunk = changed[start : start + REREAD_CHUNK]
        projects = list(dict.fromkeys(key for key, _ in chunk))
        id_list = ", ".join(issue_id for _, issue_id in chunk)
        await run.scan(
            client,
            fields,
            projects,
            dict.fromkeys(projects),
            checkpointed=False,
            extra_jql=f"id in ({id_list})",
        )
        if any(key in client.notices for key in _REFUSED):
            await run.sink.event("warning", "development data refresh stopped: dev-status was refused")
            break
    refreshed = sum(v["records"] for k, v in run.progress.streams.items() if k.startswith("dev_refresh:"))
    await run.sink.event("info", f"development data refreshed for {refreshed} issue(s)", {"jql": wanted})
