"""Each paginator against a handler that pages like Jira (server caps its pages below what was asked)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from app.core.errors import PayloadError
from app.jira.client import JiraClient, JiraSite
from app.jira.paginators import BareArray, LegacyList, PageBean, TimeCursor, TokenCursor
from app.jira.retry import RetryPolicy
from app.jira.streams import Stream, read_all, read_stream

SITE = JiraSite("https://acme.example.net", username="me@example.com", token="t")
ITEMS = [{"id": str(10000 + i)} for i in range(23)]
CAP = 5  # the server answers at most 5 items, whatever maxResults says


def client_for(handler: Any) -> JiraClient:
    return JiraClient(SITE, transport=httpx.MockTransport(handler), retry=RetryPolicy(max_attempts=2))


def window(request: httpx.Request) -> tuple[int, int]:
    start = int(request.url.params.get("startAt", 0))
    wanted = int(request.url.params.get("maxResults", 50))
    return start, min(wanted, CAP)


def page_bean(request: httpx.Request) -> httpx.Response:
    start, size = window(request)
    values = ITEMS[start : start + size]
    last = start + len(values) >= len(ITEMS)
    return httpx.Response(
        200,
        json={"startAt": start, "maxResults": size, "total": len(ITEMS), "isLast": last, "values": values},
    )


def legacy_list(request: httpx.Request) -> httpx.Response:
    start, size = window(request)
    return httpx.Response(
        200,
        json={
            "startAt": start,
            "maxResults": size,
            "total": len(ITEMS),
            "comments": ITEMS[start : start + size],
        },
    )


def bare_array(request: httpx.Request) -> httpx.Response:
    start, size = window(request)
    return httpx.Response(200, json=ITEMS[start : start + size])


def token_cursor(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    start = int(body.get("nextPageToken", "0") or 0)
    values = ITEMS[start : start + CAP]
    out: dict[str, Any] = {"issues": values, "isLast": start + CAP >= len(ITEMS)}
    if not out["isLast"]:
        out["nextPageToken"] = str(start + CAP)  # left out entirely on the last page
    return httpx.Response(200, json=out)


def time_cursor(request: httpx.Request) -> httpx.Response:
    since = int(request.url.params["since"])
    values = [{"worklogId": since + i} for i in range(3)]
    last = since >= 20
    return httpx.Response(200, json={"since": since, "until": since + 10, "lastPage": last, "values": values})


@pytest.mark.parametrize(
    ("handler", "stream"),
    [
        (page_bean, Stream("a", "/x", lambda: PageBean(50), "values")),
        (legacy_list, Stream("b", "/x", lambda: LegacyList(100), "comments")),
        (bare_array, Stream("e", "/x", lambda: BareArray(1000), None)),
        (token_cursor, Stream("c", "/x", lambda: TokenCursor(100), "issues", method="POST")),
    ],
)
async def test_every_style_reads_all_items_despite_server_caps(handler: Any, stream: Stream) -> None:
    async with client_for(handler) as client:
        records = await read_all(client, stream)
    assert [r["id"] for r in records] == [i["id"] for i in ITEMS]


async def test_bare_array_costs_one_extra_call_for_the_final_empty_page() -> None:
    async with client_for(bare_array) as client:
        await read_all(client, Stream("e", "/x", lambda: BareArray(1000), None))
    assert client.stats.requests == 5 + 1  # 23 items at 5 a page, then the empty page


async def test_time_cursor_follows_until_and_reports_it() -> None:
    cursor = TimeCursor(since=0)
    async with client_for(time_cursor) as client:
        pages = [
            records
            async for records in read_stream(
                client, Stream("d", "/x", lambda: cursor, "values"), paginator=cursor
            )
        ]
    assert len(pages) == 3  # since 0, 10, 20 (lastPage)
    assert cursor.until == 30


async def test_page_bean_without_is_last_ends_on_total() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        start, size = window(request)
        return httpx.Response(
            200, json={"startAt": start, "total": len(ITEMS), "values": ITEMS[start : start + size]}
        )

    async with client_for(handler) as client:
        records = await read_all(client, Stream("a", "/x", lambda: PageBean(50), "values"))
    assert len(records) == len(ITEMS)
    assert client.stats.requests == 5


async def test_a_repeated_next_page_token_is_a_payload_error() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        return httpx.Response(200, json={"issues": [{"id": "1"}], "nextPageToken": "SAME", "isLast": False})

    async with client_for(handler) as client:
        with pytest.raises(PayloadError, match="circles"):
            await read_all(client, Stream("c", "/x", lambda: TokenCursor(100), "issues", method="POST"))
    assert calls["n"] == 2


async def test_a_server_stuck_at_the_same_start_at_is_a_payload_error() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1  # ignores startAt: always the first item again
        return httpx.Response(200, json={"startAt": 0, "total": 99, "isLast": False, "values": [{"id": "1"}]})

    async with client_for(handler) as client:
        with pytest.raises(PayloadError, match="circles"):
            await read_all(client, Stream("a", "/x", lambda: PageBean(50), "values"))
    assert calls["n"] == 2


async def test_a_record_path_that_is_not_a_list_is_a_payload_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"values": {"oops": 1}, "isLast": True})

    async with client_for(handler) as client:
        with pytest.raises(PayloadError, match="list"):
            await read_all(client, Stream("a", "/x", lambda: PageBean(50), "values"))
