"""dev-status summary/detail and the Development field: matching rules, shapes and toggles."""

from __future__ import annotations

import json

import httpx
import pytest


def _dev_issue(sim, *, instance: str | None = None) -> int:
    for core in sim.site.issues.values():
        dev = sim.site.dev(core)
        if dev and not dev.ghosts and (instance is None or instance in dev.instances):
            return core.id
    raise AssertionError(f"no issue with dev data under {instance}")


def _development(client, sim, iid: int) -> str:
    cf = sim.site.ref.cf["development"]
    return client.get(f"/rest/api/3/issue/{iid}", params={"fields": cf}).json()["fields"][cf]


@pytest.mark.parametrize("prefix", ["1.0", "latest"])
def test_summary_lists_instance_types_and_exact_detail_matches(client, shared_sim, prefix: str) -> None:
    iid = _dev_issue(shared_sim)
    base = f"/rest/dev-status/{prefix}/issue"
    summary = client.get(f"{base}/summary", params={"issueId": iid}).json()["summary"]
    app = next(iter(summary["repository"]["byInstanceType"]))
    repo = client.get(
        f"{base}/detail", params={"issueId": iid, "applicationType": app, "dataType": "repository"}
    ).json()
    assert repo["detail"][0]["_instance"]["type"]
    commits = [c for r in repo["detail"][0]["repositories"] for c in r["commits"]]
    assert len(commits) == summary["repository"]["byInstanceType"][app]["count"]
    wrong_case = client.get(
        f"{base}/detail", params={"issueId": iid, "applicationType": app.swapcase(), "dataType": "repository"}
    ).json()
    assert wrong_case["detail"] == []


def test_pullrequest_and_branch_both_fill_both_arrays(client, shared_sim) -> None:
    iid = next(
        c.id
        for c in shared_sim.site.issues.values()
        if (d := shared_sim.site.dev(c)) and any(x.prs and x.branches for x in d.instances.values())
    )
    app = next(t for t, x in shared_sim.site.dev(shared_sim.site.issues[iid]).real().items() if x.prs)
    answers = [
        client.get(
            "/rest/dev-status/1.0/issue/detail",
            params={"issueId": iid, "applicationType": app, "dataType": dt},
        ).json()
        for dt in ("pullrequest", "branch")
    ]
    assert answers[0] == answers[1]
    entry = answers[0]["detail"][0]
    assert entry["pullRequests"] and entry["branches"] and "_instance" in entry
    assert {pr["status"] for pr in entry["pullRequests"]} <= {"OPEN", "MERGED", "DECLINED", "UNKNOWN"}


def test_site_covers_every_instance_type_and_pr_state(shared_sim) -> None:
    site = shared_sim.site
    devs = [d for c in site.issues.values() if (d := site.dev(c))]
    assert 0.2 < len(devs) / len(site.issues) < 0.5
    assert {"GitHub", "oAuth-com.github.integration.production", "bitbucket", "stash"} <= {
        t for d in devs for t in d.instances
    }
    assert {"OPEN", "MERGED", "DECLINED"} <= {
        p["status"] for d in devs for x in d.instances.values() for p in x.prs
    }
    assert any(d.builds for d in devs) and any(d.deployments for d in devs)
    assert any(p["reviewers"] for d in devs for x in d.instances.values() for p in x.prs)


def test_development_field_is_the_real_string_format(client, shared_sim) -> None:
    no_dev = next(c.id for c in shared_sim.site.issues.values() if shared_sim.site.dev(c) is None)
    assert _development(client, shared_sim, no_dev) == "{}"
    iid = _dev_issue(shared_sim)
    text = _development(client, shared_sim, iid)
    start = text.index("json=") + len("json=")
    payload, _ = json.JSONDecoder().raw_decode(text[start:])
    summary = client.get("/rest/dev-status/1.0/issue/summary", params={"issueId": iid}).json()["summary"]
    assert payload["cachedValue"]["summary"] == summary and payload["isStale"] is True


def test_issue_key_instead_of_numeric_id_is_400(client, shared_sim) -> None:
    key = shared_sim.site.issues[_dev_issue(shared_sim)].key
    assert client.get("/rest/dev-status/1.0/issue/summary", params={"issueId": key}).status_code == 400


def test_some_response_carries_an_error_object(client, shared_sim) -> None:
    iid = next(
        c.id for c in shared_sim.site.issues.values() if (d := shared_sim.site.dev(c)) and d.error_object
    )
    body = client.get(
        "/rest/dev-status/1.0/issue/detail",
        params={"issueId": iid, "applicationType": "stash", "dataType": "repository"},
    ).json()
    assert isinstance(body["errors"][0], dict) and body["detail"]


def test_builds_and_deployments_under_cloud_providers(client, shared_sim) -> None:
    iid = next(
        c.id for c in shared_sim.site.issues.values() if (d := shared_sim.site.dev(c)) and d.deployments
    )
    summary = client.get("/rest/dev-status/1.0/issue/summary", params={"issueId": iid}).json()["summary"]
    assert "cloud-providers" in summary["build"]["byInstanceType"]
    body = client.get(
        "/rest/dev-status/1.0/issue/detail",
        params={"issueId": iid, "applicationType": "cloud-providers", "dataType": "deployment-environment"},
    ).json()
    assert body["detail"][0]["deployments"]


@pytest.mark.parametrize(("mode", "status"), [("forbidden", 403), ("absent", 404)])
def test_permission_and_plugin_toggles(sim_factory, mode: str, status: int) -> None:
    sim = sim_factory(issues=30, seed=1, dev_status=mode)
    with httpx.Client(base_url=sim.base_url, auth=sim.auth) as c:
        for path in ("summary", "detail"):
            resp = c.get(
                f"/rest/dev-status/latest/issue/{path}",
                params={"issueId": 10001, "applicationType": "GitHub", "dataType": "pullrequest"},
            )
            assert resp.status_code == status
    assert sim.truth()["dev_pull_requests"] == []
    sim.faults(dev_status="ok")
    assert sim.truth()["dev_pull_requests"]


def test_old_github_key_is_listed_but_its_detail_is_empty(client, shared_sim) -> None:
    iid = next(c.id for c in shared_sim.site.issues.values() if (d := shared_sim.site.dev(c)) and d.ghosts)
    summary = client.get("/rest/dev-status/1.0/issue/summary", params={"issueId": iid}).json()["summary"]
    listed = summary["repository"]["byInstanceType"]
    assert {"GitHub", "oAuth-com.github.integration.production"} <= set(listed)
    assert summary["repository"]["overall"]["count"] == listed["GitHub"]["count"]  # counted once overall

    def commits(app: str) -> list:
        body = client.get(
            "/rest/dev-status/1.0/issue/detail",
            params={"issueId": iid, "applicationType": app, "dataType": "repository"},
        ).json()
        return [c for d in body["detail"] for r in d["repositories"] for c in r["commits"]]

    assert commits("GitHub") == []
    assert len(commits("oAuth-com.github.integration.production")) == listed["GitHub"]["count"]
    assert not [k for k in shared_sim.truth()["dev_commits"] if k.startswith(f"{iid}|GitHub|")]
