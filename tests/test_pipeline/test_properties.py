"""Property tests: ADF flattening never crashes and keeps every text; timestamps keep their instant."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.pipeline.adf import adf_to_text
from app.pipeline.values import to_utc

BLOCK_TYPES = [
    "paragraph",
    "heading",
    "bulletList",
    "orderedList",
    "listItem",
    "codeBlock",
    "blockquote",
    "panel",
    "table",
    "tableRow",
    "tableHeader",
    "tableCell",
    "mediaSingle",
    "mediaGroup",
    "expand",
    "nestedExpand",
    "taskList",
    "taskItem",
    "decisionList",
    "decisionItem",
    "layoutSection",
    "layoutColumn",
    "extension",
    "bodiedExtension",
    "doc",
    "somethingNew",
]
LEAF_TYPES = [
    "hardBreak",
    "mention",
    "emoji",
    "inlineCard",
    "blockCard",
    "embedCard",
    "date",
    "status",
    "media",
    "mediaInline",
    "placeholder",
    "rule",
]

texts = st.text(min_size=1, max_size=20)
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=10)
)
attrs = st.dictionaries(
    st.sampled_from(
        ["text", "url", "timestamp", "shortName", "id", "state", "title", "order", "level", "href"]
    ),
    json_scalars,
    max_size=3,
)
marks = st.lists(
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["strong", "em", "link", "code"]),
            "attrs": st.fixed_dictionaries({"href": st.text(max_size=10)}),
        }
    ),
    max_size=2,
)
text_nodes = st.builds(lambda t, m: {"type": "text", "text": t, "marks": m}, texts, marks)
leaf_nodes = st.builds(lambda k, a: {"type": k, "attrs": a}, st.sampled_from(LEAF_TYPES), attrs)
junk = st.one_of(json_scalars, st.lists(json_scalars, max_size=2), st.just({"content": "not a list"}))


def _block(children: st.SearchStrategy[list[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda k, a, c: {"type": k, "attrs": a, "content": c}, st.sampled_from(BLOCK_TYPES), attrs, children
    )


adf_nodes = st.recursive(
    st.one_of(text_nodes, leaf_nodes, junk), lambda kids: _block(st.lists(kids, max_size=4)), max_leaves=30
)


def _texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["text"]] if node.get("type") == "text" and isinstance(node.get("text"), str) else []
        content = node.get("content")
        if isinstance(content, list):
            for child in content:
                found += _texts(child)
        return found
    return []


def _words(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


@settings(max_examples=300, deadline=None)
@given(adf_nodes)
def test_adf_flattening_never_crashes_and_keeps_every_text_node(doc: Any) -> None:
    out = adf_to_text(doc)
    assert isinstance(out, str)
    flat = _words(out)
    for text in _texts(doc):
        assert _words(text) in flat


@given(st.text())
def test_wiki_strings_pass_through_unchanged(s: str) -> None:
    assert adf_to_text(s) == s


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
instants = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))


def _jira(dt: datetime) -> str:
    # Jira's own shape: milliseconds and an offset without a colon.
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}" + dt.strftime("%z")


@given(instants, offsets)
def test_timestamps_in_any_offset_round_trip_to_the_same_instant(instant: datetime, tz: timezone) -> None:
    instant = instant.replace(microsecond=instant.microsecond // 1000 * 1000)
    local = instant.astimezone(tz)
    for rendered in (_jira(local), local.isoformat(), (instant - EPOCH) // timedelta(milliseconds=1)):
        parsed = to_utc(rendered)
        assert parsed == instant, rendered
        assert parsed.tzinfo is UTC


def test_a_contentless_table_row_is_kept_as_its_text_not_an_endless_recursion() -> None:
    doc = {"type": "doc", "content": [{"type": "table", "content": [{"type": "tableRow", "text": "x"}]}]}
    assert adf_to_text(doc) == "x"
    assert adf_to_text({"type": "doc", "content": [{"type": "tableRow"}]}) == ""


@pytest.mark.parametrize(
    "junk",
    [
        "2024-03-01T16:40:12.345+2500",  # offsets are under 24 hours
        "2024-03-01T16:40:12.345+\u0660\u0668\u0660\u0660",  # digits, but not ASCII ones
        "2024-13-01T16:40:12.345-0800",  # month 13
        "2024-03-01T16:40:12.345-08:0",
        "0001-01-01T00:00:00.000+0100",  # before the first instant a datetime holds
        "9999-12-31T23:59:59.999-0100",  # after the last
    ],
)
def test_unreadable_timestamps_in_jiras_layout_come_back_unchanged(junk: str) -> None:
    assert to_utc(junk) == junk
    assert to_utc(junk.replace("T", " ")) == junk.replace("T", " ")


def test_the_same_offset_parses_alike_every_time() -> None:
    for _ in range(2):  # the second read comes from the offsets already met
        assert to_utc("2024-03-01T16:40:12.345+0530") == datetime(2024, 3, 1, 11, 10, 12, 345000, tzinfo=UTC)
        assert to_utc("2024-03-01T16:40:12.345-0000") == datetime(2024, 3, 1, 16, 40, 12, 345000, tzinfo=UTC)
