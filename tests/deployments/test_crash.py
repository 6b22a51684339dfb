"""A forking RQ worker SIGKILLed mid-provisioning: after abandoned-job cleanup and reconcile, the
deployment is in service with exactly one set of resources."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection
from rq.registry import StartedJobRegistry

from deployments.models import Deployment, DeploymentEvent, Status
from deployments.services import Draft, deployment_apply, deployments_reconcile
from tests.deployments.conftest import BUCKET, client_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        if connection.creation.is_in_memory_db(db["NAME"]):
            pytest.skip(
                "the SQLite test database is in memory, which a worker process cannot share: run with "
                "DATABASE_URL=postgres://… or --ds=tests.deployments.sqlite_file_settings"
            )
        return f"sqlite:///{db['NAME']}"
    if connection.vendor == "postgresql":
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    pytest.skip(f"no worker database URL for {connection.vendor}")


def _worker(env: dict[str, str], *extra: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "manage.py", "rqworker", "default", "--worker-class", "rq.Worker", *extra]
    return subprocess.Popen(
        command,
        cwd=django_settings.BASE_DIR,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait(check: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_killed_worker_leaves_one_set_of_resources(
    world: SimpleNamespace, slow_emulator_factory: Any, package: Any, settings: Any, queue: Any
) -> None:
    slow_emulator = slow_emulator_factory(3.0)  # endpoints take 3 s to create: a "mid-provisioning" to kill
    settings.EMULATOR_URL = slow_emulator.url
    settings.DEPLOYMENT_STALE_SECONDS = 0
    settings.DEPLOYMENT_PENDING_GRACE_SECONDS = 0
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": django_settings.REDIS_URL,
        "EMULATOR_URL": slow_emulator.url,
        "AWS_MODE": "emulated",
        "AWS_REGION": "us-east-1",
        "SAASADMIN_BUCKET": BUCKET,
        "DEPLOYMENT_POLL_BASE_SECONDS": "0",
        "DEPLOYMENT_MAX_POLLS": "100000",
        "DEBUG": "0",
        "SECURE_HTTPS": "0",
        "STATIC_MANIFEST": "0",
        "SECRET_KEY": "crash-test",
    }
    tenant = world.tenant_a
    deployment = deployment_apply(
        actor=world.operator,
        draft=Draft(
            name="A", kind="realtime", isolation="silo", tenant=tenant, model_package=package(tenant)
        ),
    )

    worker = _worker(env)
    created = DeploymentEvent.objects.filter(deployment=deployment, action="CreateEndpoint")
    _wait(created.exists, timeout=60)
    os.killpg(worker.pid, signal.SIGKILL)  # the worker and its work horse, mid-job
    worker.wait(timeout=10)
    assert Deployment.objects.get(pk=deployment.pk).status == Status.CREATING

    StartedJobRegistry(queue=queue).cleanup(timestamp=time.time() + 3600)  # abandoned jobs: retried
    deployments_reconcile()  # the retried job is queued: reconcile adds no second one
    rescue = _worker(env, "--burst")
    assert rescue.wait(timeout=120) == 0

    deployment.refresh_from_db()
    assert deployment.status == Status.IN_SERVICE, deployment.last_error
    sagemaker = client_for(slow_emulator.url, "sagemaker")
    name = deployment.aws_name
    assert len(sagemaker.list_endpoints(NameContains=name)["Endpoints"]) == 1
    assert len(sagemaker.list_endpoint_configs(NameContains=name)["EndpointConfigs"]) == 1
    assert len(sagemaker.list_models(NameContains=name)["Models"]) == 1
    assert created.filter(outcome="ok").count() == 1
