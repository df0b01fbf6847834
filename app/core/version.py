"""The service's version, from the installed package metadata (pyproject.toml)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def service_version() -> str:
    """``kairus-etl``'s version, or ``0.0.0+local`` when run from a tree that was never installed."""
    try:
        return version("kairus-etl")
    except PackageNotFoundError:
        return "0.0.0+local"


__version__ = service_version()
