"""Jira extraction: turns a Jira site into streams of raw records, complete and fast; writes nowhere.

``client`` (HTTP, auth, retries, adaptive flow control and accounting: ``limiter``, ``retry``, ``stats``),
``paginators`` (one per API style), ``streams`` (endpoints declared as data), ``search`` and ``children``
(issue pages, completed), ``dev_status``, ``incremental`` (JQL and watermarks) and ``extract``, the public
face described in docs/contracts.md section 2. Nothing here imports FastAPI or the simulator.
"""
