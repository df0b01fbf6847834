"""A faithful fake Jira Cloud/Server site for tests, demos and benchmarks (``create_app``, ``SimConfig``)."""

from simulator.app import create_app
from simulator.config import SimConfig
from simulator.site import Site

__all__ = ["SimConfig", "Site", "create_app"]
