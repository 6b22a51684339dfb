"""SageMaker and Application Auto Scaling together, as AWS documents them in the SageMaker Developer Guide's
"Update or delete endpoints that use auto scaling" (https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-scaling.html):
UpdateEndpoint refuses to change the instance type of a variant registered as a scalable target, and
DeleteEndpoint deregisters the endpoint's targets (with their policies)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator.testing import wait_endpoint, xgboost_model

DIMENSION = "sagemaker:variant:DesiredInstanceCount"


@pytest.fixture
def scaled(
    sagemaker: Any, aws: Callable[[str], Any], demo: Any, deploy: Callable[..., str], name: str
) -> dict[str, Any]:
    """An endpoint whose AllTraffic variant is a scalable target with a policy."""
    deploy(name, model=xgboost_model(demo.models["acme"]))
    target = {
        "ServiceNamespace": "sagemaker",
        "ResourceId": f"endpoint/{name}/variant/AllTraffic",
        "ScalableDimension": DIMENSION,
    }
    autoscaling = aws("application-autoscaling")
    autoscaling.register_scalable_target(**target, MinCapacity=0, MaxCapacity=2)
    autoscaling.put_scaling_policy(
        **target,
        PolicyName=f"{name}-step",
        PolicyType="StepScaling",
        StepScalingPolicyConfiguration={
            "AdjustmentType": "ChangeInCapacity",
            "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}],
        },
    )
    return {"name": name, "target": target, "autoscaling": autoscaling}


def _config(sagemaker: Any, name: str, model: str, instance_type: str) -> str:
    variant = {
        "VariantName": "AllTraffic",
        "ModelName": model,
        "InstanceType": instance_type,
        "InitialInstanceCount": 1,
    }
    sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[variant])
    return name


def test_an_instance_type_change_of_a_scaled_variant_is_refused(
    sagemaker: Any, scaled: dict[str, Any]
) -> None:
    name = scaled["name"]
    bigger = _config(sagemaker, f"{name}-xl", name, "ml.m5.xlarge")
    with pytest.raises(ClientError) as refused:
        sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=bigger)
    error = refused.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert "DeregisterScalableTarget" in error["Message"]
    assert '"[AllTraffic]"' in error["Message"]
    assert sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"] == "InService"


def test_once_deregistered_the_instance_type_can_change(sagemaker: Any, scaled: dict[str, Any]) -> None:
    name = scaled["name"]
    scaled["autoscaling"].deregister_scalable_target(**scaled["target"])
    bigger = _config(sagemaker, f"{name}-xl", name, "ml.m5.xlarge")
    sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=bigger)
    assert wait_endpoint(sagemaker, name)["EndpointConfigName"] == bigger


def test_a_model_change_on_the_same_instance_type_is_allowed(
    sagemaker: Any, demo: Any, scaled: dict[str, Any]
) -> None:
    name = scaled["name"]
    sagemaker.create_model(ModelName=f"{name}-b", **xgboost_model(demo.models["globex"]))
    same = _config(sagemaker, f"{name}-b", f"{name}-b", "ml.m6i.large")
    sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=same)
    assert wait_endpoint(sagemaker, name)["EndpointConfigName"] == same


def test_deleting_the_endpoint_deregisters_its_target_and_policies(
    sagemaker: Any, scaled: dict[str, Any]
) -> None:
    autoscaling, target = scaled["autoscaling"], scaled["target"]
    sagemaker.delete_endpoint(EndpointName=scaled["name"])
    targets = autoscaling.describe_scalable_targets(
        ServiceNamespace="sagemaker", ResourceIds=[target["ResourceId"]]
    )
    assert targets["ScalableTargets"] == []
    policies = autoscaling.describe_scaling_policies(
        ServiceNamespace="sagemaker", ResourceId=target["ResourceId"]
    )
    assert policies["ScalingPolicies"] == []
