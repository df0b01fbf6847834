"""Prometheus metric families, declared once.

HTTP metrics are filled by the middleware; Jira, job and load metrics by the pipeline.
Labels are low-cardinality on purpose: endpoint *templates* (``/rest/api/3/issue/{id}/comment``),
never raw URLs.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# --- HTTP API -------------------------------------------------------------------------------------
HTTP_REQUESTS = Counter("kairus_http_requests_total", "API requests served", ["method", "route", "status"])
HTTP_LATENCY = Histogram("kairus_http_request_seconds", "API request latency", ["method", "route"])

# --- Jira extraction ------------------------------------------------------------------------------
JIRA_REQUESTS = Counter("kairus_jira_requests_total", "Requests sent to Jira", ["endpoint", "status"])
JIRA_LATENCY = Histogram(
    "kairus_jira_request_seconds",
    "Latency of requests sent to Jira",
    ["endpoint"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
JIRA_RETRIES = Counter("kairus_jira_retries_total", "Retried Jira requests", ["endpoint", "reason"])
JIRA_RATE_LIMITED = Counter("kairus_jira_429_total", "429 responses received from Jira", ["endpoint"])
JIRA_IN_FLIGHT_LIMIT = Gauge(
    "kairus_jira_in_flight_limit", "Current adaptive in-flight request limit", ["integration"]
)

# --- Jobs and loading -----------------------------------------------------------------------------
JOBS_TOTAL = Counter("kairus_jobs_total", "Finished jobs", ["mode", "status"])
JOB_DURATION = Histogram(
    "kairus_job_duration_seconds",
    "Job duration",
    ["mode"],
    buckets=(1, 5, 15, 60, 300, 900, 1800, 3600, 7200),
)
JOBS_RUNNING = Gauge("kairus_jobs_running", "Jobs currently running")
ROWS_LOADED = Counter("kairus_rows_loaded_total", "Rows merged into the warehouse", ["table"])
ROWS_QUARANTINED = Counter("kairus_rows_quarantined_total", "Rows sent to quarantine", ["entity"])
BATCHES_LOADED = Counter("kairus_batches_loaded_total", "Batches committed to the warehouse", ["table"])
LOAD_LATENCY = Histogram("kairus_load_batch_seconds", "Time to merge one batch", ["table"])
