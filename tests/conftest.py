"""Fixtures every test may use: the embedded Redis when REDIS_URL is not set, and a small world."""

from __future__ import annotations

import os
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.test.utils import override_settings

from saasadmin.embedded import redis_start
from tests.factories import make_world
from tests.outage import private_redis, processes  # noqa: F401 - fixtures for the outage tests


@pytest.fixture(scope="session", autouse=True)
def _redis_server() -> None:
    """Tests use a real Redis: CI's (REDIS_URL) or an embedded redis-server of their own."""
    if "REDIS_URL" not in os.environ:
        redis_start(settings.EMBEDDED_REDIS_SOCKET)


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing() -> Iterator[None]:
    """Production hashes take ~0.3 s each by design; tests create many users."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def _rate_limits_read_afresh() -> None:
    """The API limits a test set (then rolled back or flushed) must not linger in the process's cache."""
    from tenants.rate_limits import tier_limits_forget

    tier_limits_forget()


@pytest.fixture(autouse=True)
def _token_cache_empty() -> None:
    """Tests change tenants and tokens behind the services' back (and roll back): start without entries."""
    from tenants.token_cache import token_cache_forget

    token_cache_forget()


@pytest.fixture
def world(db: None) -> SimpleNamespace:
    return make_world()
