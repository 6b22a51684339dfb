"""A job killed in the middle of a step keeps its timeline: the status change it made is written with the
change (SIGKILL loses at most the AWS lines of the step in flight), and a SIGTERM unwinds the job so
that those lines are written too. Real forking RQ workers, as in test_crash.py."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings as django_settings

from deployments.models import Deployment, DeploymentEvent, Status
from deployments.services import Draft, deployment_apply
from tests.deployments.test_crash import _database_url, _worker

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


class _Handler(BaseHTTPRequestHandler):
    """SageMaker's JSON protocol, just enough: creates answer with an ARN, `hang_on` never answers."""

    server: StallingAws

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        operation = self.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]
        if operation == self.server.hang_on:
            self.server.hanging.set()
            self.server.release.wait(120)  # a call that never comes back while the test looks
            return
        resource = operation.removeprefix("Create")
        body = json.dumps({f"{resource}Arn": f"arn:aws:sagemaker:us-east-1:123456789012:{resource}/x"})
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("x-amzn-RequestId", f"req-{operation}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: Any) -> None:
        pass


class StallingAws(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, hang_on: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.hang_on = hang_on
        self.hanging = threading.Event()
        self.release = threading.Event()
        self.url = f"http://127.0.0.1:{self.server_port}"


@pytest.fixture
def stalling_aws() -> Iterator[StallingAws]:
    server = StallingAws(hang_on="CreateEndpoint")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def workers() -> Iterator[list[Any]]:
    """Worker processes a test starts; any still running at the end are killed, work horse first."""
    started: list[Any] = []
    yield started
    for worker in started:
        if worker.poll() is None:
            with contextlib.suppress(ValueError, OSError):
                os.kill(_horse(worker.pid), signal.SIGKILL)
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)


def _horse(worker_pid: int) -> int:
    """The work horse RQ forked for the job (it runs in a process group of its own)."""
    (pid,) = (int(p) for p in Path(f"/proc/{worker_pid}/task/{worker_pid}/children").read_text().split())
    return pid


def _start_job_and_stall(world: SimpleNamespace, package: Any, aws: StallingAws, workers: list[Any]) -> Any:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": django_settings.REDIS_URL,
        "EMULATOR_URL": aws.url,
        "AWS_MODE": "emulated",
        "AWS_REGION": "us-east-1",
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
    workers.append(worker)
    assert aws.hanging.wait(60), "the job never reached CreateEndpoint"
    return deployment, worker


def _timeline(deployment: Deployment) -> list[tuple[str, str]]:
    return list(
        DeploymentEvent.objects.filter(deployment=deployment)
        .order_by("created_at", "id")
        .values_list("action", "outcome")
    )


def test_a_sigkilled_job_keeps_the_status_change_it_made(
    world: SimpleNamespace, package: Any, queue: Any, stalling_aws: StallingAws, workers: list[Any]
) -> None:
    deployment, worker = _start_job_and_stall(world, package, stalling_aws, workers)
    # The job is inside CreateEndpoint: it moved the row to creating, then called CreateModel and
    # CreateEndpointConfig. The move is on the timeline while the job still runs.
    assert ("Status", "creating") in _timeline(deployment)
    os.kill(_horse(worker.pid), signal.SIGKILL)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)

    assert Deployment.objects.get(pk=deployment.pk).status == Status.CREATING
    assert _timeline(deployment) == [("Status", "creating")]  # lost: only the step in flight


def test_a_sigtermed_job_writes_its_aws_calls_before_it_stops(
    world: SimpleNamespace, package: Any, queue: Any, stalling_aws: StallingAws, workers: list[Any]
) -> None:
    deployment, worker = _start_job_and_stall(world, package, stalling_aws, workers)
    # A service manager stopping the workers signals every process, the work horse included.
    os.kill(_horse(worker.pid), signal.SIGTERM)
    os.kill(worker.pid, signal.SIGTERM)
    assert worker.wait(timeout=60) == 0

    assert _timeline(deployment) == [
        ("Status", "creating"),
        ("CreateModel", "ok"),
        ("CreateEndpointConfig", "ok"),
    ]
    assert Deployment.objects.get(pk=deployment.pk).status == Status.CREATING  # RQ retries the job
