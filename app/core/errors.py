"""One exception tree for the whole service.

::

    KairusError
    ├── TransientError            retry may succeed (429, 5xx, timeouts, resets, lock contention)
    │   ├── JiraTransientError
    │   └── WarehouseTransientError
    └── TerminalError             retrying cannot help; the message says what to fix
        ├── ConfigError           bad settings / integration definition
        ├── JiraError             Jira answered with a terminal status
        │   ├── JiraAuthError         401: wrong e-mail/token
        │   ├── JiraPermissionError   403: the account lacks a permission
        │   ├── JiraNotFoundError     404: missing, or not visible to this account
        │   └── JiraBadRequestError   400: bad JQL or parameters
        ├── PayloadError          a Jira payload does not have the expected shape
        ├── WarehouseError        the warehouse refused a statement
        │   └── WarehouseLockedError  DuckDB file held by another process
        ├── DataQualityError      a batch failed more checks than allowed
        ├── JobConflictError      a job is already running for the integration
        └── JobCancelled          cooperative cancellation reached a checkpoint

Retry logic asks ``isinstance(err, TransientError)``; it never parses messages.
"""

from __future__ import annotations


class KairusError(Exception):
    """Base of every error raised on purpose by the service."""


class TransientError(KairusError):
    """A failure that may go away if the operation is retried later."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TerminalError(KairusError):
    """A failure that retrying cannot fix; the message tells the user what to change."""


class ConfigError(TerminalError):
    """Invalid configuration (settings or an integration's definition)."""


class JiraTransientError(TransientError):
    """Jira answered 429/5xx, timed out or dropped the connection."""

    def __init__(
        self, message: str, *, status: int | None = None, endpoint: str = "", retry_after: float | None = None
    ) -> None:
        super().__init__(message, retry_after=retry_after)
        self.status = status
        self.endpoint = endpoint


class JiraError(TerminalError):
    """Jira answered with a terminal status (400/401/403/404/410...)."""

    def __init__(self, message: str, *, status: int | None = None, endpoint: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.endpoint = endpoint


class JiraAuthError(JiraError):
    """401: the credentials were rejected."""


class JiraPermissionError(JiraError):
    """403: the account lacks a permission."""


class JiraNotFoundError(JiraError):
    """404: the resource does not exist or is not visible to the account."""


class JiraBadRequestError(JiraError):
    """400: bad JQL or parameters."""


class PayloadError(TerminalError):
    """A Jira payload did not have the expected shape."""


class WarehouseTransientError(TransientError):
    """The warehouse failed in a way that may succeed on retry."""


class WarehouseError(TerminalError):
    """The warehouse refused a statement."""


class WarehouseLockedError(WarehouseError):
    """The DuckDB file is held by another process (DuckDB allows a single writer)."""


class DataQualityError(TerminalError):
    """A batch failed more data-quality checks than the configured ratio allows."""


class JobConflictError(TerminalError):
    """A job is already running for this integration."""

    def __init__(self, message: str, *, running_job_id: str | None = None) -> None:
        super().__init__(message)
        self.running_job_id = running_job_id


class JobCancelled(KairusError):
    """Raised at a checkpoint when the job was asked to stop."""
