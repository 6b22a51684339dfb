"""Instance types as SageMaker checks them: the request shape's enum first, then the region, then the use.

AWS pages: CreateEndpointConfig and CreateTransformJob in the SageMaker API Reference (the InstanceType
members and their enums: ProductionVariantInstanceType, TransformInstanceType); "Supported algorithms,
frameworks, and instances for multi-model endpoints" (docs.aws.amazon.com/sagemaker/latest/dg/
multi-model-support.html): CPU multi-model endpoints on CPU instances, GPU ones through Triton only.
"""

from __future__ import annotations

import functools
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError

from emulator.testing import BUCKET, ROLE, XGBOOST_IMAGE, xgboost_model

TRITON_IMAGE = "785573368785.dkr.ecr.us-east-1.amazonaws.com/sagemaker-tritonserver:24.09-py3"


@functools.cache
def _enum(shape: str) -> list[str]:
    return list(botocore.session.get_session().get_service_model("sagemaker").shape_for(shape).enum)


def _refusal(call: Any, **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as excinfo:
        call(**params)
    error = excinfo.value.response["Error"]
    return error["Code"], error["Message"]


def _variant(model: str, instance_type: str) -> dict[str, Any]:
    return {"VariantName": "v", "ModelName": model, "InitialInstanceCount": 1, "InstanceType": instance_type}


def _job(name: str, model: str, instance_type: str) -> dict[str, Any]:
    return {
        "TransformJobName": name,
        "ModelName": model,
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/in/"}},
            "ContentType": "text/csv",
        },
        "TransformOutput": {"S3OutputPath": f"s3://{BUCKET}/{name}/out"},
        "TransformResources": {"InstanceType": instance_type, "InstanceCount": 1},
    }


@pytest.fixture
def model(sagemaker: Any, demo: Any, name: str) -> str:
    sagemaker.create_model(ModelName=name, ExecutionRoleArn=ROLE, **xgboost_model(demo.models["acme"]))
    return name


def _create_config(sagemaker: Any, model: str, name: str, instance_type: str) -> None:
    sagemaker.create_endpoint_config(
        EndpointConfigName=name, ProductionVariants=[_variant(model, instance_type)]
    )


def _create_job(sagemaker: Any, model: str, name: str, instance_type: str) -> None:
    sagemaker.create_transform_job(**_job(name, model, instance_type))


@pytest.mark.parametrize(
    ("create", "instance_type", "where", "shape"),
    [
        (_create_job, "ml.t2.medium", "transformResources.instanceType", "TransformInstanceType"),
        (_create_job, "ml.c5.large", "transformResources.instanceType", "TransformInstanceType"),
        (_create_job, "ml.r5.xlarge", "transformResources.instanceType", "TransformInstanceType"),
        (
            _create_config,
            "ml.t3.medium",
            "productionVariants.1.member.instanceType",
            "ProductionVariantInstanceType",
        ),
    ],
)
def test_a_type_outside_the_enum_is_refused_in_aws_words(
    sagemaker: Any, model: str, name: str, create: Any, instance_type: str, where: str, shape: str
) -> None:
    code, message = _refusal(create, sagemaker=sagemaker, model=model, name=name, instance_type=instance_type)
    assert code == "ValidationException"
    assert message == (
        f"1 validation error detected: Value '{instance_type}' at '{where}' failed to satisfy constraint: "
        f"Member must satisfy enum value set: [{', '.join(_enum(shape))}]"
    )


def test_a_type_the_region_lacks_is_refused_for_endpoints_and_jobs(
    sagemaker: Any, model: str, name: str
) -> None:
    # Both are in their enums but not in the catalogue's us-east-1: AWS's wording as it answers
    # CreateEndpointConfig (aws/amazon-sagemaker-examples#4128).
    code, message = _refusal(
        sagemaker.create_endpoint_config,
        EndpointConfigName=name,
        ProductionVariants=[_variant(model, "ml.m4.xlarge")],
    )
    assert (code, message) == (
        "ValidationException",
        "Instance type ml.m4.xlarge is not supported for the chosen region. "
        "Please choose some other instance type.",
    )
    code, message = _refusal(sagemaker.create_transform_job, **_job(name, model, "ml.p2.xlarge"))
    assert code == "ValidationException"
    assert message.startswith("Instance type ml.p2.xlarge is not supported for the chosen region.")


@pytest.mark.parametrize("instance_type", ["ml.g5.xlarge", "ml.inf2.xlarge"])
def test_a_multi_model_endpoint_on_an_accelerated_instance_needs_triton(
    sagemaker: Any, demo: Any, name: str, instance_type: str
) -> None:
    prefix = demo.models["acme"].rsplit("/", 1)[0] + "/"
    sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": prefix, "Mode": "MultiModel"},
    )
    code, message = _refusal(
        sagemaker.create_endpoint_config,
        EndpointConfigName=name,
        ProductionVariants=[_variant(name, instance_type)],
    )
    # AWS's answer (aws/sagemaker-python-sdk#1323, aws/sagemaker-pytorch-inference-toolkit#129).
    assert (code, message) == (
        "ValidationException",
        f"MultiModel mode is not supported for instance type {instance_type}.",
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=f"{name}-cpu", ProductionVariants=[_variant(name, "ml.m5.xlarge")]
    )


def test_a_triton_multi_model_endpoint_may_run_on_gpu(sagemaker: Any, demo: Any, name: str) -> None:
    prefix = demo.models["acme"].rsplit("/", 1)[0] + "/"
    sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": TRITON_IMAGE, "ModelDataUrl": prefix, "Mode": "MultiModel"},
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=name, ProductionVariants=[_variant(name, "ml.g5.xlarge")]
    )
    described = sagemaker.describe_endpoint_config(EndpointConfigName=name)
    assert described["ProductionVariants"][0]["InstanceType"] == "ml.g5.xlarge"
