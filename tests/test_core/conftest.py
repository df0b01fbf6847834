"""The core tests reuse the API tests' app fixtures (a real app on a temporary database)."""

from tests.test_api.conftest import make_client

__all__ = ["make_client"]
