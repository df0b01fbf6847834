"""Rich text: pools of ADF documents (Cloud v3) and their wiki-markup twins (v2 / Server).

Documents are built once per site and shared between issues (picked by a seeded index), which keeps
rendering fast; mentions point at real users of the site.
"""

from __future__ import annotations

from typing import Any

Node = dict[str, Any]


def text(value: str, *marks: Node) -> Node:
    """An ADF text node with optional marks."""
    node: Node = {"type": "text", "text": value}
    if marks:
        node["marks"] = list(marks)
    return node


def para(*content: Node) -> Node:
    """An ADF paragraph."""
    return {"type": "paragraph", "content": list(content)}


def doc(*content: Node) -> Node:
    """An ADF document."""
    return {"type": "doc", "version": 1, "content": list(content)}


def mention(user: dict[str, Any]) -> Node:
    """A mention of a site user."""
    return {
        "type": "mention",
        "attrs": {"id": user["accountId"], "text": "@" + user["displayName"], "accessLevel": ""},
    }


def _list(kind: str, *items: list[Node]) -> Node:
    return {"type": kind, "content": [{"type": "listItem", "content": item} for item in items]}


def _table(rows: list[list[str]]) -> Node:
    out = []
    for r, row in enumerate(rows):
        cell = "tableHeader" if r == 0 else "tableCell"
        out.append(
            {
                "type": "tableRow",
                "content": [{"type": cell, "attrs": {}, "content": [para(text(c))]} for c in row],
            }
        )
    return {"type": "table", "attrs": {"isNumberColumnEnabled": False, "layout": "default"}, "content": out}


LINK = {"type": "link", "attrs": {"href": "https://example.com/runbook?x=1&y=2"}}


def build_pool(users: list[dict[str, Any]]) -> list[tuple[Node, str]]:
    """Pairs of (ADF document, wiki markup) covering the node types extractors must flatten."""
    u0, u1 = users[0], users[min(1, len(users) - 1)]
    pool: list[tuple[Node, str]] = [
        (
            doc(
                para(
                    text("Add exponential backoff to the "),
                    text("webhook sender", {"type": "strong"}),
                    text("."),
                )
            ),
            "Add exponential backoff to the *webhook sender*.",
        ),
        (
            doc(
                {"type": "heading", "attrs": {"level": 2}, "content": [text("Steps")]},
                _list(
                    "orderedList",
                    [para(text("Open the page"))],
                    [
                        para(text("Click ")),
                        _list(
                            "bulletList",
                            [para(text("nested one"))],
                            [para(text("nested two ")), para(text("more"))],
                        ),
                    ],
                ),
                para(text("See "), text("runbook", LINK), text(" and "), mention(u0)),
            ),
            "h2. Steps\n# Open the page\n# Click\n## nested one\n## nested two more\n\n"
            f"See [runbook|https://example.com/runbook?x=1&y=2] and [~accountid:{u0['accountId']}]",
        ),
        (
            doc(
                para(text("Stack trace:")),
                {
                    "type": "codeBlock",
                    "attrs": {"language": "python"},
                    "content": [text("def f(x):\n    return x / 0  # ZeroDivisionError")],
                },
            ),
            "Stack trace:\n{code:python}\ndef f(x):\n    return x / 0  # ZeroDivisionError\n{code}",
        ),
        (
            doc(
                _table(
                    [["Env", "Status", "Owner"], ["prod", "❌ failing", "Ops"], ["staging", "✅ ok", "QA"]]
                )
            ),
            "||Env||Status||Owner||\n|prod|❌ failing|Ops|\n|staging|✅ ok|QA|",
        ),
        (
            doc(
                para(
                    text("支払いの再試行が失敗します。"),
                    {"type": "hardBreak"},
                    text("Повторите попытку позже."),
                ),
                para(
                    {"type": "emoji", "attrs": {"shortName": ":tada:", "id": "1f389", "text": "🎉"}},
                    text(" Ελληνικά και العربية"),
                ),
            ),
            "支払いの再試行が失敗します。\nПовторите попытку позже.\n:tada: Ελληνικά και العربية",
        ),
        (
            doc(
                {
                    "type": "panel",
                    "attrs": {"panelType": "warning"},
                    "content": [para(text("Careful: PII inside"))],
                },
                {"type": "blockquote", "content": [para(text("Customer said it broke on Tuesday"))]},
                {"type": "rule"},
                para(
                    {"type": "inlineCard", "attrs": {"url": "https://github.com/acme/payments/pull/57"}},
                    text(" "),
                    {"type": "status", "attrs": {"text": "BLOCKED", "color": "red", "localId": "s1"}},
                    text(" due "),
                    {"type": "date", "attrs": {"timestamp": "1740873600000"}},
                ),
            ),
            "{warning}Careful: PII inside{warning}\nbq. Customer said it broke on Tuesday\n----\n"
            "https://github.com/acme/payments/pull/57 *BLOCKED* due 2025-03-02",
        ),
        (
            doc(
                {
                    "type": "taskList",
                    "attrs": {"localId": "t"},
                    "content": [
                        {
                            "type": "taskItem",
                            "attrs": {"localId": "t1", "state": "DONE"},
                            "content": [text("write tests")],
                        },
                        {
                            "type": "taskItem",
                            "attrs": {"localId": "t2", "state": "TODO"},
                            "content": [text("deploy")],
                        },
                    ],
                },
                para(mention(u1), text(" please review")),
            ),
            f"* [x] write tests\n* [ ] deploy\n[~accountid:{u1['accountId']}] please review",
        ),
        (
            doc(
                para(
                    text("Looks good to me "), {"type": "emoji", "attrs": {"shortName": ":+1:", "text": "👍"}}
                )
            ),
            "Looks good to me (y)",
        ),
        (
            doc(
                para(
                    text("Fixed in "),
                    text("main", {"type": "code"}),
                    text(", deploying "),
                    text("tomorrow", {"type": "em"}),
                    text("."),
                )
            ),
            "Fixed in {{main}}, deploying _tomorrow_.",
        ),
        (
            doc(
                {
                    "type": "expand",
                    "attrs": {"title": "Details"},
                    "content": [para(text("Timeout after 30 s"))],
                },
                {
                    "type": "mediaSingle",
                    "attrs": {"layout": "center"},
                    "content": [
                        {"type": "media", "attrs": {"id": "a1b2", "type": "file", "collection": "jira-1"}}
                    ],
                },
            ),
            "Details: Timeout after 30 s\n!screenshot.png!",
        ),
    ]
    return pool
