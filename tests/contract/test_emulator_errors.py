"""The emulator's side of the contract: for each error class the product handles (already exists, not
found, in progress, throttled, validation), the code and message the emulator answers through boto3,
against what AWS documents, and the class `deployments.aws.clients.convert` turns it into.

SageMaker's API reference documents error *codes* per operation, and the shared ones on
https://docs.aws.amazon.com/sagemaker/latest/APIReference/CommonErrors.html; it rarely documents the
*message*. Where it does not, the test says so and holds the emulator to the wording AWS is seen to
answer in public reports, which the product's classification relies on.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import emulator
from deployments.aws import AlreadyExists, AwsError, InProgress, NotFound, Terminal, Throttled
from deployments.aws.clients import convert
from emulator.testing import ROLE, XGBOOST_IMAGE, client_kwargs, wait_endpoint
from tests.contract.conftest import BUCKET
from tests.contract.shapes import operation_model

ACCOUNT = "123456789012"
ARTIFACT = f"s3://{BUCKET}/models/alpha/model.tar.gz"
INSTANCES = {"InstanceType": "ml.m5.large", "InitialInstanceCount": 1}
SERVERLESS = {"ServerlessConfig": {"MemorySizeInMB": 1024, "MaxConcurrency": 1}}


def arn(kind: str, name: str) -> str:
    # SageMaker's ARNs carry the name in lower case (aws/amazon-sagemaker-examples#293 shows one).
    return f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:{kind}/{name.lower()}"


def refusal(action: Callable[[], Any]) -> ClientError:
    with pytest.raises(ClientError) as excinfo:
        action()
    return excinfo.value


def code_and_message(error: ClientError) -> tuple[str, str]:
    return error.response["Error"]["Code"], error.response["Error"]["Message"]


def assert_converted(error: ClientError, kind: type[AwsError]) -> None:
    """The product's seam turns the answer into `kind` (and nothing more general or more specific)."""
    assert type(convert(error)) is kind


def name() -> str:
    return f"contract-{uuid.uuid4().hex[:10]}"


def clients(url: str, **config: Any) -> tuple[Any, Any]:
    kwargs = {**client_kwargs(url), "config": Config(**config)} if config else client_kwargs(url)
    return boto3.client("sagemaker", **kwargs), boto3.client("sagemaker-runtime", **kwargs)


def deploy(sagemaker: Any, resource: str, variant: dict[str, Any], *, wait: bool = True) -> None:
    sagemaker.create_model(
        ModelName=resource,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": ARTIFACT},
    )
    production = [{"VariantName": "AllTraffic", "ModelName": resource, **variant}]
    sagemaker.create_endpoint_config(EndpointConfigName=resource, ProductionVariants=production)
    sagemaker.create_endpoint(EndpointName=resource, EndpointConfigName=resource)
    if wait:
        wait_endpoint(sagemaker, resource)


@pytest.fixture(scope="module")
def sagemaker(emulator_handle: Any, demo_artifacts: Any) -> Any:
    return clients(emulator_handle.url)[0]


@pytest.fixture(scope="module")
def slow(demo_artifacts: Any) -> Iterator[Any]:
    """An emulator whose endpoints stay Creating for two seconds."""
    with emulator.start(port=0, delays=2.0) as handle:
        yield handle


@pytest.fixture(scope="module")
def cold(demo_artifacts: Any) -> Iterator[Any]:
    """An emulator whose serverless endpoints take half a second to answer their first call, holding
    their only concurrency slot meanwhile."""
    with emulator.start(port=0, cold_start_seconds=0.5, serverless_idle_seconds=60) as handle:
        yield handle


# Already exists ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "label"),
    [("model", "model"), ("endpoint-config", "endpoint configuration"), ("endpoint", "endpoint")],
)
def test_a_second_create_of_a_name_is_cannot_create_already_existing(
    sagemaker: Any, kind: str, label: str
) -> None:
    """API_CreateModel.html, API_CreateEndpointConfig.html and API_CreateEndpoint.html list only
    ResourceLimitExceeded: the duplicate answer is undocumented there. AWS answers ValidationException
    `Cannot create already existing model "<arn>".` (and `endpoint configuration`, `endpoint`), as public
    reports show (aws/amazon-sagemaker-examples#2491, astronomer/astronomer-providers#1055,
    awslabs/spot-tagging-bot-for-digital-assets#2)."""
    resource = name()
    deploy(sagemaker, resource, INSTANCES, wait=False)
    again = {
        "model": lambda: sagemaker.create_model(
            ModelName=resource,
            ExecutionRoleArn=ROLE,
            PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": ARTIFACT},
        ),
        "endpoint-config": lambda: sagemaker.create_endpoint_config(
            EndpointConfigName=resource,
            ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": resource, **INSTANCES}],
        ),
        "endpoint": lambda: sagemaker.create_endpoint(EndpointName=resource, EndpointConfigName=resource),
    }[kind]
    error = refusal(again)
    assert code_and_message(error) == (
        "ValidationException",
        f'Cannot create already existing {label} "{arn(kind, resource)}".',
    )
    assert_converted(error, AlreadyExists)


def test_a_second_transform_job_of_a_name_is_resource_in_use(sagemaker: Any) -> None:
    """API_CreateTransformJob.html documents ResourceInUse ("Resource being accessed is in use.", HTTP 400)
    for a name already used; the message naming the job is undocumented. The product reads any
    "already exists" as AlreadyExists, so the message must say so."""
    resource = name()
    sagemaker.create_model(
        ModelName=resource,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": ARTIFACT},
    )
    job = {
        "TransformJobName": resource,
        "ModelName": resource,
        "TransformInput": {
            "DataSource": {
                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/datasets/alpha/input/"}
            }
        },
        "TransformOutput": {"S3OutputPath": f"s3://{BUCKET}/contract/{resource}/"},
        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
    }
    sagemaker.create_transform_job(**job)
    error = refusal(lambda: sagemaker.create_transform_job(**job))
    code, message = code_and_message(error)
    assert code == "ResourceInUse"
    assert "already exists" in message
    assert arn("transform-job", resource) in message
    assert_converted(error, AlreadyExists)


# Not found -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "label"),
    [("model", "model"), ("endpoint-config", "endpoint configuration"), ("endpoint", "endpoint")],
)
def test_describing_a_missing_resource_is_could_not_find(sagemaker: Any, kind: str, label: str) -> None:
    """API_DescribeModel.html, API_DescribeEndpointConfig.html and API_DescribeEndpoint.html document no
    error for a missing name. AWS answers ValidationException `Could not find endpoint "<arn>".`: AWS's
    own SageMaker operator for Kubernetes (aws/amazon-sagemaker-operator-for-k8s, clientwrapper) treats
    exactly that code and prefix as "not found", as do public reports (aws/amazon-sagemaker-examples#2402)."""
    resource = name()
    describe = {
        "model": lambda: sagemaker.describe_model(ModelName=resource),
        "endpoint-config": lambda: sagemaker.describe_endpoint_config(EndpointConfigName=resource),
        "endpoint": lambda: sagemaker.describe_endpoint(EndpointName=resource),
    }[kind]
    error = refusal(describe)
    assert code_and_message(error) == (
        "ValidationException",
        f'Could not find {label} "{arn(kind, resource)}".',
    )
    assert_converted(error, NotFound)


def test_describing_a_missing_transform_job_is_resource_not_found(sagemaker: Any) -> None:
    """API_DescribeTransformJob.html documents ResourceNotFound ("Resource being access is not found.",
    HTTP 400); the message AWS puts in the answer is undocumented."""
    error = refusal(lambda: sagemaker.describe_transform_job(TransformJobName=name()))
    assert code_and_message(error)[0] == "ResourceNotFound"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert_converted(error, NotFound)


def test_deregistering_a_missing_scalable_target_is_object_not_found(emulator_handle: Any) -> None:
    """API_DeregisterScalableTarget.html (Application Auto Scaling) documents ObjectNotFoundException
    for a target that is not registered; AWS words it `No scalable target registered for service
    namespace: …, resource ID: …, scalable dimension: …` (public report: ansible/ansible#40237)."""
    autoscaling = boto3.client("application-autoscaling", **client_kwargs(emulator_handle.url))
    resource_id = f"endpoint/{name()}/variant/AllTraffic"
    error = refusal(
        lambda: autoscaling.deregister_scalable_target(
            ServiceNamespace="sagemaker",
            ResourceId=resource_id,
            ScalableDimension="sagemaker:variant:DesiredInstanceCount",
        )
    )
    code, message = code_and_message(error)
    assert code == "ObjectNotFoundException"
    assert message.startswith("No scalable target registered for service namespace: sagemaker")
    assert_converted(error, NotFound)


# In progress ---------------------------------------------------------------------------------------


def test_updating_an_endpoint_still_creating_is_cannot_update_in_progress(slow: Any) -> None:
    """API_UpdateEndpoint.html lists only ResourceLimitExceeded. AWS answers ValidationException
    `Cannot update in-progress endpoint "<arn>".` while the endpoint is Creating or Updating (the
    wording AWS's SageMaker operator for Kubernetes matches on; public reports quote it too)."""
    sagemaker = clients(slow.url)[0]
    resource = name()
    deploy(sagemaker, resource, INSTANCES, wait=False)
    error = refusal(lambda: sagemaker.update_endpoint(EndpointName=resource, EndpointConfigName=resource))
    assert code_and_message(error) == (
        "ValidationException",
        f'Cannot update in-progress endpoint "{arn("endpoint", resource)}".',
    )
    assert_converted(error, InProgress)


def test_deleting_an_endpoint_still_creating_is_cannot_update_in_progress(slow: Any) -> None:
    """API_DeleteEndpoint.html documents no error; AWS refuses to delete an endpoint that is Creating or
    Updating with the same ValidationException `Cannot update in-progress endpoint "<arn>".`
    (aws/amazon-sagemaker-operator-for-k8s names it DeleteEndpointInProgressMessagePrefix)."""
    sagemaker = clients(slow.url)[0]
    resource = name()
    deploy(sagemaker, resource, INSTANCES, wait=False)
    error = refusal(lambda: sagemaker.delete_endpoint(EndpointName=resource))
    assert code_and_message(error) == (
        "ValidationException",
        f'Cannot update in-progress endpoint "{arn("endpoint", resource)}".',
    )
    assert_converted(error, InProgress)


# Throttled -----------------------------------------------------------------------------------------


def test_a_serverless_endpoint_past_its_concurrency_is_throttled(cold: Any) -> None:
    """CommonErrors.html documents ThrottlingException ("The request was denied due to request
    throttling."); what InvokeEndpoint puts in the message is undocumented (public reports show none,
    or "Rate exceeded" from the control plane: facebookresearch/dynabench#482). The code is the contract."""
    sagemaker, _ = clients(cold.url)
    runtime = clients(cold.url, retries={"total_max_attempts": 1})[1]  # no retries: see the throttle itself
    resource = name()
    deploy(sagemaker, resource, SERVERLESS)
    errors: list[ClientError] = []

    def invoke() -> None:
        try:
            runtime.invoke_endpoint(EndpointName=resource, Body=b"12,70,1,3,12,0", ContentType="text/csv")
        except ClientError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=invoke) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [code_and_message(e)[0] for e in errors] == ["ThrottlingException"]
    assert_converted(errors[0], Throttled)


# Validation ----------------------------------------------------------------------------------------


def test_a_name_outside_the_pattern_is_a_validation_error(emulator_handle: Any) -> None:
    """CommonErrors.html documents the validation error ("The input fails to satisfy the constraints
    specified by an AWS service.", HTTP 400); SageMaker's control plane answers it as ValidationException
    `1 validation error detected: Value '<v>' at 'modelName' failed to satisfy constraint: Member must
    satisfy regular expression pattern: …` (public report:
    aws-samples/sagemaker-ml-workflow-with-apache-airflow#3). botocore's own check is off here, so the
    request reaches the emulator."""
    sagemaker = clients(emulator_handle.url, parameter_validation=False)[0]
    error = refusal(
        lambda: sagemaker.create_model(
            ModelName="bad_name",
            ExecutionRoleArn=ROLE,
            PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": ARTIFACT},
        )
    )
    code, message = code_and_message(error)
    assert code == "ValidationException"
    # The pattern quoted is CreateModel's ModelName pattern, anchored or not (AWS has printed both).
    pattern = re.escape(
        operation_model("sagemaker", "CreateModel").input_shape.members["ModelName"].metadata["pattern"]
    )
    expected = (
        r"1 validation error detected: Value 'bad_name' at 'modelName' failed to satisfy constraint: "
        rf"Member must satisfy regular expression pattern: \^?{pattern}\$?"
    )
    assert re.fullmatch(expected, message), message
    assert_converted(error, Terminal)


def test_a_transform_instance_type_outside_the_enum_is_a_validation_error(sagemaker: Any) -> None:
    """API_TransformResources.html lists the valid InstanceType values (TransformInstanceType); AWS
    answers one outside them with ValidationException `1 validation error detected: Value '<v>' at
    'transformResources.instanceType' failed to satisfy constraint: Member must satisfy enum value set:
    [...]`."""
    resource = name()
    sagemaker.create_model(
        ModelName=resource,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": ARTIFACT},
    )
    error = refusal(
        lambda: sagemaker.create_transform_job(
            TransformJobName=resource,
            ModelName=resource,
            TransformInput={
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": f"s3://{BUCKET}/datasets/alpha/input/",
                    }
                }
            },
            TransformOutput={"S3OutputPath": f"s3://{BUCKET}/contract/{resource}/"},
            TransformResources={"InstanceType": "ml.t2.medium", "InstanceCount": 1},
        )
    )
    code, message = code_and_message(error)
    assert code == "ValidationException"
    assert message.startswith(
        "1 validation error detected: Value 'ml.t2.medium' at 'transformResources.instanceType' failed to "
        "satisfy constraint: Member must satisfy enum value set: ["
    )
    assert_converted(error, Terminal)
