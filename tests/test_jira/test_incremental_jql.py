"""The partition JQL and the watermark rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.core.errors import PayloadError
from app.jira.incremental import epoch_ms, max_updated, parse_jira_datetime, partition_jql


def test_incremental_jql_uses_epoch_ms_minus_overlap_and_a_closed_upper_bound() -> None:
    since = datetime(2026, 1, 15, 12, 0, 59, 900_000, tzinfo=UTC)
    until = datetime(2026, 1, 15, 13, 0, tzinfo=UTC)
    jql = partition_jql("PAY", since=since, until=until, overlap=timedelta(minutes=2))
    assert jql == (
        f'project = "PAY" AND updated >= {epoch_ms(since) - 120_000} AND updated <= {epoch_ms(until)} '
        "ORDER BY updated ASC, id ASC"
    )


def test_full_scan_is_still_bounded_and_user_input_is_quoted() -> None:
    until = datetime(2026, 1, 15, 13, 0, tzinfo=UTC)
    jql = partition_jql('A" OR project = "B', since=None, until=until, extra_jql="labels = x")
    assert jql.startswith('project = "A\\" OR project = \\"B" AND (labels = x) AND updated <= ')


def test_epoch_ms_is_the_same_instant_in_every_zone() -> None:
    kolkata = timezone(timedelta(hours=5, minutes=30))
    instant = datetime(2026, 1, 15, 17, 30, 59, 999_000, tzinfo=kolkata)
    assert epoch_ms(instant) == epoch_ms(instant.astimezone(UTC))
    with pytest.raises(ValueError):
        epoch_ms(datetime(2026, 1, 15))


def test_jira_timestamps_parse_to_utc() -> None:
    assert parse_jira_datetime("2025-03-01T08:40:12.345-0800") == datetime(
        2025, 3, 1, 16, 40, 12, 345_000, UTC
    )
    assert parse_jira_datetime("2025-03-01T16:40:12Z") == datetime(2025, 3, 1, 16, 40, 12, tzinfo=UTC)
    assert parse_jira_datetime(1740847212345) == datetime(2025, 3, 1, 16, 40, 12, 345_000, UTC)
    with pytest.raises(PayloadError):
        parse_jira_datetime("yesterday")


def test_watermark_is_the_largest_updated_delivered() -> None:
    issues = [
        {"id": "1", "fields": {"updated": "2026-01-15T04:00:00.000-0800"}},  # 12:00 UTC
        {"id": "2", "fields": {"updated": "2026-01-15T17:29:00.000+0530"}},  # 11:59 UTC
    ]
    assert max_updated(issues) == datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    later = datetime(2026, 1, 16, tzinfo=UTC)
    assert max_updated(issues, later) == later
    assert max_updated([]) is None


def test_the_integrations_own_order_by_is_dropped_but_quoted_text_kept() -> None:
    until = datetime(2026, 1, 15, 13, 0, tzinfo=UTC)
    jql = partition_jql("PAY", since=None, until=until, extra_jql="labels = x order by created DESC")
    assert jql.count("ORDER BY") == 1 and "(labels = x)" in jql
    kept = partition_jql("PAY", since=None, until=until, extra_jql='summary ~ "order by mail"')
    assert '(summary ~ "order by mail")' in kept
