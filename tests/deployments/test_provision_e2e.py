"""Each kind provisioned end to end through a real RQ worker against the emulator; joins, leaves,
updates and teardown."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from django.core.exceptions import ValidationError

from deployments.models import Deployment, DeploymentEvent, RunStatus, Status, TransformRun
from deployments.services import (
    Draft,
    deployment_advance,
    deployment_apply,
    deployment_delete,
    deployment_member_change,
    deployment_member_join,
    deployment_member_leave,
    tenant_teardown,
)
from tests.deployments.conftest import BUCKET, client_for
from tests.factories import make_tenant

Apply = Callable[..., Deployment]


@pytest.fixture
def apply(world: SimpleNamespace, run_worker: Any, django_capture_on_commit_callbacks: Any) -> Apply:
    """Apply a draft (or run a service) as the operator, then let the worker finish; returns the row."""

    def run(draft: Draft | None = None, *, call: Callable[[], Any] | None = None) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            result = call() if call else deployment_apply(actor=world.operator, draft=draft)
        run_worker()
        if isinstance(result, Deployment):
            result.refresh_from_db()
        return result

    return run


def _tags(aws: Any, arn: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in aws.sagemaker.list_tags(ResourceArn=arn)["Tags"]}


def _calls(deployment: Deployment, action: str) -> int:
    return DeploymentEvent.objects.filter(deployment=deployment, action=action, outcome="ok").count()


def _names(aws: Any, kind: str, prefix: str) -> list[str]:
    listing = {
        "Endpoint": aws.sagemaker.list_endpoints,
        "EndpointConfig": aws.sagemaker.list_endpoint_configs,
        "Model": aws.sagemaker.list_models,
    }[kind](NameContains=prefix)
    return sorted(item[f"{kind}Name"] for item in listing[f"{kind}s"])


def test_it_provisions_a_silo_realtime_endpoint_with_tags(
    world: SimpleNamespace, aws: Any, package: Any, apply: Apply
) -> None:
    tenant = world.tenant_a
    deployment = apply(
        Draft(
            name="Alpha real-time",
            kind="realtime",
            isolation="silo",
            tenant=tenant,
            model_package=package(tenant),
            settings={"instance_type": "ml.m5.large"},
        )
    )
    assert deployment.status == Status.IN_SERVICE, deployment.last_error
    described = aws.sagemaker.describe_endpoint(EndpointName=deployment.aws_name)
    assert described["EndpointStatus"] == "InService"
    expected_tags = {
        "saasadmin:tenant": "alpha",
        "saasadmin:deployment": str(deployment.pk),
        "saasadmin:kind": "realtime",
    }
    assert _tags(aws, described["EndpointArn"]) == expected_tags
    config = aws.sagemaker.describe_endpoint_config(EndpointConfigName=deployment.live_config_name)
    assert config["ProductionVariants"][0]["InstanceType"] == "ml.m5.large"
    assert _tags(aws, config["EndpointConfigArn"]) == expected_tags
    model = aws.sagemaker.describe_model(ModelName=deployment.live_model_name)
    assert model["PrimaryContainer"]["ModelDataUrl"] == f"s3://{BUCKET}/models/alpha/model.tar.gz"
    assert _tags(aws, model["ModelArn"]) == expected_tags
    for action in ("CreateModel", "CreateEndpointConfig", "CreateEndpoint"):
        assert _calls(deployment, action) == 1
    events = DeploymentEvent.objects.filter(deployment=deployment, action="CreateEndpoint").get()
    assert events.request_id
    assert events.resource == deployment.aws_name


def test_it_updates_with_a_new_config_and_cleans_the_old_one(
    world: SimpleNamespace, aws: Any, package: Any, apply: Apply
) -> None:
    tenant = world.tenant_a
    draft = Draft(
        name="Alpha", kind="realtime", isolation="silo", tenant=tenant, model_package=package(tenant)
    )
    deployment = apply(draft)
    first_config = deployment.live_config_name
    changed = Draft.of(deployment, settings={**deployment.settings, "instance_count": 2})
    deployment = apply(
        call=lambda: deployment_apply(actor=world.operator, draft=changed, deployment=deployment)
    )
    assert deployment.status == Status.IN_SERVICE, deployment.last_error
    assert deployment.live_config_name != first_config
    assert deployment.observed_generation == 2
    described = aws.sagemaker.describe_endpoint(EndpointName=deployment.aws_name)
    assert described["EndpointConfigName"] == deployment.live_config_name
    assert described["ProductionVariants"][0]["CurrentInstanceCount"] == 2
    assert _names(aws, "EndpointConfig", deployment.aws_name) == [deployment.live_config_name]
    assert _names(aws, "Model", deployment.aws_name) == [deployment.live_model_name]
    assert _calls(deployment, "UpdateEndpoint") == 1


def test_it_deletes_everything_a_deployment_created(
    world: SimpleNamespace, aws: Any, package: Any, apply: Apply
) -> None:
    tenant = world.tenant_a
    deployment = apply(
        Draft(name="A", kind="realtime", isolation="silo", tenant=tenant, model_package=package(tenant))
    )
    deployment = apply(call=lambda: deployment_delete(actor=world.operator, deployment=deployment))
    assert deployment.status == Status.DELETED
    for kind in ("Endpoint", "EndpointConfig", "Model"):
        assert _names(aws, kind, deployment.aws_name) == []


def test_it_provisions_an_async_endpoint_that_scales_to_zero(
    world: SimpleNamespace, aws: Any, package: Any, apply: Apply
) -> None:
    tenant = world.tenant_a
    deployment = apply(
        Draft(
            name="Alpha async",
            kind="async",
            isolation="silo",
            tenant=tenant,
            model_package=package(tenant),
        )
    )
    assert deployment.status == Status.IN_SERVICE, deployment.last_error
    config = aws.sagemaker.describe_endpoint_config(EndpointConfigName=deployment.live_config_name)
    assert (
        config["AsyncInferenceConfig"]["OutputConfig"]["S3OutputPath"] == f"s3://{BUCKET}/async/alpha/output/"
    )
    scaling = client_for(aws.url, "application-autoscaling").describe_scalable_targets(
        ServiceNamespace="sagemaker"
    )
    target = next(t for t in scaling["ScalableTargets"] if deployment.aws_name in t["ResourceId"])
    assert target["MinCapacity"] == 0
    autoscaling = client_for(aws.url, "application-autoscaling")
    policies = autoscaling.describe_scaling_policies(
        ServiceNamespace="sagemaker", ResourceId=target["ResourceId"]
    )
    assert sorted(p["PolicyType"] for p in policies["ScalingPolicies"]) == [
        "StepScaling",
        "TargetTrackingScaling",
    ]
    alarm = client_for(aws.url, "cloudwatch").describe_alarms(AlarmNames=[f"{deployment.aws_name}-wake"])
    assert alarm["MetricAlarms"][0]["MetricName"] == "HasBacklogWithoutCapacity"


def test_it_provisions_a_serverless_endpoint(
    world: SimpleNamespace, aws: Any, package: Any, apply: Apply
) -> None:
    tenant = world.tenant_a
    deployment = apply(
        Draft(
            name="Alpha serverless",
            kind="serverless",
            isolation="silo",
            tenant=tenant,
            model_package=package(tenant),
            settings={"memory_mb": 3072, "max_concurrency": 10},
        )
    )
    assert deployment.status == Status.IN_SERVICE, deployment.last_error
    config = aws.sagemaker.describe_endpoint_config(EndpointConfigName=deployment.live_config_name)
    assert config["ProductionVariants"][0]["ServerlessConfig"] == {
        "MemorySizeInMB": 3072,
        "MaxConcurrency": 10,
    }


def test_it_runs_a_batch_transform_per_tenant_and_records_the_run(
    world: SimpleNamespace, aws: Any, package: Any, apply: Apply
) -> None:
    tenant = world.tenant_a
    deployment = apply(
        Draft(
            name="Alpha nightly",
            kind="batch",
            isolation="silo",
            tenant=tenant,
            model_package=package(None),
            settings={"schedule": "daily"},
        )
    )
    assert deployment.status == Status.IN_SERVICE, deployment.last_error
    run = TransformRun.objects.get(deployment=deployment)
    assert run.status == RunStatus.COMPLETED, run.failure_reason
    assert run.job_name == f"{deployment.aws_name}-r1"
    assert run.input_prefix == f"s3://{BUCKET}/datasets/alpha/input/"
    job = aws.sagemaker.describe_transform_job(TransformJobName=run.job_name)
    assert job["TransformOutput"]["S3OutputPath"] == run.output_prefix
    output = aws.s3.list_objects_v2(Bucket=BUCKET, Prefix=run.output_prefix[len(f"s3://{BUCKET}/") :])
    assert [o["Key"].rsplit("/", 1)[-1] for o in output["Contents"]] == ["part-000.csv.out"]


def test_a_batch_run_without_input_is_skipped_with_the_reason(
    world: SimpleNamespace, aws: Any, package: Any, apply: Apply
) -> None:
    tenant = make_tenant(slug="nodata", isolation="silo")
    draft = Draft(name="No data", kind="batch", isolation="silo", tenant=tenant, model_package=package(None))
    deployment = apply(draft)
    run = TransformRun.objects.get(deployment=deployment)
    assert run.status == RunStatus.SKIPPED
    assert "holds no files" in run.failure_reason
    assert run.input_prefix in run.failure_reason
    assert DeploymentEvent.objects.filter(deployment=deployment, action="Run", outcome="skipped").exists()
    # No job was created for it.
    assert not aws.sagemaker.list_transform_jobs(NameContains=run.job_name)["TransformJobSummaries"]


def _keys(aws: Any, deployment: Deployment) -> list[str]:
    listing = aws.s3.list_objects_v2(Bucket=BUCKET, Prefix=f"mme/{deployment.aws_name}/")
    return [o["Key"].rsplit("/", 1)[-1] for o in listing.get("Contents", [])]


def _bridge(slug: str) -> Any:
    return make_tenant(slug=slug, isolation="bridge")


def test_multi_model_tenants_join_and_leave_through_s3(
    world: SimpleNamespace, aws: Any, package: Any, apply: Apply
) -> None:
    gamma, delta = _bridge("gamma"), _bridge("delta")
    deployment = apply(
        Draft(name="Bridge MME", kind="multi_model", isolation="bridge", members=((gamma, package(gamma)),))
    )
    assert deployment.status == Status.IN_SERVICE, deployment.last_error
    model = aws.sagemaker.describe_model(ModelName=deployment.live_model_name)
    prefix = f"s3://{BUCKET}/mme/{deployment.aws_name}/"
    assert model["PrimaryContainer"] == {
        **model["PrimaryContainer"],
        "Mode": "MultiModel",
        "ModelDataUrl": prefix,
    }
    gamma_target = deployment.members.get(tenant=gamma).target
    assert gamma_target == "gamma-v1-g1.tar.gz"  # tenant, package version, generation that brought it
    runtime = client_for(aws.url, "sagemaker-runtime")
    answer = runtime.invoke_endpoint(
        EndpointName=deployment.aws_name,
        TargetModel=gamma_target,
        ContentType="text/csv",
        Body=b"12,70,1,3,12,0",
    )
    assert float(answer["Body"].read()) >= 0
    config_before = deployment.live_config_name
    apply(
        call=lambda: deployment_member_join(
            actor=world.operator, deployment=deployment, tenant=delta, model_package=package(delta)
        )
    )
    deployment.refresh_from_db()
    assert deployment.status == Status.IN_SERVICE
    assert deployment.live_config_name == config_before
    assert deployment.members.get(tenant=delta).state == "active"
    assert _keys(aws, deployment) == ["delta-v1-g2.tar.gz", gamma_target]
    assert _calls(deployment, "UpdateEndpoint") == 0
    apply(call=lambda: deployment_member_leave(actor=world.operator, deployment=deployment, tenant=delta))
    assert _keys(aws, deployment) == [gamma_target]
    assert list(deployment.members.values_list("tenant__slug", flat=True)) == ["gamma"]


def test_multi_model_artifacts_are_in_s3_before_create_model_and_the_last_tenant_deletes_it(
    world: SimpleNamespace, aws: Any, package: Any, apply: Apply
) -> None:
    gamma = _bridge("gamma")
    draft = Draft(name="MME", kind="multi_model", isolation="bridge", members=((gamma, package(gamma)),))
    deployment = apply(draft)
    assert deployment.status == Status.IN_SERVICE, deployment.last_error
    actions = list(
        DeploymentEvent.objects.filter(deployment=deployment, outcome="ok").values_list("action", flat=True)
    )
    assert actions.index("CopyObject") < actions.index("CreateModel")
    bigger = Draft.of(deployment, settings={**deployment.settings, "instance_count": 2})
    deployment = apply(
        call=lambda: deployment_apply(actor=world.operator, draft=bigger, deployment=deployment)
    )
    assert deployment.status == Status.IN_SERVICE, deployment.last_error
    assert deployment.live_model_name.endswith("-g2")  # a new model on the prefix its tenant keeps filled
    apply(call=lambda: deployment_member_leave(actor=world.operator, deployment=deployment, tenant=gamma))
    deployment.refresh_from_db()
    assert deployment.status == Status.DELETED
    assert _names(aws, "Endpoint", deployment.aws_name) == _names(aws, "Model", deployment.aws_name) == []
    assert _keys(aws, deployment) == []


ROWS = np.array([[12, 70, 1, 3, 12, 0], [3, 20, 0, 1, 40, 1]], dtype=np.float32)


def _scores(aws: Any, deployment: Deployment, target: str) -> np.ndarray:
    """The endpoint's predictions for ROWS from `target`, through InvokeEndpoint."""
    body = "\n".join(",".join(format(float(v), "g") for v in row) for row in ROWS).encode()
    answer = client_for(aws.url, "sagemaker-runtime").invoke_endpoint(
        EndpointName=deployment.aws_name, TargetModel=target, ContentType="text/csv", Body=body
    )
    return np.array([float(line) for line in answer["Body"].read().decode().split()])


def _copies(deployment: Deployment) -> list[str]:
    return list(
        DeploymentEvent.objects.filter(deployment=deployment, action="CopyObject").values_list(
            "resource", flat=True
        )
    )


def test_a_multi_model_member_changing_package_is_served_the_new_model_under_a_new_target(
    world: SimpleNamespace, aws: Any, package: Any, apply: Apply
) -> None:
    from emulator import artifacts

    gamma = _bridge("gamma")
    deployment = apply(
        Draft(name="MME", kind="multi_model", isolation="bridge", members=((gamma, package(gamma)),))
    )
    old_target = deployment.members.get().target
    np.testing.assert_allclose(
        _scores(aws, deployment, old_target),
        artifacts.train_xgboost("gamma").inplace_predict(ROWS),
        rtol=1e-6,
    )
    retrained = package(gamma, key="delta")  # gamma's version 2: another trained model
    apply(
        call=lambda: deployment_member_change(
            actor=world.operator, deployment=deployment, tenant=gamma, model_package=retrained
        )
    )
    deployment.refresh_from_db()
    member = deployment.members.get()
    assert deployment.status == Status.IN_SERVICE, deployment.last_error
    assert (member.target, member.pending_target, member.state) == ("gamma-v2-g2.tar.gz", "", "active")
    np.testing.assert_allclose(
        _scores(aws, deployment, member.target),
        artifacts.train_xgboost("delta").inplace_predict(ROWS),
        rtol=1e-6,
    )
    assert _keys(aws, deployment) == [member.target]  # the old object is gone, after the switch
    events = list(DeploymentEvent.objects.filter(deployment=deployment).values_list("action", "resource"))
    prefix = f"s3://{BUCKET}/mme/{deployment.aws_name}/"
    assert events.index(("CopyObject", prefix + member.target)) < events.index(
        ("DeleteObject", prefix + old_target)
    )
    assert _calls(deployment, "UpdateEndpoint") == 0


def test_a_tenant_rejoining_a_multi_model_endpoint_gets_a_new_target(
    world: SimpleNamespace, aws: Any, package: Any, apply: Apply
) -> None:
    gamma, delta = _bridge("gamma"), _bridge("delta")
    members = ((gamma, package(gamma)), (delta, package(delta)))
    deployment = apply(Draft(name="MME", kind="multi_model", isolation="bridge", members=members))
    first = deployment.members.get(tenant=delta).target
    apply(call=lambda: deployment_member_leave(actor=world.operator, deployment=deployment, tenant=delta))
    rejoined = apply(
        call=lambda: deployment_member_join(
            actor=world.operator, deployment=deployment, tenant=delta, model_package=package(delta)
        )
    )
    rejoined.refresh_from_db()
    assert rejoined.target != first
    assert rejoined.state == "active"
    assert _scores(aws, deployment, rejoined.target).shape == (2,)
    copies = _copies(deployment)
    assert len(copies) == len(set(copies)) == 3  # no object was ever written twice


def test_a_multi_container_member_changing_package_gets_a_new_container(
    world: SimpleNamespace, aws: Any, package: Any, apply: Apply
) -> None:
    gamma, delta = _bridge("gamma"), _bridge("delta")
    members = ((gamma, package(gamma)), (delta, package(delta)))
    delta_url = members[1][1].model_data_url
    deployment = apply(Draft(name="MCE", kind="multi_container", isolation="bridge", members=members))
    sklearn = package(gamma, "sklearn", key="sklearn")
    apply(
        call=lambda: deployment_member_change(
            actor=world.operator, deployment=deployment, tenant=gamma, model_package=sklearn
        )
    )
    deployment.refresh_from_db()
    assert deployment.status == Status.IN_SERVICE, deployment.last_error
    containers = aws.sagemaker.describe_model(ModelName=deployment.live_model_name)["Containers"]
    served = {c["ContainerHostname"]: c["ModelDataUrl"] for c in containers}
    assert served == {"gamma": sklearn.model_data_url, "delta": delta_url}
    assert _calls(deployment, "UpdateEndpoint") == 1


def test_multi_container_tenants_join_and_leave_with_update_endpoint(
    world: SimpleNamespace, aws: Any, package: Any, apply: Apply
) -> None:
    gamma, delta, epsilon = _bridge("gamma"), _bridge("delta"), _bridge("epsilon")
    sklearn = package(delta, "sklearn", key="sklearn")
    deployment = apply(
        Draft(
            name="Bridge MCE",
            kind="multi_container",
            isolation="bridge",
            members=((gamma, package(gamma)), (delta, sklearn)),
        )
    )
    assert deployment.status == Status.IN_SERVICE, deployment.last_error
    model = aws.sagemaker.describe_model(ModelName=deployment.live_model_name)
    assert [c["ContainerHostname"] for c in model["Containers"]] == ["delta", "gamma"]
    assert model["InferenceExecutionConfig"] == {"Mode": "Direct"}
    apply(
        call=lambda: deployment_member_join(
            actor=world.operator,
            deployment=deployment,
            tenant=epsilon,
            model_package=package(epsilon, key="alpha"),
        )
    )
    deployment.refresh_from_db()
    assert deployment.status == Status.IN_SERVICE, deployment.last_error
    model = aws.sagemaker.describe_model(ModelName=deployment.live_model_name)
    assert [c["ContainerHostname"] for c in model["Containers"]] == ["delta", "epsilon", "gamma"]
    assert (
        aws.sagemaker.describe_endpoint(EndpointName=deployment.aws_name)["EndpointConfigName"]
        == deployment.live_config_name
    )
    assert len(_names(aws, "EndpointConfig", deployment.aws_name)) == 1
    apply(call=lambda: deployment_member_leave(actor=world.operator, deployment=deployment, tenant=delta))
    deployment.refresh_from_db()
    model = aws.sagemaker.describe_model(ModelName=deployment.live_model_name)
    assert [c["ContainerHostname"] for c in model["Containers"]] == ["epsilon", "gamma"]
    assert _calls(deployment, "UpdateEndpoint") == 2
    # Two containers is the least AWS documents for a multi-container endpoint: the next leave waits.
    with pytest.raises(ValidationError, match="cannot leave Bridge MCE yet"):
        deployment_member_leave(actor=world.operator, deployment=deployment, tenant=gamma)
    deployment = apply(call=lambda: deployment_delete(actor=world.operator, deployment=deployment))
    assert deployment.status == Status.DELETED
    assert _names(aws, "Endpoint", deployment.aws_name) == []


def test_a_pool_endpoint_serves_members_with_one_shared_model(
    world: SimpleNamespace, aws: Any, package: Any, apply: Apply
) -> None:
    stark = make_tenant(slug="stark", isolation="pool")
    deployment = apply(
        Draft(
            name="Pool",
            kind="realtime",
            isolation="pool",
            model_package=package(None),
            members=((stark, None),),
        )
    )
    assert deployment.status == Status.IN_SERVICE, deployment.last_error
    wayne = make_tenant(slug="wayne", isolation="pool")
    apply(
        call=lambda: deployment_member_join(
            actor=world.operator, deployment=deployment, tenant=wayne, model_package=None
        )
    )
    deployment.refresh_from_db()
    assert deployment.status == Status.IN_SERVICE
    assert sorted(deployment.members.values_list("target", flat=True)) == ["stark", "wayne"]
    assert _calls(deployment, "CreateEndpoint") == 1
    assert _calls(deployment, "UpdateEndpoint") == 0


def test_teardown_deletes_own_resources_leaves_shared_ones_and_offboards(
    world: SimpleNamespace, aws: Any, package: Any, apply: Apply
) -> None:
    gamma, delta = _bridge("gamma"), _bridge("delta")
    mme = apply(
        Draft(
            name="MME",
            kind="multi_model",
            isolation="bridge",
            members=((gamma, package(gamma)), (delta, package(delta))),
        )
    )
    own = apply(
        Draft(
            name="Gamma async", kind="async", isolation="bridge", tenant=gamma, model_package=package(gamma)
        )
    )
    assert own.status == mme.status == Status.IN_SERVICE
    counts = apply(call=lambda: tenant_teardown(actor=world.operator, tenant=gamma))
    assert counts == {"deleting": 1, "leaving": 1, "held": 0}
    own.refresh_from_db()
    mme.refresh_from_db()
    gamma.refresh_from_db()
    assert own.status == Status.DELETED
    assert mme.status == Status.IN_SERVICE
    assert list(mme.members.values_list("tenant__slug", flat=True)) == ["delta"]
    assert _keys(aws, mme) == ["delta-v1-g1.tar.gz"]
    assert gamma.status == "offboarded"
    scaling = client_for(aws.url, "application-autoscaling").describe_scalable_targets(
        ServiceNamespace="sagemaker"
    )
    assert not [t for t in scaling["ScalableTargets"] if own.aws_name in t["ResourceId"]]
    alarms = client_for(aws.url, "cloudwatch").describe_alarms(AlarmNames=[f"{own.aws_name}-wake"])
    assert alarms["MetricAlarms"] == []


def _creating(world: SimpleNamespace, package: Any, emulator_url: str, settings: Any) -> Deployment:
    """A Silo real-time deployment whose endpoint is still Creating on the slow emulator at `emulator_url`."""
    settings.EMULATOR_URL = emulator_url
    tenant = world.tenant_a
    draft = Draft(name="A", kind="realtime", isolation="silo", tenant=tenant, model_package=package(tenant))
    deployment = deployment_apply(actor=world.operator, draft=draft)
    assert deployment_advance(deployment_id=deployment.pk, tenant_id=tenant.pk) == Status.CREATING
    deployment.refresh_from_db()
    return deployment


def test_a_change_during_creation_is_rolled_out_once_the_endpoint_is_up(
    world: SimpleNamespace,
    aws: Any,
    package: Any,
    apply: Apply,
    slow_emulator_factory: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    deployment = _creating(world, package, slow_emulator_factory(0.5).url, settings)
    bigger = Draft.of(deployment, settings={**deployment.settings, "instance_count": 2})
    deployment = apply(
        call=lambda: deployment_apply(actor=world.operator, draft=bigger, deployment=deployment)
    )
    assert deployment.status == Status.IN_SERVICE, deployment.last_error
    assert deployment.observed_generation == 2
    sagemaker = client_for(settings.EMULATOR_URL, "sagemaker")
    described = sagemaker.describe_endpoint(EndpointName=deployment.aws_name)
    assert described["EndpointConfigName"] == deployment.live_config_name == f"{deployment.aws_name}-g2"
    assert described["ProductionVariants"][0]["CurrentInstanceCount"] == 2
    configs = sagemaker.list_endpoint_configs(NameContains=deployment.aws_name)["EndpointConfigs"]
    assert [c["EndpointConfigName"] for c in configs] == [deployment.live_config_name]


def _scaling(aws: Any, deployment: Deployment) -> tuple[list[dict[str, Any]], list[str]]:
    """The endpoint's scalable targets and the types of its scaling policies."""
    autoscaling = client_for(aws.url, "application-autoscaling")
    resource = f"endpoint/{deployment.aws_name}/variant/AllTraffic"
    targets = autoscaling.describe_scalable_targets(ServiceNamespace="sagemaker", ResourceIds=[resource])
    policies = autoscaling.describe_scaling_policies(ServiceNamespace="sagemaker", ResourceId=resource)
    return targets["ScalableTargets"], sorted(p["PolicyType"] for p in policies["ScalingPolicies"])


def _async(world: SimpleNamespace, package: Any, apply: Apply) -> Deployment:
    tenant = world.tenant_a
    deployment = apply(
        Draft(name="Async", kind="async", isolation="silo", tenant=tenant, model_package=package(tenant))
    )
    assert deployment.status == Status.IN_SERVICE, deployment.last_error
    return deployment


def test_an_async_endpoint_changes_instance_type_with_scaling_off_during_the_update(
    world: SimpleNamespace, aws: Any, package: Any, apply: Apply
) -> None:
    deployment = _async(world, package, apply)
    bigger = Draft.of(deployment, settings={**deployment.settings, "instance_type": "ml.m5.xlarge"})
    deployment = apply(
        call=lambda: deployment_apply(actor=world.operator, draft=bigger, deployment=deployment)
    )
    assert deployment.status == Status.IN_SERVICE, deployment.last_error
    config = aws.sagemaker.describe_endpoint_config(EndpointConfigName=deployment.live_config_name)
    assert config["ProductionVariants"][0]["InstanceType"] == "ml.m5.xlarge"
    targets, policies = _scaling(aws, deployment)
    assert [(t["MinCapacity"], t["MaxCapacity"]) for t in targets] == [(0, 2)]
    assert policies == ["StepScaling", "TargetTrackingScaling"]
    calls = list(
        DeploymentEvent.objects.filter(deployment=deployment, outcome="ok")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    update = calls.index("UpdateEndpoint")
    assert "DeregisterScalableTarget" in calls[:update]
    assert "RegisterScalableTarget" in calls[update:]


def test_deleting_an_async_deployment_whose_scalable_target_is_gone_succeeds(
    world: SimpleNamespace, aws: Any, package: Any, apply: Apply
) -> None:
    deployment = _async(world, package, apply)
    client_for(aws.url, "application-autoscaling").deregister_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=f"endpoint/{deployment.aws_name}/variant/AllTraffic",
        ScalableDimension="sagemaker:variant:DesiredInstanceCount",
    )
    deployment = apply(call=lambda: deployment_delete(actor=world.operator, deployment=deployment))
    assert deployment.status == Status.DELETED, deployment.last_error
    assert _names(aws, "Endpoint", deployment.aws_name) == []


def test_an_async_update_rolled_back_by_sagemaker_leaves_scaling_on(
    world: SimpleNamespace, aws: Any, package: Any, apply: Apply
) -> None:
    deployment = _async(world, package, apply)
    aws.s3.put_object(Bucket=BUCKET, Key="models/broken/model.tar.gz", Body=b"not a tar archive")
    broken = package(world.tenant_a, key="broken")
    change = Draft.of(deployment, model_package=broken)
    deployment = apply(
        call=lambda: deployment_apply(actor=world.operator, draft=change, deployment=deployment)
    )
    assert deployment.status == Status.FAILED
    assert "rolled back" in deployment.last_error
    targets, policies = _scaling(aws, deployment)
    assert len(targets) == 1
    assert policies == ["StepScaling", "TargetTrackingScaling"]


def test_a_batch_run_sends_the_invocation_timeout_and_retries_it_was_given(
    world: SimpleNamespace, aws: Any, package: Any, apply: Apply
) -> None:
    settings = {"schedule": "daily", "invocations_timeout_seconds": 1800, "invocations_max_retries": 1}
    deployment = apply(
        Draft(
            name="Alpha slow model",
            kind="batch",
            isolation="silo",
            tenant=world.tenant_a,
            model_package=package(None),
            settings=settings,
        )
    )
    run = TransformRun.objects.get(deployment=deployment)
    assert run.status == RunStatus.COMPLETED, run.failure_reason
    job = aws.sagemaker.describe_transform_job(TransformJobName=run.job_name)
    assert job["ModelClientConfig"] == {"InvocationsTimeoutInSeconds": 1800, "InvocationsMaxRetries": 1}


def test_deleting_a_deployment_whose_endpoint_is_still_creating_waits_then_deletes(
    world: SimpleNamespace,
    aws: Any,
    package: Any,
    apply: Apply,
    slow_emulator_factory: Any,
    settings: Any,
    run_worker: Any,
) -> None:
    # SageMaker refuses DeleteEndpoint while the endpoint is Creating ('Cannot update in-progress
    # endpoint'): the deletion waits for the endpoint to settle and deletes it then, not fail. Creating
    # lasts minutes on AWS (ten for a GPU endpoint): a wait, not one of the few retries of a flaky call.
    settings.DEPLOYMENT_RETRY_FOR_SECONDS = 0  # a refusal counted as a transient error would fail at once
    deployment = _creating(world, package, slow_emulator_factory(2.5).url, settings)
    deployment = apply(call=lambda: deployment_delete(actor=world.operator, deployment=deployment))
    deadline = time.monotonic() + 60  # polls run back to back: on a fast machine 200 bursts outrun 5 s
    while deployment.status == Status.DELETING and time.monotonic() < deadline:
        time.sleep(0.2)
        run_worker()
        deployment.refresh_from_db()
    assert deployment.status == Status.DELETED, deployment.last_error
    refused = DeploymentEvent.objects.filter(
        deployment=deployment, action="DeleteEndpoint", outcome="InProgress"
    )
    assert refused.exists()
    assert _calls(deployment, "DeleteEndpoint") == 1
    slow = SimpleNamespace(sagemaker=client_for(settings.EMULATOR_URL, "sagemaker"))
    for kind in ("Endpoint", "EndpointConfig", "Model"):
        assert _names(slow, kind, deployment.aws_name) == []
