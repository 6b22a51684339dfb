"""Account quotas and the multi-model memory budget, each on an emulator of its own."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

import emulator
from emulator.testing import (
    BUCKET,
    XGBOOST_IMAGE,
    client_kwargs,
    metric_statistics,
    wait_endpoint,
    wait_until,
)


def test_instances_past_the_quota_are_a_resource_limit(demo: Any) -> None:
    with emulator.start(port=0, instances_per_type=2) as handle:
        sagemaker = boto3.client("sagemaker", **client_kwargs(handle.url))
        sagemaker.create_model(
            ModelName="q", PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": demo.models["acme"]}
        )
        variant = {
            "VariantName": "v",
            "ModelName": "q",
            "InstanceType": "ml.m5.large",
            "InitialInstanceCount": 2,
        }
        sagemaker.create_endpoint_config(EndpointConfigName="q", ProductionVariants=[variant])
        sagemaker.create_endpoint(EndpointName="q1", EndpointConfigName="q")
        with pytest.raises(ClientError) as excinfo:
            sagemaker.create_endpoint(EndpointName="q2", EndpointConfigName="q")
        assert excinfo.value.response["Error"]["Code"] == "ResourceLimitExceeded"
        assert "ml.m5.large for endpoint usage" in excinfo.value.response["Error"]["Message"]


def test_a_multi_model_endpoint_evicts_the_least_recently_used_model(demo: Any) -> None:
    # A budget smaller than two models: every switch of tenant is a cold load.
    with emulator.start(port=0, mme_budget_bytes=1) as handle:
        kwargs = client_kwargs(handle.url)
        sagemaker, runtime = boto3.client("sagemaker", **kwargs), boto3.client("sagemaker-runtime", **kwargs)
        container = {"Image": XGBOOST_IMAGE, "Mode": "MultiModel", "ModelDataUrl": f"s3://{BUCKET}/models/"}
        sagemaker.create_model(ModelName="lru", PrimaryContainer=container)
        variant = {
            "VariantName": "AllTraffic",
            "ModelName": "lru",
            "InstanceType": "ml.m5.large",
            "InitialInstanceCount": 1,
        }
        sagemaker.create_endpoint_config(EndpointConfigName="lru", ProductionVariants=[variant])
        sagemaker.create_endpoint(EndpointName="lru", EndpointConfigName="lru")
        wait_endpoint(sagemaker, "lru")
        for target in ("acme", "acme", "globex", "acme"):
            runtime.invoke_endpoint(
                EndpointName="lru",
                Body=b"1,2,3,4,5,6",
                ContentType="text/csv",
                TargetModel=f"{target}/model.tar.gz",
            )
        cloudwatch = boto3.client("cloudwatch", **kwargs)
        wait_until(lambda: metric_statistics(cloudwatch, "lru", "ModelCacheHit")["SampleCount"] == 4)
        assert metric_statistics(cloudwatch, "lru", "ModelCacheHit")["Sum"] == 1
        assert metric_statistics(cloudwatch, "lru", "ModelLoadingWaitTime")["SampleCount"] == 3
