"""Fixtures of the tenants tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tenants.hot_redis import hot_redis
from tenants.token_usage import LAST_USED_KEY


@pytest.fixture(autouse=True)
def no_recorded_uses() -> Iterator[None]:
    """Token ids repeat between tests (each rolls back): start and end without recorded uses."""
    hot_redis().delete(LAST_USED_KEY)
    yield
    hot_redis().delete(LAST_USED_KEY)
