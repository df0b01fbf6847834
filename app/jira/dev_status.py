"""Development data (the undocumented ``/rest/dev-status`` API) for each issue.

The "Development" custom field is found by its schema (``...:devsummarycf``), never by id. Its value is
``"{}"`` when the issue has no dev data (no request at all), otherwise a Java ``toString()`` carrying a JSON
summary after ``json=``; the summary's ``byInstanceType`` keys are the valid ``applicationType`` values.
``detail`` is called once per instance type for ``pullrequest`` (PRs and branches) and ``repository``
(commits), and for ``build`` / ``deployment-environment`` only when counted. When the embedded summary does
not parse, the summary endpoint is asked instead.

Problems are reported once per job (``client.notices``) and never fail the job: error objects inside
responses, 403 (the account lacks "View development tools") and 404 (no dev integration). Until dev-status
has answered once, issues are tried one at a time: :data:`REFUSALS_TO_DISABLE` refusals in a row mean the
site refuses it, and the rest of the run makes no more dev-status calls (a site without it costs that many
requests). Once it has answered, a refusal concerns one issue (a 404: deleted since the search) or one
project (a 403: the permission is granted per project, so that project's other issues are not asked).
Refused issues carry ``status`` ``forbidden``/``absent``; the loader keeps their stored dev rows.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from typing import Any

from app.core.errors import JiraNotFoundError, JiraPermissionError
from app.jira.client import JiraClient

DEV_SUMMARY_CUSTOM = "devsummarycf"
DEV_STATUS = "/rest/dev-status/latest/issue"
DATA_TYPES = ("pullrequest", "repository", "build", "deployment-environment")
_JSON_MARK = re.compile(r"(?:json|Json)=\s*(?=\{)")


def find_dev_field(fields: list[dict[str, Any]]) -> str | None:
    """Id of the Development field in a ``/field`` listing (by ``schema.custom``), or None."""
    for field in fields:
        custom = str((field.get("schema") or {}).get("custom") or "")
        if custom.endswith(f":{DEV_SUMMARY_CUSTOM}") or custom == DEV_SUMMARY_CUSTOM:
            return str(field["id"])
    return None


def has_dev_data(value: Any) -> bool:
    """False for ``"{}"``, empty or missing values: such issues cost no dev-status request."""
    if value is None:
        return False
    if isinstance(value, str):
        return value.strip() not in ("", "{}")
    return bool(value)


def _balanced_object(text: str, start: int) -> str | None:
    """The JSON object starting at ``text[start] == "{"``, matched brace by brace (strings respected)."""
    depth = 0
    in_string = False
    escaped = False
    for i in range(start, len(text)):
        ch = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start : i + 1]
    return None


def parse_dev_summary(value: Any) -> dict[str, Any] | None:
    """The summary (``{"pullrequest": {...}, "repository": {...}}``) embedded in the field, or None."""
    if isinstance(value, dict):
        payload: Any = value
    elif isinstance(value, str):
        match = _JSON_MARK.search(value)
        if not match:
            return None
        blob = _balanced_object(value, match.end())
        if blob is None:
            return None
        try:
            payload = json.loads(blob)
        except ValueError:
            return None
    else:
        return None
    if isinstance(payload.get("cachedValue"), dict):
        payload = payload["cachedValue"]
    summary = payload.get("summary")
    return summary if isinstance(summary, dict) else None


_STALE_FLAG = re.compile(r'"?isStale"?\s*[:=]\s*(?:true|false)\s*,?', re.IGNORECASE)


def dev_fingerprint(value: Any) -> str | None:
    """A hash of the Development field's summary (counts, states, ``lastUpdated``), or None without dev data.

    It changes when commits, pull requests, branches, builds or deployments are linked or change state,
    which ``updated`` does not show. Volatile parts outside the summary (``isStale``) are left out so an
    unchanged summary keeps its fingerprint; an unparsable value is hashed as text, without the flag.
    """
    if not has_dev_data(value):
        return None
    summary = parse_dev_summary(value)
    if summary is not None:
        text = json.dumps(summary, sort_keys=True, separators=(",", ":"), default=str)
    else:
        text = _STALE_FLAG.sub("", value if isinstance(value, str) else json.dumps(value, sort_keys=True))
    return hashlib.sha256(text.encode()).hexdigest()


def _instance_types(summary: dict[str, Any], *data_types: str) -> list[str]:
    keys: list[str] = []
    for data_type in data_types:
        for key, entry in ((summary.get(data_type) or {}).get("byInstanceType") or {}).items():
            count = entry.get("count", 1) if isinstance(entry, dict) else 1
            if count and key not in keys:
                keys.append(key)
    return keys


def _counted(summary: dict[str, Any], data_type: str) -> bool:
    overall = (summary.get(data_type) or {}).get("overall") or {}
    return bool(overall.get("count"))


def detail_calls(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """``(applicationType, dataType)`` pairs to ask ``detail`` for, from one issue's summary.

    Every source-code instance type (one with commits, PRs or branches) gets a ``pullrequest`` call (which
    returns branches too) and a ``repository`` call; ``build`` and ``deployment-environment`` are asked
    only of the instance types that count any.
    """
    calls: list[tuple[str, str]] = []
    for app in _instance_types(summary, "repository", "pullrequest", "branch"):
        calls += [(app, "pullrequest"), (app, "repository")]
    for data_type in ("build", "deployment-environment"):
        if _counted(summary, data_type):
            calls += [(app, data_type) for app in _instance_types(summary, data_type)]
    return calls


#: Refusals in a row, before dev-status first answered, that switch it off for the rest of the run.
REFUSALS_TO_DISABLE = 3


class DevStatusFetcher:
    """Fetches ``devStatus`` for issues of one job; remembers a site-wide refusal for the rest of the run."""

    def __init__(self, client: JiraClient, field_id: str | None) -> None:
        self.client = client
        self.field_id = field_id
        self.disabled: str | None = None  # "forbidden" | "absent" once the site refused dev-status
        self.refusals = 0  # refusals in a row before dev-status first answered
        self.forbidden_projects: set[str] = set()  # projects answering 403 after dev-status answered
        # Until dev-status answered once (or the site refused it), only one issue at a time may try: a site
        # that refuses dev-status then costs a few requests, not one per issue in flight.
        self._verified = asyncio.Event()
        self._trial = asyncio.Lock()

    async def fetch(self, issue: dict[str, Any]) -> dict[str, Any]:
        """The contract's ``devStatus`` object for ``issue`` (never raises for 403/404/error objects)."""
        result: dict[str, Any] = {"status": "none", "details": [], "errors": []}
        value = (issue.get("fields") or {}).get(self.field_id) if self.field_id else None
        if not has_dev_data(value):
            return result
        if not self._verified.is_set():
            async with self._trial:
                if not self._verified.is_set():
                    return await self._fetch(issue, value, result)
        return await self._fetch(issue, value, result)

    async def _fetch(self, issue: dict[str, Any], value: Any, result: dict[str, Any]) -> dict[str, Any]:
        project = _project_of(issue)
        if self.disabled or project in self.forbidden_projects:
            result["status"] = self.disabled or "forbidden"
            return result
        issue_id = str(issue["id"])
        try:
            summary = parse_dev_summary(value)
            if summary is None:
                body = await self.client.get_json(f"{DEV_STATUS}/summary", params={"issueId": issue_id})
                self._collect_errors(body, result)
                summary = (body or {}).get("summary") or {}
            for app, data_type in detail_calls(summary):
                body = await self.client.get_json(
                    f"{DEV_STATUS}/detail",
                    params={"issueId": issue_id, "applicationType": app, "dataType": data_type},
                )
                self._collect_errors(body, result)
                detail = (body or {}).get("detail") or []
                result["details"].append({"applicationType": app, "dataType": data_type, "detail": detail})
        except JiraPermissionError as exc:
            return self._refused("forbidden", exc, issue, result)
        except JiraNotFoundError as exc:
            return self._refused("absent", exc, issue, result)
        self._verified.set()  # dev-status answers on this site
        # Error objects next to data are reported, not fatal: the issue keeps what came back.
        result["status"] = "error" if result["errors"] and not result["details"] else "ok"
        return result

    def _collect_errors(self, body: Any, result: dict[str, Any]) -> None:
        errors = (body or {}).get("errors") or [] if isinstance(body, dict) else []
        if not errors:
            return
        result["errors"].extend(errors)
        self.client.notices.add(
            "dev_status:errors",
            f"dev-status answered with errors (first seen: {errors[0]!r}); affected issues keep whatever "
            "detail came back and list the errors in devStatus.errors.",
        )

    def _refused(
        self, status: str, exc: Exception, issue: dict[str, Any], result: dict[str, Any]
    ) -> dict[str, Any]:
        result.update(status=status, details=[], errors=[])
        if not self._verified.is_set():
            self.refusals += 1
            if self.refusals >= REFUSALS_TO_DISABLE:
                self._disable(status, exc)
            return result
        # dev-status answers on this site: the refusal concerns this issue, or its project.
        if status == "forbidden":
            self.forbidden_projects.add(_project_of(issue))
            what = "dev-status answered 403 for a project; its other issues were not asked"
        else:
            what = "dev-status answered 404 for an issue (deleted since the search?)"
        self.client.notices.add(
            f"dev_status:{status}:issue",
            f"{what}: first {issue.get('key') or issue.get('id')} ({exc}); stored dev rows of such issues "
            "are kept.",
        )
        return result

    def _disable(self, status: str, exc: Exception) -> None:
        self.disabled = status
        self._verified.set()  # everyone reads ``disabled`` from now on
        what = (
            "the account lacks the 'View development tools' permission"
            if status == "forbidden"
            else "no development integration (dev-status plugin) answers on this site"
        )
        self.client.notices.add(
            f"dev_status:{status}", f"dev-status skipped for the rest of the run: {what} ({exc})."
        )


def _project_of(issue: dict[str, Any]) -> str:
    project = (issue.get("fields") or {}).get("project")
    if isinstance(project, dict):
        return str(project.get("key") or project.get("id") or "")
    return ""
