"""Reference data of a simulated site: projects, users, fields, statuses, priorities, types, link types.

Everything is derived from the seed, so two sites with the same seed are identical. Custom field ids are
deliberately NOT the usual 10020/10016/10000 and shift with the seed: an extractor must resolve them by
``schema.custom`` from ``/field``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

CFT = "com.atlassian.jira.plugin.system.customfieldtypes:"

# (key, name, projectTypeKey, weight of issues, archived)
PROJECT_SPECS = [
    ("PAY", "Payments", "software", 4, False),
    ("OPS", "Operations", "software", 3, False),
    ("WEB", "Web Shop Ω", "software", 2, False),
    ("HR", "People Team", "business", 1, False),
    ("OLD", "Legacy Billing", "software", 0, True),
]

# Status category names are localised (German) while keys stay stable, as on a German-language site.
STATUS_CATEGORIES = [
    {"id": 1, "key": "undefined", "colorName": "medium-gray", "name": "Keine Kategorie"},
    {"id": 2, "key": "new", "colorName": "blue-gray", "name": "Aufgaben"},
    {"id": 4, "key": "indeterminate", "colorName": "yellow", "name": "In Arbeit"},
    {"id": 3, "key": "done", "colorName": "green", "name": "Fertig"},
]

# (id, name, category id)
STATUS_SPECS = [
    ("10000", "To Do", 2),
    ("3", "In Progress", 4),
    ("10101", "In Review", 4),
    ("10102", "Blocked", 4),
    ("10001", "Done", 3),
    ("10103", "Won't Do", 3),
]

PRIORITY_SPECS = [
    ("1", "Highest", "#d04437"),
    ("2", "High", "#f15C75"),
    ("3", "Medium", "#f79232"),
    ("4", "Low", "#707070"),
    ("5", "Lowest", "#999999"),
]

# (id, name, subtask, hierarchyLevel)
ISSUE_TYPE_SPECS = [
    ("10000", "Epic", False, 1),
    ("10001", "Story", False, 0),
    ("10002", "Task", False, 0),
    ("10003", "Bug", False, 0),
    ("10004", "Sub-task", True, -1),
]

RESOLUTION_SPECS = [
    ("10000", "Done"),
    ("10001", "Won't Do"),
    ("10002", "Duplicate"),
    ("10003", "Cannot Reproduce"),
]

LINK_TYPE_SPECS = [
    ("10000", "Blocks", "is blocked by", "blocks"),
    ("10001", "Cloners", "is cloned by", "clones"),
    ("10002", "Duplicate", "is duplicated by", "duplicates"),
    ("10003", "Relates", "relates to", "relates to"),
]

FIRST_NAMES = [
    "Sam",
    "Dana",
    "Lee",
    "Ana",
    "Jörg",
    "Mei",
    "Olu",
    "Priya",
    "Kenji",
    "Sofía",
    "Ivan",
    "Zoë",
    "Ahmed",
    "Chloé",
    "Björn",
    "Ngozi",
    "Tomás",
    "Yuki",
    "Lars",
    "Fatima",
]
LAST_NAMES = [
    "Park",
    "Lee",
    "Müller",
    "Chen",
    "Okafor",
    "Sharma",
    "Tanaka",
    "García",
    "Petrov",
    "Dubois",
    "Novak",
    "Rossi",
    "Kowalski",
    "Haddad",
    "Silva",
    "Andersson",
    "Nakamura",
    "O'Brien",
]
TIME_ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Asia/Tokyo",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Australia/Sydney",
    "UTC",
]

# Custom fields: (role, name, schema type, items, custom type suffix or full key, clause extra)
CUSTOM_FIELD_SPECS: list[tuple[str, str, str, str | None, str]] = [
    ("sprint", "Sprint", "array", "json", "com.pyxis.greenhopper.jira:gh-sprint"),
    ("story_points", "Story point estimate", "number", None, "com.pyxis.greenhopper.jira:jsw-story-points"),
    (
        "development",
        "Development",
        "any",
        None,
        "com.atlassian.jira.plugins.jira-development-integration-plugin:devsummarycf",
    ),
    ("rank", "Rank", "any", None, "com.pyxis.greenhopper.jira:gh-lexo-rank"),
    ("team", "Team (select)", "option", None, CFT + "select"),
    ("platforms", "Platforms", "array", "option", CFT + "multiselect"),
    ("region", "Region / Site", "option-with-child", None, CFT + "cascadingselect"),
    ("reviewer", "Reviewer", "user", None, CFT + "userpicker"),
    ("cost", "Cost estimate", "number", None, CFT + "float"),
    ("target_date", "Target date", "date", None, CFT + "datepicker"),
    ("go_live", "Go-live", "datetime", None, CFT + "datetime"),
    ("tags", "Tags", "array", "string", CFT + "labels"),
    ("acceptance", "Acceptance criteria", "string", None, CFT + "textarea"),
    ("design_url", "Design link", "string", None, CFT + "url"),
    ("customer", "Customer name", "string", None, CFT + "textfield"),
]

TEAM_OPTIONS = [("12000", "Core"), ("12001", "Growth"), ("12002", "Platform"), ("12003", "Données")]
PLATFORM_OPTIONS = [("12010", "iOS"), ("12011", "Android"), ("12012", "Web"), ("12013", "API")]
REGIONS = [
    ("12020", "EMEA", [("12021", "Berlin"), ("12022", "Paris")]),
    ("12023", "APAC", [("12024", "東京"), ("12025", "Sydney")]),
    ("12026", "AMER", [("12027", "Austin"), ("12028", "São Paulo")]),
]

SYSTEM_FIELDS: list[tuple[str, str, bool, dict[str, Any]]] = [
    ("summary", "Summary", True, {"type": "string", "system": "summary"}),
    ("description", "Description", True, {"type": "string", "system": "description"}),
    ("issuetype", "Issue Type", True, {"type": "issuetype", "system": "issuetype"}),
    ("project", "Project", True, {"type": "project", "system": "project"}),
    ("status", "Status", True, {"type": "status", "system": "status"}),
    (
        "statuscategorychangedate",
        "Status Category Changed",
        True,
        {"type": "datetime", "system": "statuscategorychangedate"},
    ),
    ("priority", "Priority", True, {"type": "priority", "system": "priority"}),
    ("resolution", "Resolution", True, {"type": "resolution", "system": "resolution"}),
    ("resolutiondate", "Resolved", True, {"type": "datetime", "system": "resolutiondate"}),
    ("assignee", "Assignee", True, {"type": "user", "system": "assignee"}),
    ("reporter", "Reporter", True, {"type": "user", "system": "reporter"}),
    ("creator", "Creator", True, {"type": "user", "system": "creator"}),
    ("created", "Created", True, {"type": "datetime", "system": "created"}),
    ("updated", "Updated", True, {"type": "datetime", "system": "updated"}),
    ("duedate", "Due date", True, {"type": "date", "system": "duedate"}),
    ("labels", "Labels", True, {"type": "array", "items": "string", "system": "labels"}),
    ("parent", "Parent", True, {"type": "issuelink", "system": "parent"}),
    ("subtasks", "Sub-tasks", True, {"type": "array", "items": "issuelinks", "system": "subtasks"}),
    ("issuelinks", "Linked Issues", True, {"type": "array", "items": "issuelinks", "system": "issuelinks"}),
    ("environment", "Environment", True, {"type": "string", "system": "environment"}),
    ("timespent", "Time Spent", True, {"type": "number", "system": "timespent"}),
    ("attachment", "Attachment", False, {"type": "array", "items": "attachment", "system": "attachment"}),
    ("comment", "Comment", False, {"type": "comments-page", "system": "comment"}),
    ("worklog", "Log Work", False, {"type": "array", "items": "worklog", "system": "worklog"}),
]


@dataclass
class Reference:
    """All reference data of one site, in Cloud (v3) shape."""

    projects: list[dict[str, Any]] = field(default_factory=list)
    users: list[dict[str, Any]] = field(default_factory=list)
    fields: list[dict[str, Any]] = field(default_factory=list)
    cf: dict[str, str] = field(default_factory=dict)  # role -> customfield id
    statuses: list[dict[str, Any]] = field(default_factory=list)
    status_categories: list[dict[str, Any]] = field(default_factory=list)
    priorities: list[dict[str, Any]] = field(default_factory=list)
    issue_types: list[dict[str, Any]] = field(default_factory=list)
    resolutions: list[dict[str, Any]] = field(default_factory=list)
    link_types: list[dict[str, Any]] = field(default_factory=list)
    field_by_id: dict[str, dict[str, Any]] = field(default_factory=dict)
    status_by_id: dict[str, dict[str, Any]] = field(default_factory=dict)
    project_by_key: dict[str, dict[str, Any]] = field(default_factory=dict)


def _account_id(rng: random.Random) -> str:
    return "5b10" + "".join(rng.choice("0123456789abcdef") for _ in range(20))


def make_users(seed: int, n_issues: int, base_url: str) -> list[dict[str, Any]]:
    """Users: mostly active humans; some inactive, some app accounts, some with a hidden e-mail."""
    rng = random.Random(f"{seed}:users")
    count = 24 + n_issues // 250
    users: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i in range(count):
        acc = _account_id(rng)
        while acc in seen:
            acc = _account_id(rng)
        seen.add(acc)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        kind = "app" if i % 11 == 10 else ("customer" if i % 17 == 16 else "atlassian")
        name = (
            f"{first} {last}" if kind != "app" else f"{rng.choice(['Automation', 'GitHub', 'Slack'])} Bot {i}"
        )
        user: dict[str, Any] = {
            "self": f"{base_url}/rest/api/3/user?accountId={acc}",
            "accountId": acc,
            "accountType": kind,
            "displayName": name,
            "active": i % 7 != 6,
            "timeZone": rng.choice(TIME_ZONES),
            "locale": rng.choice(["en_US", "de_DE", "ja_JP"]),
            "avatarUrls": {"48x48": f"https://avatars.example/{acc}.png"},
        }
        # Cloud hides e-mail addresses by profile visibility; apps never have one.
        if kind == "atlassian" and i % 3 != 2:
            user["emailAddress"] = f"{first.lower()}.{last.lower()}{i}@example.com".replace("'", "")
        users.append(user)
    return users


def make_fields(seed: int) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The /field list and the role -> custom field id map (ids shifted by the seed)."""
    rng = random.Random(f"{seed}:fields")
    base = 11000 + (seed % 9) * 100 + 13
    ids = rng.sample(range(base, base + 400), len(CUSTOM_FIELD_SPECS))
    out: list[dict[str, Any]] = []
    for fid, name, navigable, sys_schema in SYSTEM_FIELDS:
        out.append(
            {
                "id": fid,
                "key": fid,
                "name": name,
                "custom": False,
                "orderable": fid
                not in ("created", "updated", "status", "creator", "resolutiondate", "subtasks"),
                "navigable": navigable,
                "searchable": True,
                "clauseNames": [fid],
                "schema": sys_schema,
            }
        )
    cf: dict[str, str] = {}
    for (role, name, typ, items, custom), num in zip(CUSTOM_FIELD_SPECS, ids, strict=True):
        fid = f"customfield_{num}"
        cf[role] = fid
        schema: dict[str, Any] = {"type": typ, "custom": custom, "customId": num}
        if items:
            schema["items"] = items
        clauses = [f"cf[{num}]", name]
        if role == "development":
            clauses.append("development")
        out.append(
            {
                "id": fid,
                "key": fid,
                "name": name,
                "custom": True,
                "orderable": True,
                "navigable": True,
                "searchable": True,
                "clauseNames": clauses,
                "schema": schema,
            }
        )
    return out, cf


def make_reference(seed: int, n_issues: int, base_url: str) -> Reference:
    """Build the full reference data set for a site."""
    ref = Reference()
    api = f"{base_url}/rest/api/3"
    for i, (key, name, ptype, _w, archived) in enumerate(PROJECT_SPECS):
        pid = str(10000 + i)
        project: dict[str, Any] = {
            "self": f"{api}/project/{pid}",
            "id": pid,
            "key": key,
            "name": name,
            "projectTypeKey": ptype,
            "simplified": i % 2 == 1,
            "style": "next-gen" if i % 2 else "classic",
            "isPrivate": False,
            "avatarUrls": {"48x48": f"{base_url}/avatar/project/{pid}.png"},
            "projectCategory": {
                "self": f"{api}/projectCategory/10000",
                "id": "10000",
                "name": "Engineering",
                "description": "Engineering projects",
            },
        }
        if archived:
            project["archived"] = True
            project["archivedDate"] = "2025-06-30T10:00:00.000+0000"
        ref.projects.append(project)
    ref.project_by_key = {p["key"]: p for p in ref.projects}
    ref.users = make_users(seed, n_issues, base_url)
    ref.fields, ref.cf = make_fields(seed)
    ref.field_by_id = {f["id"]: f for f in ref.fields}
    cats = {c["id"]: c for c in STATUS_CATEGORIES}
    ref.status_categories = [dict(c, self=f"{api}/statuscategory/{c['id']}") for c in STATUS_CATEGORIES]
    for sid, name, cat in STATUS_SPECS:
        ref.statuses.append(
            {
                "self": f"{api}/status/{sid}",
                "description": f"{name} status",
                "iconUrl": f"{base_url}/s.png",
                "name": name,
                "untranslatedName": name,
                "id": sid,
                "statusCategory": dict(cats[cat], self=f"{api}/statuscategory/{cat}"),
            }
        )
    ref.status_by_id = {s["id"]: s for s in ref.statuses}
    ref.priorities = [
        {
            "self": f"{api}/priority/{pid}",
            "statusColor": color,
            "description": name,
            "iconUrl": f"{base_url}/p/{pid}.svg",
            "name": name,
            "id": pid,
        }
        for pid, name, color in PRIORITY_SPECS
    ]
    ref.issue_types = [
        {
            "self": f"{api}/issuetype/{tid}",
            "id": tid,
            "description": f"A {name.lower()}",
            "iconUrl": f"{base_url}/t/{tid}.svg",
            "name": name,
            "subtask": sub,
            "avatarId": 10300 + int(tid) % 100,
            "hierarchyLevel": level,
        }
        for tid, name, sub, level in ISSUE_TYPE_SPECS
    ]
    ref.resolutions = [
        {"self": f"{api}/resolution/{rid}", "id": rid, "description": name, "name": name}
        for rid, name in RESOLUTION_SPECS
    ]
    ref.link_types = [
        {"id": lid, "name": name, "inward": inward, "outward": outward, "self": f"{api}/issueLinkType/{lid}"}
        for lid, name, inward, outward in LINK_TYPE_SPECS
    ]
    return ref
