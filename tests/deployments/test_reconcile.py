"""Reconcile: drift repaired, lost enqueues picked up, orphans listed, offboardings finished."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import django_rq
import pytest
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError

from deployments.models import Deployment, DeploymentEvent, Status
from deployments.services import Draft, deployment_apply, deployments_reconcile, reconcile_last_report
from tests.deployments.conftest import BUCKET, client_for


@pytest.fixture
def live(
    world: SimpleNamespace, aws: Any, package: Any, run_worker: Any, django_capture_on_commit_callbacks: Any
) -> Deployment:
    tenant = world.tenant_a
    with django_capture_on_commit_callbacks(execute=True):
        deployment = deployment_apply(
            actor=world.operator,
            draft=Draft(
                name="A", kind="realtime", isolation="silo", tenant=tenant, model_package=package(tenant)
            ),
        )
    run_worker()
    deployment.refresh_from_db()
    assert deployment.status == Status.IN_SERVICE
    return deployment


def _reconcile(run_worker: Any, capture: Any, deep: bool = False) -> Any:
    with capture(execute=True):
        report = deployments_reconcile(deep=deep)
    run_worker()
    return report


def test_an_endpoint_deleted_out_of_band_is_flagged_and_recreated(
    live: Deployment, aws: Any, run_worker: Any, django_capture_on_commit_callbacks: Any
) -> None:
    aws.sagemaker.delete_endpoint(EndpointName=live.aws_name)
    report = _reconcile(run_worker, django_capture_on_commit_callbacks)
    assert report.drifted == [f"{live.aws_name}: The endpoint was deleted outside saasadmin; recreating it."]
    live.refresh_from_db()
    assert live.status == Status.IN_SERVICE
    assert live.drift == ""
    assert aws.sagemaker.describe_endpoint(EndpointName=live.aws_name)["EndpointStatus"] == "InService"
    assert DeploymentEvent.objects.filter(deployment=live, action="Reconcile", outcome="drift").exists()
    assert reconcile_last_report().drifted == report.drifted


def test_an_async_endpoint_recreated_after_an_out_of_band_delete_scales_from_zero_again(
    world: SimpleNamespace,
    aws: Any,
    package: Any,
    run_worker: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    tenant = world.tenant_a
    with django_capture_on_commit_callbacks(execute=True):
        deployment = deployment_apply(
            actor=world.operator,
            draft=Draft(
                name="A", kind="async", isolation="silo", tenant=tenant, model_package=package(tenant)
            ),
        )
    run_worker()
    # DeleteEndpoint deregisters the variant's scalable target, and with it the scaling policies.
    aws.sagemaker.delete_endpoint(EndpointName=deployment.aws_name)
    _reconcile(run_worker, django_capture_on_commit_callbacks)
    deployment.refresh_from_db()
    assert deployment.status == Status.IN_SERVICE, deployment.last_error
    autoscaling = client_for(aws.url, "application-autoscaling")
    resource = f"endpoint/{deployment.aws_name}/variant/AllTraffic"
    targets = autoscaling.describe_scalable_targets(ServiceNamespace="sagemaker", ResourceIds=[resource])
    assert [t["MinCapacity"] for t in targets["ScalableTargets"]] == [0]
    policies = autoscaling.describe_scaling_policies(ServiceNamespace="sagemaker", ResourceId=resource)
    assert sorted(p["PolicyType"] for p in policies["ScalingPolicies"]) == [
        "StepScaling",
        "TargetTrackingScaling",
    ]


def test_an_endpoint_moved_to_another_config_is_restored(
    live: Deployment, aws: Any, run_worker: Any, django_capture_on_commit_callbacks: Any
) -> None:
    aws.sagemaker.create_endpoint_config(
        EndpointConfigName="hand-made",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": live.live_model_name,
                "InstanceType": "ml.m5.xlarge",
                "InitialInstanceCount": 1,
            }
        ],
    )
    aws.sagemaker.update_endpoint(EndpointName=live.aws_name, EndpointConfigName="hand-made")
    for _ in range(100):
        if aws.sagemaker.describe_endpoint(EndpointName=live.aws_name)["EndpointStatus"] == "InService":
            break
    assert _reconcile(run_worker, django_capture_on_commit_callbacks).drifted == []  # a light pass
    report = _reconcile(run_worker, django_capture_on_commit_callbacks, deep=True)
    assert "moved to hand-made outside saasadmin" in report.drifted[0]
    live.refresh_from_db()
    assert live.status == Status.IN_SERVICE
    described = aws.sagemaker.describe_endpoint(EndpointName=live.aws_name)
    assert described["EndpointConfigName"] == live.live_config_name != "hand-made"


def test_a_row_whose_enqueue_was_lost_is_picked_up(
    world: SimpleNamespace,
    aws: Any,
    package: Any,
    run_worker: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: Any,
) -> None:
    def redis_down(*_: Any, **__: Any) -> Any:
        raise RedisConnectionError("Redis is down")

    tenant = world.tenant_a
    with monkeypatch.context() as patch:
        patch.setattr("deployments.queueing.django_rq.get_queue", redis_down)
        with django_capture_on_commit_callbacks(execute=True):
            deployment = deployment_apply(
                actor=world.operator,
                draft=Draft(
                    name="A", kind="realtime", isolation="silo", tenant=tenant, model_package=package(tenant)
                ),
            )
    assert run_worker() == 0
    Deployment.objects.filter(pk=deployment.pk).update(updated_at=timezone.now() - timedelta(minutes=5))
    report = _reconcile(run_worker, django_capture_on_commit_callbacks)
    assert report.resumed == [deployment.pk]
    deployment.refresh_from_db()
    assert deployment.status == Status.IN_SERVICE


def test_orphans_with_the_products_tags_are_listed(
    live: Deployment, aws: Any, run_worker: Any, django_capture_on_commit_callbacks: Any
) -> None:
    tags = [
        {"Key": "saasadmin:tenant", "Value": "alpha"},
        {"Key": "saasadmin:deployment", "Value": "999"},
        {"Key": "saasadmin:kind", "Value": "realtime"},
    ]
    aws.sagemaker.create_model(
        ModelName="sa-alpha-rt-orphan-g1",
        ExecutionRoleArn="arn:aws:iam::123456789012:role/x",
        PrimaryContainer={
            "Image": live.model_package.image_uri,
            "ModelDataUrl": f"s3://{BUCKET}/models/alpha/model.tar.gz",
        },
        Tags=tags,
    )
    report = _reconcile(run_worker, django_capture_on_commit_callbacks, deep=True)
    names = [o["name"] for o in report.orphans]
    assert "sa-alpha-rt-orphan-g1" in names
    assert live.live_model_name not in names
    aws.sagemaker.delete_model(ModelName="sa-alpha-rt-orphan-g1")


def test_the_cron_config_registers_both_reconcile_passes() -> None:
    from rq.cron import CronScheduler

    scheduler = CronScheduler(connection=django_rq.get_connection("default"))
    scheduler.load_config_from_file("saasadmin.cron")
    jobs = {job.name: job for job in scheduler.get_jobs()}
    assert jobs["reconcile"].interval == 60
    assert jobs["reconcile-deep"].kwargs == {"deep": True}
