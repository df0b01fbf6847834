"""Fingerprints of the issues' Development field as last loaded (table ``dev_fingerprints``).

Linking commits or pull requests does not bump an issue's ``updated``. An incremental run therefore lists
the issues with (open) development data asking only for their Development field, and re-reads just those
whose fingerprint differs from the one stored here. Fingerprints are written only after the warehouse
committed the batch holding the issue, and only for issues whose dev-status detail really came back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.jira.dev_status import dev_fingerprint
from app.models.unified_models import DevFingerprint

_CHUNK = 500  # ids per IN list: well under every backend's bound-parameter limit


def _chunks(items: list[str], size: int = _CHUNK) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def loaded_fingerprints(
    raw_issues: Iterable[dict[str, Any]], field_id: str | None, loaded_ids: set[str]
) -> tuple[dict[str, str], set[str]]:
    """``({issue id: fingerprint}, ids without dev data)`` of the loaded issues.

    Fingerprints are given only for issues whose development detail was fetched: those whose dev-status
    was refused (``forbidden``/``absent``) or failed are left out, so a later run still fetches their
    detail; so are issues the batch quarantined instead of loading. Issues whose Development field is
    now empty lose their fingerprint, so dev data that comes back later is fetched again.
    """
    if not field_id:
        return {}, set()
    out: dict[str, str] = {}
    cleared: set[str] = set()
    for issue in raw_issues:
        issue_id = str(issue.get("id"))
        if issue_id not in loaded_ids:
            continue
        status = (issue.get("devStatus") or {}).get("status")
        fingerprint = dev_fingerprint((issue.get("fields") or {}).get(field_id))
        if fingerprint is None:
            cleared.add(issue_id)
        elif status == "ok":
            out[issue_id] = fingerprint
    return out, cleared


class DevFingerprintStore:
    """Reads and writes one integration's dev-data fingerprints (blocking; call through a thread)."""

    def __init__(self, session_factory: Callable[[], Session], integration_id: int) -> None:
        self._session_factory = session_factory
        self.integration_id = integration_id

    def get_many(self, issue_ids: Iterable[str]) -> dict[str, str]:
        """The stored fingerprints of ``issue_ids`` (issues never stored are absent)."""
        ids = sorted({str(i) for i in issue_ids})
        found: dict[str, str] = {}
        with self._session_factory() as session:
            for chunk in _chunks(ids):
                rows = session.execute(
                    select(DevFingerprint.issue_id, DevFingerprint.fingerprint).where(
                        DevFingerprint.integration_id == self.integration_id,
                        DevFingerprint.issue_id.in_(chunk),
                    )
                ).all()
                found.update({str(issue_id): str(fp) for issue_id, fp in rows})
        return found

    def save_many(self, fingerprints: Mapping[str, str]) -> None:
        """Create or replace the fingerprints of several issues in one transaction."""
        if not fingerprints:
            return
        now = datetime.now(UTC)
        ids = sorted(fingerprints)
        with self._session_factory() as session, session.begin():
            for chunk in _chunks(ids):
                existing = {
                    row.issue_id: row
                    for row in session.scalars(
                        select(DevFingerprint).where(
                            DevFingerprint.integration_id == self.integration_id,
                            DevFingerprint.issue_id.in_(chunk),
                        )
                    )
                }
                for issue_id in chunk:
                    row = existing.get(issue_id)
                    if row is None:
                        session.add(
                            DevFingerprint(
                                integration_id=self.integration_id,
                                issue_id=issue_id,
                                fingerprint=fingerprints[issue_id],
                                updated_at=now,
                            )
                        )
                    elif row.fingerprint != fingerprints[issue_id]:
                        row.fingerprint = fingerprints[issue_id]
                        row.updated_at = now

    def delete_many(self, issue_ids: Iterable[str]) -> None:
        """Forget the fingerprints of issues that no longer have development data."""
        ids = sorted({str(i) for i in issue_ids})
        if not ids:
            return
        with self._session_factory() as session, session.begin():
            for chunk in _chunks(ids):
                session.execute(
                    delete(DevFingerprint).where(
                        DevFingerprint.integration_id == self.integration_id,
                        DevFingerprint.issue_id.in_(chunk),
                    )
                )

    def count(self) -> int:
        """How many issues of the integration have a stored fingerprint."""
        with self._session_factory() as session:
            count = session.scalar(
                select(func.count())
                .select_from(DevFingerprint)
                .where(DevFingerprint.integration_id == self.integration_id)
            )
            return int(count or 0)
