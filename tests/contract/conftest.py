"""Fixtures of the contract tests: every scenario driven once per session, its requests captured.

The emulator and the demo artifacts are the ones tests/deployments/conftest.py builds (imported here,
so this directory gets its own session emulator). The database work of the capture runs in one
transaction that is rolled back, and the queue is emptied: nothing is left for other tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import django_rq
import pytest
from django.db import transaction
from django.test.utils import override_settings

from deployments.services.reconcile import REPORT_KEY
from tenants.roles import Role
from tests.contract.capture import Call, CallLog, artifact_probe, capturing
from tests.contract.driving import Driver, Outcome, World, queue_clean
from tests.contract.scenarios import SCENARIOS
from tests.deployments import conftest as deployments_fixtures
from tests.deployments.conftest import BUCKET, REGION, client_for, make_package
from tests.factories import make_tenant, make_user

# The session emulator (no delays, generous quotas) and the demo models in its S3, as in tests/deployments.
emulator_handle = deployments_fixtures.emulator_handle
demo_artifacts = deployments_fixtures.demo_artifacts


@dataclass(frozen=True)
class Captured:
    """What the session's scenarios sent (in order) and where each step left its deployment."""

    calls: tuple[Call, ...]
    outcomes: tuple[Outcome, ...]

    def of_scenario(self, scenario: str) -> list[Call]:
        return [call for call in self.calls if call.scenario == scenario]


def _world(s3: Any, sagemaker: Any, emulator: Any) -> World:
    tenants = {
        "alpha": make_tenant(name="Alpha", slug="alpha", isolation="silo"),
        "gamma": make_tenant(name="Gamma", slug="gamma", isolation="bridge"),
        "delta": make_tenant(name="Delta", slug="delta", isolation="bridge"),
        "beta": make_tenant(name="Beta", slug="beta", isolation="bridge"),
    }
    packages = {slug: make_package(tenant) for slug, tenant in tenants.items()}
    # A second package of delta's (another artifact), and a scikit-learn one for a second container.
    packages["delta-v2"] = make_package(tenants["delta"], key="beta")
    packages["delta-sklearn"] = make_package(tenants["delta"], "sklearn", key="sklearn")
    operator = make_user(Role.OPERATOR, username="contract-operator", is_staff=True)
    archive = s3.get_object(Bucket=BUCKET, Key="models/alpha/model.tar.gz")["Body"].read()
    return World(operator, tenants, packages, {"alpha": archive}, sagemaker, emulator)


def _aws_settings(url: str) -> override_settings:
    return override_settings(
        AWS_MODE="emulated",
        EMULATOR_URL=url,
        AWS_REGION=REGION,
        SAASADMIN_BUCKET=BUCKET,
        DEPLOYMENT_POLL_BASE_SECONDS=0,
        DEPLOYMENT_MAX_POLLS=500,
    )


@pytest.fixture(scope="session")
def captured(
    django_db_setup: None, django_db_blocker: Any, emulator_handle: Any, demo_artifacts: Any
) -> Captured:
    """Drive every scenario of tests/contract/scenarios.py once and capture what was sent."""
    queue = django_rq.get_queue("default")
    s3, sagemaker = client_for(emulator_handle.url, "s3"), client_for(emulator_handle.url, "sagemaker")
    log = CallLog(probe=artifact_probe(s3))
    queue_clean(queue)
    with (
        django_db_blocker.unblock(),
        _aws_settings(emulator_handle.url),
        capturing(log),
        transaction.atomic(),
    ):
        driver = Driver(log, queue, _world(s3, sagemaker, emulator_handle))
        for scenario, (kind, steps) in SCENARIOS.items():
            driver.begin(scenario, kind)
            try:
                with transaction.atomic():
                    steps(driver)
            except Exception as exc:  # one scenario the product refuses must not hide the others
                driver.broke(exc)
        transaction.set_rollback(True)
    queue_clean(queue)
    queue.connection.delete(REPORT_KEY)
    return Captured(tuple(log.calls), tuple(driver.outcomes))
