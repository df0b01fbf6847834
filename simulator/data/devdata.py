"""Development data (dev-status) derived from (seed, issue id, dev revision).

About a third of the issues have dev data under one or two instance types. The summary, the detail
responses and the Development custom field string are all computed from the same ``DevData``.
"""

from __future__ import annotations

import json
import random
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

INSTANCES: dict[str, dict[str, Any]] = {
    "GitHub": {
        "id": "github",
        "type": "GitHub",
        "typeName": "GitHub",
        "name": "GitHub",
        "baseUrl": "https://github.com",
        "singleInstance": True,
    },
    "oAuth-com.github.integration.production": {
        "id": "com.github.integration.production",
        "type": "GitHub",
        "typeName": "GitHub",
        "name": "GitHub for Jira",
        "baseUrl": "https://github.com",
        "singleInstance": True,
    },
    "bitbucket": {
        "id": "bitbucket",
        "type": "bitbucket",
        "typeName": "Bitbucket Cloud",
        "name": "Bitbucket",
        "baseUrl": "https://bitbucket.org",
        "singleInstance": True,
    },
    "stash": {
        "id": "8a1f3c2e-stash",
        "type": "stash",
        "typeName": "Bitbucket Server",
        "name": "Bitbucket DC",
        "baseUrl": "https://git.acme.internal",
        "singleInstance": False,
    },
}
PROVIDERS = "cloud-providers"
OAUTH_GITHUB = "oAuth-com.github.integration.production"
PROVIDERS_INSTANCE = {
    "id": "cloud-providers",
    "type": "cloud-providers",
    "typeName": "Other providers",
    "name": "Other providers",
    "baseUrl": "",
    "singleInstance": True,
}
REPOS = ["acme/payments", "acme/web-shop", "acme/infra", "acme/design-system", "acme/データ"]
PR_STATES = ["OPEN", "MERGED", "DECLINED", "MERGED", "OPEN", "UNKNOWN"]
CHANGE_TYPES = ["ADDED", "COPIED", "DELETED", "MODIFIED", "MOVED", "UNKNOWN"]
DEV_TS_SUFFIX = "+0100"  # dev tools write their own offsets, unlike Jira fields


@dataclass
class InstanceData:
    """Everything one instance type holds for one issue."""

    repos: list[dict[str, Any]] = field(default_factory=list)  # with nested commits
    prs: list[dict[str, Any]] = field(default_factory=list)
    branches: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class DevData:
    """Dev data of one issue, per instance type, plus builds and deployments under cloud-providers."""

    instances: dict[str, InstanceData] = field(default_factory=dict)
    builds: list[dict[str, Any]] = field(default_factory=list)
    deployments: list[dict[str, Any]] = field(default_factory=list)
    error_object: bool = False
    ghosts: set[str] = field(default_factory=set)  # listed in the summary, empty in detail

    def real(self) -> dict[str, InstanceData]:
        """Instance types whose detail really returns data (ghost keys left out)."""
        return {t: d for t, d in self.instances.items() if t not in self.ghosts}


def _ts(ms: int) -> str:
    y, mo, d, h, mi, s = time.gmtime(ms // 1000 + 3600)[:6]
    return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}.{ms % 1000:03d}{DEV_TS_SUFFIX}"


def _stable(text: str) -> int:
    # hash() is salted per process; the data must be identical across runs.
    return zlib.crc32(text.encode())


def _person(rng: random.Random) -> dict[str, Any]:
    name = rng.choice(["Sam Park", "Dana Lee", "Jörg Müller", "Mei Chen", "dependabot[bot]"])
    return {"name": name, "avatar": f"https://avatars.example/{_stable(name) % 997}.png"}


def _sha(rng: random.Random) -> str:
    return f"{rng.getrandbits(160):040x}"


def _instance(rng: random.Random, itype: str, key: str, base_ms: int, extra: int) -> InstanceData:
    inst = INSTANCES[itype]
    base = inst["baseUrl"]
    data = InstanceData()
    for r in rng.sample(REPOS, rng.choice([1, 1, 2])):
        repo_url = f"{base}/{r}"
        commits = []
        for c in range(rng.randint(1, 4) + extra):
            sha = _sha(rng)
            n_files = rng.randint(0, 4)
            files = [
                {
                    "path": f"src/{rng.choice(['sender', 'api', 'ui', 'db'])}_{f}.py",
                    "url": f"{repo_url}/blob/{sha[:7]}/src/f{f}.py",
                    "changeType": rng.choice(CHANGE_TYPES),
                    "linesAdded": rng.randint(0, 90),
                    "linesRemoved": rng.randint(0, 40),
                }
                for f in range(n_files)
            ]
            commits.append(
                {
                    "id": sha,
                    "displayId": sha[:7],
                    "message": f"{key} change {c + 1}",
                    "author": _person(rng),
                    "authorTimestamp": _ts(base_ms + c * 3_600_000),
                    "url": f"{repo_url}/commit/{sha}",
                    "fileCount": n_files + rng.choice([0, 0, 3]),
                    "merge": c % 5 == 4,
                    "files": files,
                }
            )
        data.repos.append(
            {
                "id": f"r-{_stable(itype + r) % 9973}",
                "name": r,
                "url": repo_url,
                "avatar": f"{base}/avatar.png",
                "commits": commits,
            }
        )
    repo = data.repos[0]
    for b in range(rng.choice([0, 1, 1, 2])):
        name = f"feature/{key}-{b + 1}"
        data.branches.append(
            {
                "name": name,
                "url": f"{repo['url']}/tree/{name}",
                "createPullRequestUrl": f"{repo['url']}/compare/{name}",
                "repository": {"name": repo["name"], "url": repo["url"], "avatar": repo["avatar"]},
                "lastCommit": {
                    k: repo["commits"][0][k] for k in ("id", "displayId", "authorTimestamp", "merge")
                }
                | {"files": []},
            }
        )
    for p in range(rng.choice([0, 1, 1, 2, 3]) + extra):
        num = 1 + rng.randrange(900) + 1000 * p
        branch = data.branches[p % len(data.branches)]["name"] if data.branches else f"fix/{key}-{p}"
        pr_id = f"#{num}" if inst["type"] == "GitHub" else str(num)
        data.prs.append(
            {
                "id": pr_id,
                "name": f"{key} {rng.choice(['Add retry', 'Fix bug', 'Refactor', '改善'])}",
                "status": PR_STATES[(num + p) % len(PR_STATES)],
                "url": f"{repo['url']}/pull/{num}",
                "lastUpdate": _ts(base_ms + p * 7_200_000),
                "commentCount": rng.randint(0, 9),
                "author": _person(rng),
                "reviewers": [
                    dict(_person(rng), approved=rng.random() < 0.6) for _ in range(rng.randint(0, 2))
                ],
                "source": {"branch": branch, "url": f"{repo['url']}/tree/{branch}"},
                "destination": {"branch": "main", "url": f"{repo['url']}/tree/main"},
                "repositoryId": repo["id"],
                "repositoryName": repo["name"],
                "repositoryUrl": repo["url"],
            }
        )
    return data


def generate(seed: int, issue_id: int, key: str, base_ms: int, dev_rev: int) -> DevData:
    """Dev data for an issue that has some (``dev_rev`` > 0 adds commits and PRs from mutations)."""
    rng = random.Random(f"{seed}:dev:{issue_id}")
    dev = DevData()
    r = rng.random()
    both = r < 0.15
    types = [OAUTH_GITHUB] if both else [rng.choice(["GitHub", OAUTH_GITHUB, "bitbucket", "stash"])]
    for itype in types:
        dev.instances[itype] = _instance(rng, itype, key, base_ms, 0)
    if both:
        # Since ~2026 the old "GitHub" key is listed next to the OAuth app's key with the same counts, but
        # asking for it in detail comes back empty: a ghost that costs a call and yields nothing.
        dev.instances["GitHub"] = dev.instances[OAUTH_GITHUB]
        dev.ghosts.add("GitHub")
    if rng.random() < 0.12:
        for b in range(rng.randint(1, 2)):
            dev.builds.append(
                {
                    "id": f"build-{issue_id}-{b}",
                    "buildNumber": 100 + b,
                    "displayName": f"CI #{100 + b}",
                    "state": rng.choice(["successful", "failed"]),
                    "lastUpdated": _ts(base_ms + b * 600_000),
                    "url": f"https://ci.example/{issue_id}/{b}",
                    "pipelineId": f"pipe-{issue_id}",
                    "description": "main pipeline",
                }
            )
        for d in range(rng.randint(0, 2)):
            env = ["staging", "production"][d]
            dev.deployments.append(
                {
                    "id": f"deploy-{issue_id}-{d}",
                    "displayName": f"Deploy to {env}",
                    "environment": {"id": env, "displayName": env.title(), "type": env},
                    "state": "successful",
                    "lastUpdated": _ts(base_ms + d * 900_000),
                    "url": f"https://deploy.example/{issue_id}/{d}",
                    "pipeline": {"id": f"pipe-{issue_id}", "displayName": "Deploy"},
                }
            )
    # Mutations (add_dev) append to the first instance from their own RNG, leaving earlier data unchanged.
    first = dev.instances[types[0]]
    for rev in range(1, dev_rev + 1):
        extra = _instance(
            random.Random(f"{seed}:devx:{issue_id}:{rev}"), types[0], key, base_ms + rev * 3_600_000, 0
        )
        first.repos[0]["commits"] = first.repos[0]["commits"] + extra.repos[0]["commits"][:1]
        if extra.prs:
            num = 5000 + rev
            pr_id = f"#{num}" if INSTANCES[types[0]]["type"] == "GitHub" else str(num)
            first.prs.append(dict(extra.prs[0], id=pr_id, status="OPEN"))
        names = {b["name"] for b in first.branches}
        first.branches.extend(b for b in extra.branches if b["name"] not in names)
    # A few stash detail responses carry an error object instead of a string (seen in the wild).
    dev.error_object = "stash" in dev.instances and issue_id % 3 == 0
    return dev


def summary(dev: DevData) -> dict[str, Any]:
    """The dev-status summary (also the Development field's cached value)."""
    prs = [(t, pr) for t, d in dev.real().items() for pr in d.prs]
    states = {pr["status"] for _, pr in prs}
    state = "OPEN" if "OPEN" in states else ("MERGED" if "MERGED" in states else "DECLINED")
    last = max((pr["lastUpdate"] for _, pr in prs), default=None)
    commits = {t: sum(len(r["commits"]) for r in d.repos) for t, d in dev.instances.items()}
    branches = {t: len(d.branches) for t, d in dev.instances.items()}
    pr_by = {t: len(d.prs) for t, d in dev.instances.items() if d.prs}

    def by(counts: dict[str, int]) -> dict[str, Any]:
        return {t: {"count": c, "name": INSTANCES[t]["name"]} for t, c in counts.items() if c}

    ok = sum(1 for b in dev.builds if b["state"] == "successful")
    out: dict[str, Any] = {
        "pullrequest": {
            "overall": {
                "count": len(prs),
                "lastUpdated": last,
                "stateCount": len(prs),
                "state": state,
                "dataType": "pullrequest",
                "open": state == "OPEN",
            },
            "byInstanceType": by(pr_by),
        },
        "repository": {
            "overall": {
                "count": sum(v for t, v in commits.items() if t not in dev.ghosts),
                "lastUpdated": None,
                "dataType": "repository",
            },
            "byInstanceType": by(commits),
        },
        "branch": {
            "overall": {
                "count": sum(v for t, v in branches.items() if t not in dev.ghosts),
                "lastUpdated": None,
                "dataType": "branch",
            },
            "byInstanceType": by(branches),
        },
        "build": {
            "overall": {
                "count": len(dev.builds),
                "lastUpdated": None,
                "failedBuildCount": len(dev.builds) - ok,
                "successfulBuildCount": ok,
                "unknownBuildCount": 0,
                "dataType": "build",
            },
            "byInstanceType": {PROVIDERS: {"count": len(dev.builds), "name": "Other providers"}}
            if dev.builds
            else {},
        },
        "deployment-environment": {
            "overall": {
                "count": len(dev.deployments),
                "lastUpdated": None,
                "topEnvironments": [{"title": d["environment"]["displayName"]} for d in dev.deployments],
                "showProjects": False,
                "successfulCount": len(dev.deployments),
                "dataType": "deployment-environment",
            },
            "byInstanceType": {PROVIDERS: {"count": len(dev.deployments), "name": "Other providers"}}
            if dev.deployments
            else {},
        },
        "review": {"overall": {"count": 0, "dataType": "review"}, "byInstanceType": {}},
    }
    return out


def development_field(dev: DevData | None) -> str:
    """The Development custom field string: ``"{}"`` or a Java map with the summary JSON after ``json=``."""
    if dev is None:
        return "{}"
    summ = summary(dev)
    pr = summ["pullrequest"]["overall"]
    payload = json.dumps(
        {"cachedValue": {"errors": [], "configErrors": [], "summary": summ}, "isStale": True},
        separators=(",", ":"),
    )
    head = (
        f"pullrequest={{dataType=pullrequest, state={pr['state']}, stateCount={pr['stateCount']}}}, "
        if pr["count"]
        else ""
    )
    return "{" + head + "json=" + payload + "}"


def detail(dev: DevData | None, application_type: str, data_type: str) -> dict[str, Any]:
    """The dev-status detail response for one (applicationType, dataType): exact matching only."""
    errors: list[Any] = []
    entries: list[dict[str, Any]] = []
    if dev is not None:
        if application_type == PROVIDERS and data_type == "build" and dev.builds:
            entries.append({"builds": dev.builds, "_instance": PROVIDERS_INSTANCE})
        elif application_type == PROVIDERS and data_type == "deployment-environment" and dev.deployments:
            entries.append({"deployments": dev.deployments, "_instance": PROVIDERS_INSTANCE})
        elif application_type in dev.instances and application_type not in dev.ghosts:
            data = dev.instances[application_type]
            inst = INSTANCES[application_type]
            if data_type in ("pullrequest", "branch"):
                entries.append(
                    {
                        "branches": data.branches,
                        "pullRequests": data.prs,
                        "repositories": [],
                        "_instance": inst,
                    }
                )
            elif data_type == "repository":
                entries.append({"repositories": data.repos, "_instance": inst})
                if dev.error_object and application_type == "stash":
                    errors.append(
                        {
                            "code": "INSTANCE_UNAVAILABLE",
                            "message": "Some repositories could not be read from Bitbucket DC",
                            "instance": inst["id"],
                        }
                    )
    return {"errors": errors, "detail": entries}


def minimal_calls(dev: DevData | None) -> list[tuple[str, str]]:
    """The detail calls a perfect extractor makes for this issue: (applicationType, dataType)."""
    if dev is None:
        return []
    calls: list[tuple[str, str]] = []
    for itype in dev.instances:
        calls += [(itype, "pullrequest"), (itype, "repository")]
    if dev.builds:
        calls.append((PROVIDERS, "build"))
    if dev.deployments:
        calls.append((PROVIDERS, "deployment-environment"))
    return calls
