"""Issue JSON as the search and issue endpoints return it: field selection, containers and expands."""

from __future__ import annotations

import json
from typing import Any

from simulator.data.issues import IssueCore
from simulator.render import all_fields, comment_container, embedded_changelog, worklog_container
from simulator.site import Site

ID_ONLY = frozenset({"id", "key"})


def parse_fields(site: Site, spec: str | list[str] | None, default: str) -> list[str]:
    """Resolve a ``fields`` parameter (``*all``, ``*navigable``, ids, ``-exclusions``) to field ids.

    ``id`` and ``key`` are top-level and never appear in the list; unknown names are ignored like Jira does.
    """
    if spec is None or spec == "" or spec == []:
        spec = default
    tokens = [t.strip() for part in ([spec] if isinstance(spec, str) else spec) for t in str(part).split(",")]
    chosen: list[str] = []
    excluded: set[str] = set()
    for tok in tokens:
        if not tok:
            continue
        if tok.startswith("-"):
            excluded.add(tok[1:])
        elif tok == "*all":
            chosen += [f["id"] for f in site.ref.fields]
        elif tok == "*navigable":
            chosen += [f["id"] for f in site.ref.fields if f["navigable"]]
        elif tok in site.ref.field_by_id:
            chosen.append(tok)
    seen: set[str] = set()
    out = []
    for f in chosen:
        if f not in excluded and f not in seen:
            seen.add(f)
            out.append(f)
    return out


def requested_only_ids(spec: str | list[str] | None) -> bool:
    """True when the caller asked for nothing beyond id/key (the 5000-per-page case)."""
    if spec is None or spec == "" or spec == []:
        return True
    tokens = {t.strip() for part in ([spec] if isinstance(spec, str) else spec) for t in str(part).split(",")}
    return {t for t in tokens if t} <= ID_ONLY


def parse_expand(spec: str | list[str] | None) -> set[str]:
    """Expand values from a comma string (or a list, tolerated)."""
    if not spec:
        return set()
    parts = [spec] if isinstance(spec, str) else spec
    return {t.strip() for p in parts for t in str(p).split(",") if t.strip()}


def issue_json(site: Site, core: IssueCore, api: int, fields: list[str], expand: set[str]) -> dict[str, Any]:
    """One issue with the selected fields (comment/worklog as capped containers) and expands."""
    out: dict[str, Any] = {
        "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
        "id": str(core.id),
        "self": f"{site.base_url}/rest/api/{api}/issue/{core.id}",
        "key": core.key,
    }
    if fields:
        full = all_fields(site, core, api)
        selected: dict[str, Any] = {}
        for f in fields:
            if f == "comment":
                selected[f] = comment_container(site, core, api)
            elif f == "worklog":
                selected[f] = worklog_container(site, core, api)
            elif f in full:
                selected[f] = full[f]
        out["fields"] = selected
    if "changelog" in expand:
        out["changelog"] = embedded_changelog(site, core)
    return out


def issue_bytes(
    site: Site, core: IssueCore, api: int, fields: list[str], fields_key: int, expand: frozenset[str]
) -> bytes:
    """``issue_json`` serialized, cached per (issue, selection, expand, site generation)."""
    key = ("j", core.id, api, fields_key, expand, site.generation)
    return site.fragment(
        key,
        lambda: json.dumps(
            issue_json(site, core, api, fields, set(expand)), ensure_ascii=False, separators=(",", ":")
        ).encode(),
    )


def issues_page_bytes(
    site: Site,
    cores: list[IssueCore],
    api: int,
    fields: list[str],
    expand: set[str],
    head: dict[str, Any],
    tail: dict[str, Any],
) -> bytes:
    """A page body ``{**head, "issues": [...], **tail}`` assembled from cached issue fragments."""
    fkey = hash(tuple(fields))
    frozen = frozenset(expand)
    parts = [issue_bytes(site, c, api, fields, fkey, frozen) for c in cores]
    head_b = json.dumps(head, ensure_ascii=False, separators=(",", ":")).encode()[:-1]
    tail_b = json.dumps(tail, ensure_ascii=False, separators=(",", ":")).encode()[1:]
    sep_head = b"," if len(head_b) > 1 else b""
    sep_tail = b"," if len(tail_b) > 1 else b""
    return head_b + sep_head + b'"issues":[' + b",".join(parts) + b"]" + sep_tail + tail_b


def names_and_schema(site: Site, fields: list[str], expand: set[str]) -> dict[str, Any]:
    """Top-level ``names``/``schema`` maps for the returned fields, when expanded."""
    extra: dict[str, Any] = {}
    if "names" in expand:
        extra["names"] = {f: site.ref.field_by_id[f]["name"] for f in fields}
    if "schema" in expand:
        extra["schema"] = {f: site.ref.field_by_id[f]["schema"] for f in fields}
    return extra
