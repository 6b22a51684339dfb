"""The emulator of tests/deployments, for the cost tests that read AWS (Cost Explorer, S3)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.deployments import conftest as deployments_fixtures

emulator_handle = deployments_fixtures.emulator_handle


@pytest.fixture
def emulated(emulator_handle: Any, settings: Any) -> Any:
    """The product pointed at the session emulator (moto's Cost Explorer and S3 inside it)."""
    settings.AWS_MODE = "emulated"
    settings.EMULATOR_URL = emulator_handle.url
    settings.AWS_MAX_ATTEMPTS = 1
    return emulator_handle
