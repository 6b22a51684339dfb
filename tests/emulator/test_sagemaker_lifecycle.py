"""State transitions driven by time: an emulator whose transitions take a fraction of a second."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

import emulator
from emulator.testing import (
    BUCKET,
    client_kwargs,
    endpoint_status,
    model_on_vanished_artifact,
    wait_endpoint,
    wait_job,
    xgboost_model,
)


@pytest.fixture(scope="module")
def delayed(delayed_emulator: emulator.EmulatorHandle, demo: Any) -> dict[str, Any]:
    """SageMaker clients for the delayed emulator (S3 is moto's, shared with the other emulator)."""
    kwargs = client_kwargs(delayed_emulator.url)
    return {
        "sagemaker": boto3.client("sagemaker", **kwargs),
        "runtime": boto3.client("sagemaker-runtime", **kwargs),
    }


def model_and_config(
    sagemaker: Any, name: str, model_data_url: str | None, instance_type: str = "ml.m5.large"
) -> None:
    """An XGBoost model (unless `model_data_url` is None: it exists) and a config serving it, named `name`."""
    if model_data_url is not None:
        sagemaker.create_model(ModelName=name, **xgboost_model(model_data_url))
    variant = {
        "VariantName": "v",
        "ModelName": name,
        "InstanceType": instance_type,
        "InitialInstanceCount": 1,
    }
    sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[variant])


def create(sagemaker: Any, name: str, model_data_url: str | None, instance_type: str = "ml.m5.large") -> None:
    """Model (unless `model_data_url` is None: it exists), config and endpoint, without waiting."""
    model_and_config(sagemaker, name, model_data_url, instance_type)
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)


def test_an_endpoint_is_creating_until_the_delay_is_over(
    delayed: dict[str, Any], demo: Any, name: str
) -> None:
    sagemaker = delayed["sagemaker"]
    create(sagemaker, name, demo.models["acme"])
    assert endpoint_status(sagemaker, name) == "Creating"
    with pytest.raises(ClientError, match="not found"):
        delayed["runtime"].invoke_endpoint(EndpointName=name, Body=b"1,2,3,4,5,6", ContentType="text/csv")
    with pytest.raises(ClientError, match="Cannot update in-progress endpoint"):
        sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=name)
    wait_endpoint(sagemaker, name)


def test_an_update_keeps_serving_the_old_config_until_it_is_done(
    delayed: dict[str, Any], demo: Any, name: str
) -> None:
    sagemaker, runtime = delayed["sagemaker"], delayed["runtime"]
    create(sagemaker, name, demo.models["acme"])
    wait_endpoint(sagemaker, name)
    model_and_config(sagemaker, f"{name}-b", demo.models["globex"], "ml.c6i.large")
    before = runtime.invoke_endpoint(EndpointName=name, Body=b"12,70,1,3,12,0", ContentType="text/csv")[
        "Body"
    ].read()
    sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=f"{name}-b")
    described = sagemaker.describe_endpoint(EndpointName=name)
    assert described["EndpointStatus"] == "Updating"
    assert described["EndpointConfigName"] == name
    assert described["PendingDeploymentSummary"]["EndpointConfigName"] == f"{name}-b"
    during = runtime.invoke_endpoint(EndpointName=name, Body=b"12,70,1,3,12,0", ContentType="text/csv")[
        "Body"
    ].read()
    assert during == before
    assert wait_endpoint(sagemaker, name)["EndpointConfigName"] == f"{name}-b"
    after = runtime.invoke_endpoint(EndpointName=name, Body=b"12,70,1,3,12,0", ContentType="text/csv")[
        "Body"
    ].read()
    assert after != before


def test_a_deleted_endpoint_is_deleting_then_gone(delayed: dict[str, Any], demo: Any, name: str) -> None:
    sagemaker = delayed["sagemaker"]
    create(sagemaker, name, demo.models["acme"])
    wait_endpoint(sagemaker, name)
    sagemaker.delete_endpoint(EndpointName=name)
    assert endpoint_status(sagemaker, name) == "Deleting"
    wait_endpoint(sagemaker, name, "Gone")


def test_deleting_an_endpoint_that_is_creating_or_updating_is_refused(
    delayed: dict[str, Any], demo: Any, name: str
) -> None:
    """AWS refuses DeleteEndpoint mid-transition with the ValidationException UpdateEndpoint gives.

    The API reference (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DeleteEndpoint.html)
    lists only the common errors; the wording is the one AWS's own SageMaker operator for Kubernetes
    (aws/amazon-sagemaker-operator-for-k8s, clientwrapper: DeleteEndpointInProgressMessagePrefix) matches.
    """
    sagemaker = delayed["sagemaker"]
    refusal = (
        f'Cannot update in-progress endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint/{name}".'
    )
    create(sagemaker, name, demo.models["acme"])
    with pytest.raises(ClientError) as creating:
        sagemaker.delete_endpoint(EndpointName=name)
    assert creating.value.response["Error"] == {"Code": "ValidationException", "Message": refusal}
    assert creating.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    wait_endpoint(sagemaker, name)  # the refused delete changed nothing: it still comes up
    model_and_config(sagemaker, f"{name}-b", demo.models["globex"])
    sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=f"{name}-b")
    with pytest.raises(ClientError) as updating:
        sagemaker.delete_endpoint(EndpointName=name)
    assert updating.value.response["Error"] == {"Code": "ValidationException", "Message": refusal}
    assert wait_endpoint(sagemaker, name)["EndpointConfigName"] == f"{name}-b"
    sagemaker.delete_endpoint(EndpointName=name)  # in service again: the delete is accepted
    wait_endpoint(sagemaker, name, "Gone")


def test_a_missing_artifact_fails_the_endpoint_after_the_delay(
    delayed: dict[str, Any], s3: Any, name: str
) -> None:
    sagemaker = delayed["sagemaker"]
    model_on_vanished_artifact(s3, sagemaker, name)
    create(sagemaker, name, None)
    assert endpoint_status(sagemaker, name) == "Creating"
    described = wait_endpoint(sagemaker, name, "Failed")
    assert "Failed to download model data" in described["FailureReason"]
    sagemaker.delete_endpoint(EndpointName=name)


def test_a_stopped_transform_job_goes_stopping_then_stopped(
    delayed: dict[str, Any], demo: Any, name: str
) -> None:
    sagemaker = delayed["sagemaker"]
    sagemaker.create_model(ModelName=name, **xgboost_model(demo.models["acme"]))
    sagemaker.create_transform_job(
        TransformJobName=name,
        ModelName=name,
        TransformInput={
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": demo.datasets["acme"]}},
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        TransformOutput={"S3OutputPath": f"s3://{BUCKET}/{name}/out"},
        TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1},
    )
    assert sagemaker.describe_transform_job(TransformJobName=name)["TransformJobStatus"] == "InProgress"
    sagemaker.stop_transform_job(TransformJobName=name)
    assert sagemaker.describe_transform_job(TransformJobName=name)["TransformJobStatus"] == "Stopping"
    assert wait_job(sagemaker, name)["TransformJobStatus"] == "Stopped"


def test_a_failed_update_rolls_back_to_the_serving_config(
    delayed: dict[str, Any], s3: Any, demo: Any, name: str
) -> None:
    sagemaker = delayed["sagemaker"]
    create(sagemaker, name, demo.models["acme"])
    wait_endpoint(sagemaker, name)
    model_on_vanished_artifact(s3, sagemaker, f"{name}-bad")
    model_and_config(sagemaker, f"{name}-bad", None)
    sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=f"{name}-bad")
    described = wait_endpoint(sagemaker, name)
    assert described["EndpointConfigName"] == name
    assert "Failed to download model data" in described["FailureReason"]
    delayed["runtime"].invoke_endpoint(EndpointName=name, Body=b"1,2,3,4,5,6", ContentType="text/csv")


def test_accelerated_endpoints_take_longer_to_create() -> None:
    """GPU endpoints are slower to create on AWS; the emulator scales their delay, and only theirs."""
    from emulator.state import Settings

    settings = Settings(delay=3.0, accelerated_delay_factor=200)
    gpu = {"variants": [{"InstanceType": "ml.g5.xlarge", "InitialInstanceCount": 1}]}
    cpu = {"variants": [{"InstanceType": "ml.m5.large", "InitialInstanceCount": 1}]}
    serverless = {"variants": [{"ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5}}]}
    assert settings.endpoint_delay(gpu) == 600
    assert settings.endpoint_delay(cpu) == 3
    assert settings.endpoint_delay(serverless) == 3
