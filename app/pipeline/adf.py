"""Atlassian Document Format (Cloud rich text) flattened to readable plain text.

Rules (JIRA_API.md section 9): depth-first in document order; ``text`` as is (a ``link`` mark adds
`` (href)``); ``hardBreak`` is a newline; mentions, emoji, cards, dates and status lozenges become their
text; block nodes end with a newline; list items get ``- `` / ``1. `` (nested lists indented two spaces);
task items ``[ ]`` / ``[x]``; table cells are joined with `` | ``, one row a line; media become
``[attachment]``; unknown nodes recurse into their ``content``. Three or more newlines collapse to two.

Server/DC (and the v2 API) send wiki markup strings: they pass through unchanged. Malformed input never
raises: anything that is not a node is skipped.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Final

_BLOCKS: Final = frozenset(
    {
        "paragraph",
        "heading",
        "codeBlock",
        "blockquote",
        "panel",
        "decisionItem",
        "expand",
        "nestedExpand",
        "layoutColumn",
        "bodiedExtension",
        "mediaSingle",
        "mediaGroup",
        "blockCard",
        "embedCard",
        "rule",
    }
)
_MEDIA: Final = frozenset({"media", "mediaInline"})
_CARDS: Final = frozenset({"inlineCard", "blockCard", "embedCard"})
_MANY_NEWLINES: Final = re.compile(r"\n{3,}")


def _attrs(node: dict[str, Any]) -> dict[str, Any]:
    attrs = node.get("attrs")
    return attrs if isinstance(attrs, dict) else {}


def _content(node: dict[str, Any]) -> list[Any]:
    content = node.get("content")
    return content if isinstance(content, list) else []


def _date(ts: Any) -> str:
    try:
        return datetime.fromtimestamp(int(ts) / 1000, UTC).date().isoformat()
    except (TypeError, ValueError, OverflowError, OSError):
        return str(ts)


def _text(node: dict[str, Any]) -> str:
    value = node.get("text")
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    marks = node.get("marks")
    if isinstance(marks, list):
        for mark in marks:
            if isinstance(mark, dict) and mark.get("type") == "link":
                href = _attrs(mark).get("href")
                if isinstance(href, str) and href and href != text:
                    return f"{text} ({href})"
    return text


def _inline(kind: str, node: dict[str, Any]) -> str | None:
    """Text of a leaf node, or None when ``kind`` is not a leaf."""
    attrs = _attrs(node)
    if kind == "text":
        return _text(node)
    if kind == "hardBreak":
        return "\n"
    if kind == "mention":
        return str(attrs.get("text") or f"@{attrs.get('id', '')}")
    if kind == "emoji":
        return str(attrs.get("text") or attrs.get("shortName") or "")
    if kind in _CARDS:
        return str(attrs.get("url") or "")
    if kind == "date":
        return _date(attrs.get("timestamp"))
    if kind == "status":
        return str(attrs.get("text") or "")
    if kind in _MEDIA:
        return "[attachment]"
    if kind == "placeholder":
        return ""
    if kind == "rule":
        return "---"
    return None


#: Leaf node kinds (``_inline`` returns their text); anything else is a container or unknown.
_LEAVES: Final = frozenset(
    {"text", "hardBreak", "mention", "emoji", "date", "status", "placeholder", "rule", *_CARDS, *_MEDIA}
)


_LISTS: Final = frozenset({"bulletList", "orderedList", "taskList"})


def _prefixed(body: str, prefix: str, indent: str) -> str:
    lines = body.strip("\n").split("\n")
    pad = " " * len(prefix)
    out = [indent + prefix + lines[0]] + [indent + pad + line if line else line for line in lines[1:]]
    return "\n".join(out) + "\n"


def _list(node: dict[str, Any], depth: int, ordered: bool) -> str:
    start = _attrs(node).get("order", 1)
    n = start if isinstance(start, int) and not isinstance(start, bool) else 1
    parts: list[str] = []
    for item in _content(node):
        if not isinstance(item, dict):
            continue
        prefix = f"{n}. " if ordered else "- "
        if item.get("type") == "taskItem":
            prefix = "[x] " if _attrs(item).get("state") == "DONE" else "[ ] "
        parts.append(_item(item, depth, prefix))
        n += 1
    return "".join(parts)


def _item(item: dict[str, Any], depth: int, prefix: str) -> str:
    # Nested lists render themselves with deeper indentation; only the item's own text is prefixed.
    if item.get("type") not in ("listItem", "taskItem", "decisionItem"):
        return _prefixed(_render(item, depth + 1), prefix, "  " * depth)  # malformed: a bare node in a list
    own: list[str] = []
    nested: list[str] = []
    for child in _content(item):
        kind = child.get("type") if isinstance(child, dict) else None
        _emit(child, depth + 1, nested if kind in _LISTS else own)
    body = "".join(own)
    if not body.strip("\n") and item.get("text"):
        body = _text(item)
    return _prefixed(body or "", prefix, "  " * depth) + "".join(nested)


def _table(node: dict[str, Any], depth: int) -> str:
    rows: list[str] = []
    for row in _content(node):
        if not isinstance(row, dict):
            continue
        if "content" not in row:  # malformed: a bare node where a row belongs; keep its text
            rows.append(_render(row, depth) + "\n")
            continue
        cells = [_render(cell, depth).strip().replace("\n", " ") for cell in _content(row)]
        rows.append(" | ".join(cells) + "\n")
    return "".join(rows)


def _render(node: Any, depth: int = 0) -> str:
    out: list[str] = []
    _emit(node, depth, out)
    return "".join(out)


def _emit(node: Any, depth: int, out: list[str]) -> None:
    """Append the text of ``node`` to ``out``.

    One shared buffer instead of a string per node: joining at every level copied the text once per
    nesting level, and this is the transform's hot spot.
    """
    if type(node) is not dict:
        return
    kind = node.get("type")
    # Fast paths for the overwhelmingly common nodes.
    if kind == "text":
        text = node.get("text")
        out.append(text if type(text) is str and not node.get("marks") else _text(node))
        return
    if kind == "paragraph":
        content = node.get("content")
        if type(content) is list:
            for child in content:
                if type(child) is dict and child.get("type") == "text" and not child.get("marks"):
                    text = child.get("text")
                    if type(text) is str:
                        out.append(text)
                        continue
                _emit(child, depth, out)
        out.append("\n")
        return
    if type(kind) is not str:
        kind = ""
    if kind in _LEAVES:
        out.append(_inline(kind, node) or "")
        if kind in _BLOCKS:
            out.append("\n")
        return
    if kind in ("bulletList", "orderedList", "taskList", "decisionList"):
        out.append(_list(node, depth, ordered=kind == "orderedList"))
        return
    if kind in ("listItem", "taskItem"):
        out.append(_item(node, depth, "- "))
        return
    if kind == "table" or (kind == "tableRow" and "content" in node):
        out.append(_table({"content": [node]} if kind == "tableRow" else node, depth))
        return
    # A contentless tableRow goes on as an unknown node (``_table`` would hand it back here forever).
    start = len(out)
    if kind in ("expand", "nestedExpand"):
        title = _attrs(node).get("title")
        if title:
            out.append(f"{title}\n")
    content = node.get("content")
    if type(content) is list:
        for child in content:
            _emit(child, depth, out)
    if isinstance(node.get("text"), str) and not any(out[start:]):
        out.append(_text(node))  # unknown node carrying text (and no body): keep it
    if kind in _BLOCKS and not _ends_with_newline(out, start):
        out.append("\n")


def _ends_with_newline(out: list[str], start: int) -> bool:
    """Whether the text appended to ``out`` since ``start`` ends with a newline (False when empty)."""
    for i in range(len(out) - 1, start - 1, -1):
        if out[i]:
            return out[i].endswith("\n")
    return False


def adf_to_text(value: Any) -> str:
    """Plain text of an ADF document; a string (wiki markup) passes through; ``None`` gives ``""``."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    text = _render(value)
    if "\n\n\n" in text:  # a substring test is far cheaper than the regex scan it usually saves
        text = _MANY_NEWLINES.sub("\n\n", text)
    return text.strip()
