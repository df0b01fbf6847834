"""The JQL subset: time zones and minute precision, epoch ms, boolean structure, ordering and errors."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from simulator import SimConfig, Site
from simulator.jql import JqlError
from simulator.search_engine import search_ids


@pytest.fixture(scope="module")
def site() -> Site:
    return Site(SimConfig(issues=120, seed=4, tz="America/Los_Angeles"))


def _minute(ms: int, tz: str, fmt: str = "%Y/%m/%d %H:%M") -> str:
    return datetime.fromtimestamp(ms / 1000, ZoneInfo(tz)).strftime(fmt)


def _pick(site: Site) -> tuple[int, int]:
    # An issue updated strictly inside its minute (not at :00.000), so the edges are observable.
    for core in site.issues.values():
        if core.updated_ms % 60_000 > 0:
            return core.id, core.updated_ms
    raise AssertionError("no suitable issue")


def test_string_literals_are_read_in_the_user_zone_at_minute_precision(site: Site) -> None:
    iid, ms = _pick(site)
    lit = _minute(ms, "America/Los_Angeles")
    assert iid in search_ids(site, f'id = {iid} AND updated >= "{lit}"')
    assert iid not in search_ids(site, f'id = {iid} AND updated > "{lit}"')
    assert iid in search_ids(site, f'id = {iid} AND updated <= "{lit}"')
    assert iid not in search_ids(site, f'id = {iid} AND updated < "{lit}"')
    assert iid in search_ids(site, f'id = {iid} AND updated = "{lit}"')
    dashed = _minute(ms, "America/Los_Angeles", "%Y-%m-%d %H:%M")
    assert iid in search_ids(site, f"id = {iid} AND updated >= '{dashed}'")


def test_a_utc_watermark_sent_as_a_string_misses_data_west_of_utc(site: Site) -> None:
    iid, ms = _pick(site)
    utc_literal = _minute(ms, "UTC")
    # Read in Los Angeles, the UTC wall time names an instant 7-8 hours later: the issue is missed.
    assert iid not in search_ids(site, f'id = {iid} AND updated >= "{utc_literal}"')
    utc_site = Site(SimConfig(issues=120, seed=4, tz="UTC"))
    assert iid in search_ids(utc_site, f'id = {iid} AND updated >= "{utc_literal}"')


def test_epoch_millisecond_literals_compare_exactly(site: Site) -> None:
    iid, ms = _pick(site)
    assert iid in search_ids(site, f"id = {iid} AND updated >= {ms}")
    assert iid not in search_ids(site, f"id = {iid} AND updated > {ms}")
    assert iid not in search_ids(site, f"id = {iid} AND updated >= {ms + 1}")
    assert iid in search_ids(site, f"id = {iid} AND updated <= {ms}")


def test_date_only_literal_means_local_midnight(site: Site) -> None:
    iid, ms = _pick(site)
    day = _minute(ms, "America/Los_Angeles", "%Y-%m-%d")
    assert iid in search_ids(site, f"id = {iid} AND updated >= {day}")
    assert iid in search_ids(site, f'id = {iid} AND updated >= "{day.replace("-", "/")}"')


def test_and_or_parentheses_and_status_category(site: Site) -> None:
    cores = list(site.issues.values())
    pay_or_ops = {c.id for c in cores if c.project in ("PAY", "OPS")}
    assert set(search_ids(site, "project = PAY OR project = OPS")) == pay_or_ops
    assert set(search_ids(site, "project in (pay, OPS)")) == pay_or_ops
    done_ids = {c.id for c in cores if c.status_id in ("10001", "10103")}
    got = set(search_ids(site, "(project = PAY OR project = OPS) AND statusCategory = Done"))
    assert got == pay_or_ops & done_ids and got
    assert set(search_ids(site, "statusCategory = Fertig")) == done_ids  # the localised name works too
    assert set(search_ids(site, "project = PAY AND NOT statusCategory = done")) == (
        {c.id for c in cores if c.project == "PAY"} - done_ids
    )
    assert set(search_ids(site, "project not in (PAY, OPS, WEB)")) == {
        c.id for c in cores if c.project == "HR"
    }


def test_order_by_sorts_with_id_tiebreak(site: Site) -> None:
    ids = search_ids(site, "created >= 0 ORDER BY updated ASC")
    keys = [(site.issues[i].updated_ms, i) for i in ids]
    assert keys == sorted(keys)
    desc = search_ids(site, "created >= 0 ORDER BY created DESC")
    assert desc == sorted(desc, key=lambda i: (site.issues[i].created_ms, i), reverse=True)
    by_key = search_ids(site, "project = PAY ORDER BY key ASC")
    nums = [int(site.issues[i].key.split("-")[1]) for i in by_key]
    assert nums == sorted(nums)


def test_key_and_id_clauses_and_moved_issue_old_keys(site: Site) -> None:
    moved = next(c for c in site.issues.values() if c.moved_from)
    assert search_ids(site, f"key = {moved.moved_from}") == [moved.id]
    assert search_ids(site, f'issuekey in ("{moved.key}")') == [moved.id]
    assert search_ids(site, f"id in ({moved.id}, 99999999)") == [moved.id]


def test_development_clause_selects_issues_with_pull_requests(site: Site) -> None:
    with_prs = {
        c.id for c in site.issues.values() if (d := site.dev(c)) and any(x.prs for x in d.instances.values())
    }
    assert set(search_ids(site, "development[pullrequests].all > 0")) == with_prs and with_prs


@pytest.mark.parametrize(
    "jql",
    [
        "",
        "   ",
        "ORDER BY created",
        "(project = PAY ORDER BY key)",
        "project = PAY AND",
        "project ~ PAY",
        "foo = bar",
        "updated >= '2025/13/45 10:00'",
        "key = NOPE-1",
        "project = PAY ORDER BY summary",
        'project = "PAY',
    ],
)
def test_invalid_or_unbounded_jql_is_rejected(site: Site, jql: str) -> None:
    with pytest.raises(JqlError):
        search_ids(site, jql)


def test_relative_dates_follow_the_simulated_clock() -> None:
    site = Site(SimConfig(issues=120, seed=4))
    site.clock.set("2026-01-15T12:00:30+00:00")  # mid-minute: the relative literal's minute is stable
    now = site.clock.now_ms()
    recent = {c.id for c in site.issues.values() if c.updated_ms >= now - now % 60_000 - 30 * 86_400_000}
    assert set(search_ids(site, "updated >= -30d")) == recent
    assert datetime.fromtimestamp(now / 1000, UTC).year == 2026


def test_order_by_key_desc_and_multiple_fields(site: Site) -> None:
    ids = search_ids(site, "project in (PAY, OPS) ORDER BY key DESC")
    keys = [(site.issues[i].project, int(site.issues[i].key.split("-")[1])) for i in ids]
    assert keys == sorted(keys, reverse=True)
    multi = search_ids(site, "created >= 0 ORDER BY updated DESC")
    assert multi == sorted(multi, key=lambda i: (site.issues[i].updated_ms, i), reverse=True)
    two = search_ids(site, "created >= 0 ORDER BY key ASC, updated DESC")
    two_keys = [(site.issues[i].project, int(site.issues[i].key.split("-")[1])) for i in two]
    assert two_keys == sorted(two_keys)
