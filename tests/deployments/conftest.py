"""Fixtures for deployments: the SageMaker emulator, demo artifacts in its S3, a clean queue, a worker."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import django_rq
import pytest
from rq import SimpleWorker
from rq.exceptions import NoSuchJobError
from rq.registry import FailedJobRegistry, ScheduledJobRegistry

from deployments.models import ModelPackage
from deployments.services import model_package_register
from deployments.services.reconcile import QUEUE_KEPT_KEY
from tenants.models import Tenant
from tests.deployments.faults import Faults

BUCKET = "saasadmin-tests"
REGION = "us-east-1"


@pytest.fixture(scope="session")
def emulator_handle() -> Iterator[Any]:
    """One emulator for the session: free port, no delays, no serverless cold start."""
    emulator = pytest.importorskip(
        "emulator", reason="the SageMaker emulator (emulator/) is not on this branch"
    )
    # Quotas far above the session's needs: tests leave their endpoints behind.
    handle = emulator.start(
        port=0, delays=0.0, cold_start_seconds=0.0, max_endpoints=100_000, instances_per_type=100_000
    )
    yield handle
    handle.stop()


@pytest.fixture
def slow_emulator_factory(emulator_handle: Any, demo_artifacts: Any) -> Iterator[Callable[[float], Any]]:
    """Start an emulator whose transitions take `delay` seconds (S3 is moto's, shared with the first)."""
    import emulator

    started: list[Any] = []

    def start(delay: float) -> Any:
        started.append(emulator.start(port=0, delays=delay))
        return started[-1]

    yield start
    for handle in started:
        handle.stop()


def client_for(url: str, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="session")
def demo_artifacts(emulator_handle: Any) -> Any:
    """Real trained models and datasets in the emulator's S3 (trained once per session)."""
    from emulator import artifacts

    s3 = client_for(emulator_handle.url, "s3")
    return artifacts.upload_demo(s3, BUCKET, ["alpha", "beta", "gamma", "delta"], REGION, with_images=False)


@pytest.fixture
def aws(emulator_handle: Any, demo_artifacts: Any, settings: Any) -> Any:
    """Point the product at the emulator, poll without waiting; returns boto3 clients to inspect it."""
    settings.AWS_MODE = "emulated"
    settings.EMULATOR_URL = emulator_handle.url
    settings.AWS_REGION = REGION
    settings.SAASADMIN_BUCKET = BUCKET
    settings.DEPLOYMENT_POLL_BASE_SECONDS = 0
    settings.DEPLOYMENT_MAX_POLLS = 500

    class Clients:
        url = emulator_handle.url
        artifacts = demo_artifacts
        sagemaker = client_for(emulator_handle.url, "sagemaker")
        s3 = client_for(emulator_handle.url, "s3")

    _uploads_forget(Clients.s3)
    return Clients


def _uploads_forget(s3: Any) -> None:
    """Delete earlier tests' uploaded packages (models/<owner>/<framework>/v<n>/): an upload never
    overwrites an object, so a leftover v1 would make this test's first upload v2."""
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="models/").get("Contents", [])
    for item in listed:
        if item["Key"].count("/") == 4 and item["Key"].endswith("/model.tar.gz"):
            s3.delete_object(Bucket=BUCKET, Key=item["Key"])


@pytest.fixture
def queue() -> Iterator[Any]:
    """The default queue, emptied before and after the test."""
    q = django_rq.get_queue("default")

    def clean() -> None:
        q.empty()
        q.connection.set(QUEUE_KEPT_KEY, "1")  # a Redis that kept its data: reconcile waits for lateness
        for registry in (FailedJobRegistry(queue=q), ScheduledJobRegistry(queue=q)):
            for job_id in registry.get_job_ids():
                with contextlib.suppress(NoSuchJobError):  # the entry goes; its data had expired
                    registry.remove(job_id, delete_job=True)

    clean()
    yield q
    clean()


@pytest.fixture
def run_worker(queue: Any, django_capture_on_commit_callbacks: Any) -> Callable[[], int]:
    """Run a burst SimpleWorker (sharing the test's database) until no job is left; returns jobs run.

    Jobs enqueue their polls on commit: the callbacks are run after each burst, until quiet.
    """

    def run() -> int:
        done = 0
        for _ in range(200):
            with django_capture_on_commit_callbacks(execute=True) as callbacks:
                worker = SimpleWorker([queue], connection=queue.connection)
                worker.work(burst=True)
                done += worker.successful_job_count + worker.failed_job_count
            if not callbacks and queue.count == 0:
                break
        failed = FailedJobRegistry(queue=queue)
        assert failed.count == 0, [queue.fetch_job(j).exc_info for j in failed.get_job_ids()]
        return done

    return run


def make_package(tenant: Tenant | None, framework: str = "xgboost", key: str | None = None) -> ModelPackage:
    """Register s3://<bucket>/models/<key>/model.tar.gz (key: the tenant's slug, shared or sklearn)."""
    slug = key or (tenant.slug if tenant else ("sklearn" if framework == "sklearn" else "shared"))
    version = "3.0-5" if framework == "xgboost" else "1.4-2"
    return model_package_register(
        actor=None,
        tenant=tenant,
        framework=framework,
        version=version,
        model_data_url=f"s3://{BUCKET}/models/{slug}/model.tar.gz",
    )


@pytest.fixture
def package(aws: Any) -> Callable[..., ModelPackage]:
    """make_package, with the emulator holding the demo artifacts: package(tenant), package(None), …"""
    return make_package


@pytest.fixture
def faults(aws: Any, settings: Any) -> Iterator[Faults]:
    """Fault injection (tests.deployments.faults) with one attempt per call: each planned fault lands."""
    settings.AWS_MAX_ATTEMPTS = 1
    injector = Faults(aws.sagemaker)
    yield injector
    injector.close()


@pytest.fixture(autouse=True)
def _inference_targets_forgotten() -> Iterator[None]:
    """Each test resolves a tenant's serving target afresh (the API keeps it per process for a moment)."""
    from deployments.services.inference import targets_forget

    targets_forget()
    yield
    targets_forget()
