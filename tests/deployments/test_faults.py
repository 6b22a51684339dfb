"""Idempotency and faults, table-driven: whatever AWS does, one of everything, or a clear failure."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from deployments.models import Deployment, DeploymentEvent, Status
from deployments.queueing import ADVANCE, enqueue_now
from deployments.services import Draft, deployment_apply
from tests.deployments.conftest import BUCKET
from tests.deployments.faults import Faults


@pytest.fixture
def faults(aws: Any, settings: Any) -> Iterator[Faults]:
    settings.AWS_MAX_ATTEMPTS = 2
    injector = Faults(aws.sagemaker)
    yield injector
    injector.close()


def _apply(
    world: SimpleNamespace, package: Any, capture: Any, artifact: str | None = None, **settings: Any
) -> Deployment:
    """Apply a Silo real-time deployment for tenant a, with its model or the one under `artifact`."""
    tenant = world.tenant_a
    with capture(execute=True):
        return deployment_apply(
            actor=world.operator,
            draft=Draft(
                name="A",
                kind="realtime",
                isolation="silo",
                tenant=tenant,
                model_package=package(tenant, key=artifact) if artifact else package(tenant),
                settings=settings,
            ),
        )


def _outcomes(deployment: Deployment, action: str) -> list[str]:
    return list(
        DeploymentEvent.objects.filter(deployment=deployment, action=action).values_list("outcome", flat=True)
    )


def _count(aws: Any, deployment: Deployment) -> tuple[int, int, int]:
    name = deployment.aws_name
    return (
        len(aws.sagemaker.list_endpoints(NameContains=name)["Endpoints"]),
        len(aws.sagemaker.list_endpoint_configs(NameContains=name)["EndpointConfigs"]),
        len(aws.sagemaker.list_models(NameContains=name)["Models"]),
    )


# (case, operation, fault, times, outcomes of that operation on the timeline)
RECOVERED = [
    # botocore retries the timed-out create itself and hears "already exists": the seam carries on.
    ("create-times-out-then-exists", "CreateEndpoint", "timeout", 1, ["AlreadyExists"]),
    # Every attempt times out: the job re-enqueues itself; the next one finds the endpoint and continues.
    ("create-times-out-every-attempt", "CreateEndpoint", "timeout", 2, ["Transient", "AlreadyExists"]),
    # Throttled once: botocore's standard retry absorbs it.
    ("describe-throttled-once", "DescribeEndpoint", "throttle", 1, ["ok"]),
    # Throttled past botocore's attempts: the job backs off and polls again.
    ("describe-throttled-past-retries", "DescribeEndpoint", "throttle", 2, ["Throttled", "ok"]),
    ("model-5xx-past-retries", "CreateModel", "5xx", 2, ["Transient", "ok"]),
]


@pytest.mark.parametrize(
    ("operation", "fault", "times", "outcomes"), [c[1:] for c in RECOVERED], ids=[c[0] for c in RECOVERED]
)
def test_it_recovers_with_one_of_everything(
    world: SimpleNamespace,
    aws: Any,
    package: Any,
    faults: Faults,
    run_worker: Any,
    django_capture_on_commit_callbacks: Any,
    operation: str,
    fault: str,
    times: int,
    outcomes: list[str],
) -> None:
    faults.add(operation, fault, times)
    deployment = _apply(world, package, django_capture_on_commit_callbacks)
    run_worker()
    deployment.refresh_from_db()
    assert deployment.status == Status.IN_SERVICE, deployment.last_error
    assert _count(aws, deployment) == (1, 1, 1)
    assert _outcomes(deployment, operation)[: len(outcomes)] == outcomes


def test_a_failed_endpoint_stops_with_its_reason(
    world: SimpleNamespace, aws: Any, package: Any, run_worker: Any, django_capture_on_commit_callbacks: Any
) -> None:
    aws.s3.put_object(Bucket=BUCKET, Key="models/broken/model.tar.gz", Body=b"not a tar.gz archive")
    deployment = _apply(world, package, django_capture_on_commit_callbacks, artifact="broken")
    run_worker()
    deployment.refresh_from_db()
    assert deployment.status == Status.FAILED
    assert "SageMaker reports the endpoint Failed" in deployment.last_error
    assert "the object located at the URL is a valid tar.gz archive" in deployment.last_error


def test_a_missing_artifact_is_refused_at_create_model(
    world: SimpleNamespace, aws: Any, package: Any, run_worker: Any, django_capture_on_commit_callbacks: Any
) -> None:
    deployment = _apply(world, package, django_capture_on_commit_callbacks, artifact="no-such-tenant")
    run_worker()
    deployment.refresh_from_db()
    assert deployment.status == Status.FAILED
    url = f"s3://{BUCKET}/models/no-such-tenant/model.tar.gz"
    assert deployment.last_error == f"ValidationException: Could not find model data at {url}."
    assert _count(aws, deployment) == (0, 0, 0)


def test_a_quota_error_is_terminal_and_says_so(
    world: SimpleNamespace,
    aws: Any,
    package: Any,
    faults: Faults,
    run_worker: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    faults.add("CreateEndpoint", "limit")
    deployment = _apply(world, package, django_capture_on_commit_callbacks)
    run_worker()
    deployment.refresh_from_db()
    assert deployment.status == Status.FAILED
    assert deployment.last_error.startswith("ResourceLimitExceeded: The account-level service limit")
    event = DeploymentEvent.objects.get(deployment=deployment, action="CreateEndpoint")
    assert (event.outcome, event.request_id) == ("Terminal", "fault-ResourceLimitExceeded")


def test_the_job_run_twice_creates_one_of_everything(
    world: SimpleNamespace, aws: Any, package: Any, run_worker: Any, django_capture_on_commit_callbacks: Any
) -> None:
    deployment = _apply(world, package, django_capture_on_commit_callbacks)
    enqueue_now(ADVANCE, deployment.pk, str(deployment.tenant_id))
    enqueue_now(ADVANCE, deployment.pk, str(deployment.tenant_id))
    run_worker()
    deployment.refresh_from_db()
    assert deployment.status == Status.IN_SERVICE
    assert _count(aws, deployment) == (1, 1, 1)
    assert _outcomes(deployment, "CreateEndpoint") == ["ok"]


def test_a_retry_after_failure_replaces_the_failed_endpoint(
    world: SimpleNamespace, aws: Any, package: Any, run_worker: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from deployments.services import deployment_retry

    deployment = _apply(world, package, django_capture_on_commit_callbacks, artifact="late-artifact")
    run_worker()
    deployment.refresh_from_db()
    assert deployment.status == Status.FAILED
    body = aws.s3.get_object(Bucket=BUCKET, Key="models/alpha/model.tar.gz")["Body"].read()
    aws.s3.put_object(Bucket=BUCKET, Key="models/late-artifact/model.tar.gz", Body=body)
    with django_capture_on_commit_callbacks(execute=True):
        deployment_retry(actor=world.operator, deployment=deployment)
    run_worker()
    deployment.refresh_from_db()
    assert deployment.status == Status.IN_SERVICE, deployment.last_error
    assert _count(aws, deployment) == (1, 1, 1)


@pytest.mark.parametrize(
    ("code", "message", "status", "kind"),
    [
        ("ValidationException", 'Could not find endpoint "arn:…:endpoint/x".', 400, "NotFound"),
        ("ValidationException", 'Cannot create already existing model "arn:…".', 400, "AlreadyExists"),
        ("ValidationException", 'Cannot update in-progress endpoint "arn:…".', 400, "InProgress"),
        ("ResourceInUse", "a job with this name already exists", 400, "AlreadyExists"),
        ("ThrottlingException", "Rate exceeded", 400, "Throttled"),
        ("InternalFailure", "oops", 500, "Transient"),
        ("ResourceLimitExceeded", "The account-level service limit …", 400, "Terminal"),
        ("AccessDeniedException", "not authorized", 400, "Terminal"),
        ("BucketAlreadyOwnedByYou", "you already own it", 409, "AlreadyExists"),
        ("ObjectNotFoundException", "No scalable target", 400, "NotFound"),
    ],
)
def test_aws_errors_become_what_the_caller_can_act_on(
    code: str, message: str, status: int, kind: str
) -> None:
    from botocore.exceptions import ClientError

    from deployments.aws.clients import convert

    error = ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "req-1"},
        },
        "AnyOperation",
    )
    converted = convert(error)
    assert type(converted).__name__ == kind
    assert converted.request_id == "req-1"
    assert converted.message == f"{code}: {message}"


@pytest.mark.parametrize(
    ("message", "gone"),
    [
        ("No scalable target found for service namespace: sagemaker, resource ID: endpoint/x", True),
        ("1 validation error detected: Value 'x' at 'resourceId' failed to satisfy constraint", False),
    ],
)
def test_only_a_missing_scalable_target_counts_as_already_deregistered(
    monkeypatch: Any, message: str, gone: bool
) -> None:
    from deployments.aws import Terminal, autoscaling

    def call(service: str, action: str, resource: str, **params: Any) -> dict[str, Any]:
        if action == "deregister_scalable_target":
            raise Terminal(f"ValidationException: {message}", code="ValidationException")
        return {}

    monkeypatch.setattr(autoscaling, "call", call)
    if gone:
        autoscaling.scaling_remove("sa-x-as-1")
    else:
        with pytest.raises(Terminal):
            autoscaling.scaling_remove("sa-x-as-1")
