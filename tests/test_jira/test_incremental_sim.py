"""Incremental extraction misses no change at minute, day and time-zone edges (simulator in LA and Kolkata).

Jira reads JQL date literals in the user's zone at minute precision; the extractor sends epoch milliseconds,
an overlap window and a closed upper bound, and advances its watermark to the largest ``updated`` it
delivered. Changes land at hh:mm:59.9 and just after, around local midnight, and just after a run's
``until``; after each run the union of what was extracted must equal the simulator's truth.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.jira.incremental import parse_jira_datetime
from tests.fixtures.simulator import SimHandle
from tests.test_jira.sim_run import Extracted, extract, site_for

SimFactory = Callable[..., SimHandle]


def sim_now(sim: SimHandle) -> datetime:
    return datetime.fromisoformat(sim.clock())


def set_local(sim: SimHandle, tz: str, local: datetime) -> None:
    sim.clock(set=local.replace(tzinfo=ZoneInfo(tz)).isoformat())


def merge(state: dict[str, datetime], out: Extracted) -> None:
    for issue_id, issue in out.issues.items():
        updated = parse_jira_datetime(issue["fields"]["updated"])
        if issue_id not in state or updated > state[issue_id]:
            state[issue_id] = updated


def assert_state_is_truth(sim: SimHandle, state: dict[str, datetime]) -> None:
    truth = {i: parse_jira_datetime(v["updated"]) for i, v in sim.truth(detail="issues").items()}
    stale = {i: (state.get(i), t) for i, t in truth.items() if state.get(i) != t}
    assert not stale, f"missed changes: {list(stale.items())[:5]}"


@pytest.mark.parametrize("tz", ["America/Los_Angeles", "Asia/Kolkata"])
async def test_incremental_runs_miss_no_change_at_minute_and_zone_edges(
    sim_factory: SimFactory, tz: str
) -> None:
    sim = sim_factory(issues=60, seed=13, tz=tz)
    site = site_for(sim)
    full = await extract(site, until=sim_now(sim))
    state: dict[str, datetime] = {}
    merge(state, full)
    assert_state_is_truth(sim, state)
    marks = dict(full.watermarks)
    fields = full.reference["fields"]
    projects = sorted(marks)

    start_local = sim_now(sim).astimezone(ZoneInfo(tz)).replace(tzinfo=None)
    changed: set[str] = set()

    # 1. Changes at hh:mm:59.9 local, the run's upper bound right after them, then more changes landing
    #    after that bound (same minute, then the next minute) which only the following run may see.
    set_local(sim, tz, (start_local + timedelta(minutes=7)).replace(second=59, microsecond=900_000))
    changed |= set(sim.mutate(seed=1, update=3)["updated"])
    until = sim_now(sim)
    sim.clock(advance_s=0.02)
    late = set(sim.mutate(seed=2, update=3)["updated"])
    sim.clock(advance_s=0.2)  # crosses into the next minute
    late |= set(sim.mutate(seed=3, update=3)["updated"])
    run1 = await extract(
        site, since=marks, until=until, with_reference=False, fields=fields, projects=projects
    )
    merge(state, run1)
    assert changed <= set(run1.issues)
    assert all(parse_jira_datetime(i["fields"]["updated"]) <= until for i in run1.issues.values())
    marks.update(run1.watermarks)

    # 2. Changes either side of local midnight (the day a date literal would be read in).
    midnight = (start_local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    set_local(sim, tz, midnight - timedelta(milliseconds=100))
    late |= set(sim.mutate(seed=4, update=3)["updated"])
    sim.clock(advance_s=0.2)
    late |= set(sim.mutate(seed=5, update=3, add_comments=2, add_worklogs=2)["updated"])
    sim.clock(advance_s=1)
    run2 = await extract(
        site, since=marks, until=sim_now(sim), with_reference=False, fields=fields, projects=projects
    )
    merge(state, run2)
    assert late <= set(run2.issues)
    assert_state_is_truth(sim, state)
    # Re-reading is limited to the overlap window, not the whole site.
    assert len(run2.issues) < len(full.issues) / 2
