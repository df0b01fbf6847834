"""Parsing the Development field and planning dev-status detail calls from its summary."""

from __future__ import annotations

import json

from app.jira.dev_status import (
    detail_calls,
    dev_fingerprint,
    find_dev_field,
    has_dev_data,
    parse_dev_summary,
)

SUMMARY = {
    "pullrequest": {
        "overall": {"count": 2, "state": "MERGED"},
        "byInstanceType": {"GitHub": {"count": 2, "name": "GitHub"}},
    },
    "repository": {
        "overall": {"count": 5},
        "byInstanceType": {
            "GitHub": {"count": 4, "name": "GitHub"},
            "stash": {"count": 1, "name": "Bitbucket DC"},
        },
    },
    "branch": {"overall": {"count": 1}, "byInstanceType": {"stash": {"count": 1, "name": "Bitbucket DC"}}},
    "build": {"overall": {"count": 0}, "byInstanceType": {}},
    "deployment-environment": {
        "overall": {"count": 1},
        "byInstanceType": {"cloud-providers": {"count": 1, "name": "Other"}},
    },
}


def field_string(summary: dict) -> str:
    # A message with braces and an escaped quote inside a string must not fool the brace matching.
    payload = json.dumps(
        {"cachedValue": {"errors": [], "summary": summary, "note": 'a "}{" b'}, "isStale": True}
    )
    return "{pullrequest={dataType=pullrequest, state=MERGED, stateCount=2}, json=" + payload + "}"


def test_empty_development_field_means_no_dev_data() -> None:
    assert not has_dev_data("{}")
    assert not has_dev_data(None)
    assert not has_dev_data("")
    assert has_dev_data(field_string(SUMMARY))


def test_embedded_summary_is_found_after_json_marker() -> None:
    assert parse_dev_summary(field_string(SUMMARY)) == SUMMARY


def test_unparsable_fields_give_none_so_the_summary_endpoint_is_asked() -> None:
    assert parse_dev_summary("{pullrequest={dataType=pullrequest, state=OPEN, stateCount=1}}") is None
    assert parse_dev_summary('{json={"cachedValue": {"summary": ') is None  # cut off


def test_detail_calls_per_instance_type_and_only_counted_builds_and_deployments() -> None:
    assert detail_calls(SUMMARY) == [
        ("GitHub", "pullrequest"),
        ("GitHub", "repository"),
        ("stash", "pullrequest"),  # no PRs, but branches: the pullrequest call returns them
        ("stash", "repository"),
        ("cloud-providers", "deployment-environment"),  # counted; builds are not
    ]


def test_development_field_is_found_by_schema_not_id() -> None:
    fields = [
        {"id": "customfield_10000", "name": "Development", "schema": {"type": "string"}},
        {
            "id": "customfield_12345",
            "name": "Dev",
            "schema": {
                "type": "any",
                "custom": "com.atlassian.jira.plugins.jira-development-integration-plugin:devsummarycf",
            },
        },
    ]
    assert find_dev_field(fields) == "customfield_12345"
    assert find_dev_field(fields[:1]) is None


def test_dev_fingerprint_follows_the_summary_not_the_stale_flag() -> None:
    assert dev_fingerprint("{}") is None and dev_fingerprint(None) is None
    base = dev_fingerprint(field_string(SUMMARY))
    assert base is not None
    # Same summary, other volatile wrapper (isStale) and key order: same fingerprint.
    fresh = field_string(SUMMARY).replace('"isStale": true', '"isStale": false')
    assert fresh != field_string(SUMMARY) and dev_fingerprint(fresh) == base
    reordered = dict(reversed(list(SUMMARY.items())))
    assert dev_fingerprint(field_string(reordered)) == base
    # A new commit or pull request changes the counts, and so the fingerprint.
    more = json.loads(json.dumps(SUMMARY))
    more["repository"]["overall"]["count"] = 6
    assert dev_fingerprint(field_string(more)) != base
    opened = json.loads(json.dumps(SUMMARY))
    opened["pullrequest"]["overall"]["state"] = "OPEN"
    assert dev_fingerprint(field_string(opened)) != base
    # A value whose summary cannot be parsed is still fingerprinted, without its stale flag.
    assert dev_fingerprint("{weird, isStale=true}") == dev_fingerprint("{weird, isStale=false}")
    assert dev_fingerprint("{weird, isStale=true}") != dev_fingerprint("{other, isStale=true}")
