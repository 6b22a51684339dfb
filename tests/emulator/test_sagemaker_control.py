"""Control plane through boto3: models, endpoint configs, endpoints, lists and tags, with AWS's errors."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator.testing import BUCKET, ROLE, SKLEARN_IMAGE, XGBOOST_IMAGE, wait_endpoint, xgboost_model


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    """(code, message) of a ClientError."""
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


def test_it_creates_describes_and_deletes_a_model(sagemaker: Any, demo: Any, name: str) -> None:
    created = sagemaker.create_model(
        ModelName=name, ExecutionRoleArn=ROLE, **xgboost_model(demo.models["acme"])
    )
    assert created["ModelArn"] == f"arn:aws:sagemaker:us-east-1:123456789012:model/{name}"
    described = sagemaker.describe_model(ModelName=name)
    assert described["PrimaryContainer"]["Image"] == XGBOOST_IMAGE
    assert described["PrimaryContainer"]["ModelDataUrl"] == demo.models["acme"]
    sagemaker.delete_model(ModelName=name)
    with pytest.raises(ClientError) as excinfo:
        sagemaker.describe_model(ModelName=name)
    assert error_of(excinfo) == ("ValidationException", f'Could not find model "{created["ModelArn"]}".')


def test_it_rejects_a_duplicate_model(sagemaker: Any, demo: Any, name: str) -> None:
    sagemaker.create_model(ModelName=name, ExecutionRoleArn=ROLE, **xgboost_model(demo.models["acme"]))
    with pytest.raises(ClientError) as excinfo:
        sagemaker.create_model(ModelName=name, ExecutionRoleArn=ROLE, **xgboost_model(demo.models["globex"]))
    code, message = error_of(excinfo)
    assert code == "ValidationException"
    assert message.startswith("Cannot create already existing model")
    assert sagemaker.describe_model(ModelName=name)["PrimaryContainer"]["ModelDataUrl"] == demo.models["acme"]


def test_it_refuses_a_model_whose_artifact_is_missing(sagemaker: Any, s3: Any, name: str) -> None:
    """CreateModel checks ModelDataUrl (API reference: CreateModel, ContainerDefinition.ModelDataUrl)."""
    url = f"s3://{BUCKET}/{name}/model.tar.gz"
    with pytest.raises(ClientError) as excinfo:
        sagemaker.create_model(ModelName=name, ExecutionRoleArn=ROLE, **xgboost_model(url))
    assert error_of(excinfo) == ("ValidationException", f"Could not find model data at {url}.")
    with pytest.raises(ClientError, match="Could not find model"):
        sagemaker.describe_model(ModelName=name)  # nothing was created
    s3.put_object(Bucket=BUCKET, Key=f"{name}/model.tar.gz", Body=b"an artifact")
    sagemaker.create_model(ModelName=name, ExecutionRoleArn=ROLE, **xgboost_model(url))


def test_it_refuses_a_multi_model_prefix_holding_no_model(sagemaker: Any, s3: Any, name: str) -> None:
    prefix = f"s3://{BUCKET}/{name}/"
    container = {"Image": XGBOOST_IMAGE, "Mode": "MultiModel", "ModelDataUrl": prefix}
    with pytest.raises(ClientError) as excinfo:
        sagemaker.create_model(ModelName=name, ExecutionRoleArn=ROLE, PrimaryContainer=container)
    assert error_of(excinfo) == ("ValidationException", f"Could not find model data at {prefix}.")
    s3.put_object(Bucket=BUCKET, Key=f"{name}/acme-v1.tar.gz", Body=b"an artifact")
    sagemaker.create_model(ModelName=name, ExecutionRoleArn=ROLE, PrimaryContainer=container)
    assert sagemaker.describe_model(ModelName=name)["PrimaryContainer"]["Mode"] == "MultiModel"


def test_it_refuses_a_multi_container_model_with_one_artifact_missing(
    sagemaker: Any, demo: Any, name: str
) -> None:
    missing = f"s3://{BUCKET}/{name}/model.tar.gz"
    containers = [
        {"Image": XGBOOST_IMAGE, "ContainerHostname": "a", "ModelDataUrl": demo.models["acme"]},
        {"Image": XGBOOST_IMAGE, "ContainerHostname": "b", "ModelDataUrl": missing},
    ]
    with pytest.raises(ClientError) as excinfo:
        sagemaker.create_model(
            ModelName=name, Containers=containers, InferenceExecutionConfig={"Mode": "Direct"}
        )
    assert error_of(excinfo) == ("ValidationException", f"Could not find model data at {missing}.")


def test_it_rejects_names_breaking_the_pattern(sagemaker: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        sagemaker.create_model(ModelName="bad_name", PrimaryContainer={"Image": XGBOOST_IMAGE})
    code, message = error_of(excinfo)
    assert code == "ValidationException"
    assert "Member must satisfy regular expression pattern" in message
    with pytest.raises(ClientError, match="length less than or equal to 63"):
        sagemaker.create_model(ModelName="a" * 64, PrimaryContainer={"Image": XGBOOST_IMAGE})


def test_it_accepts_multi_container_direct_models_up_to_fifteen(sagemaker: Any, demo: Any, name: str) -> None:
    containers = [
        {"Image": XGBOOST_IMAGE, "ContainerHostname": f"c{i}", "ModelDataUrl": demo.models["acme"]}
        for i in range(16)
    ]
    with pytest.raises(ClientError) as excinfo:
        sagemaker.create_model(
            ModelName=name,
            Containers=containers,
            InferenceExecutionConfig={"Mode": "Direct"},
            ExecutionRoleArn=ROLE,
        )
    assert error_of(excinfo)[0] == "ValidationException"
    sagemaker.create_model(
        ModelName=name,
        Containers=containers[:15],
        InferenceExecutionConfig={"Mode": "Direct"},
        ExecutionRoleArn=ROLE,
    )
    assert len(sagemaker.describe_model(ModelName=name)["Containers"]) == 15


def test_it_refuses_direct_invocation_of_a_single_container(sagemaker: Any, demo: Any, name: str) -> None:
    """Direct invocation is for multi-container models, documented as more than one container.

    "Include more than one container in the Containers parameter" (Create a multi-container endpoint,
    https://docs.aws.amazon.com/sagemaker/latest/dg/multi-container-create.html); InvokeEndpoint's
    TargetContainerHostname applies "if the endpoint hosts multiple containers and is configured to use
    direct invocation" (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html).
    """
    one = [{"Image": XGBOOST_IMAGE, "ContainerHostname": "acme", "ModelDataUrl": demo.models["acme"]}]
    with pytest.raises(ClientError) as excinfo:
        sagemaker.create_model(
            ModelName=name, Containers=one, InferenceExecutionConfig={"Mode": "Direct"}, ExecutionRoleArn=ROLE
        )
    assert error_of(excinfo) == (
        "ValidationException",
        "InferenceExecutionConfig Mode Direct needs more than one container in Containers: "
        "a multi-container endpoint runs 2 to 15 containers.",
    )
    two = [*one, {"Image": SKLEARN_IMAGE, "ContainerHostname": "sk", "ModelDataUrl": demo.models["sklearn"]}]
    sagemaker.create_model(
        ModelName=name, Containers=two, InferenceExecutionConfig={"Mode": "Direct"}, ExecutionRoleArn=ROLE
    )


def test_it_rejects_direct_containers_without_hostnames(sagemaker: Any, demo: Any, name: str) -> None:
    containers = [{"Image": XGBOOST_IMAGE, "ModelDataUrl": demo.models["acme"]}, {"Image": SKLEARN_IMAGE}]
    with pytest.raises(ClientError, match="ContainerHostname"):
        sagemaker.create_model(
            ModelName=name, Containers=containers, InferenceExecutionConfig={"Mode": "Direct"}
        )


@pytest.mark.parametrize(("memory", "concurrency"), [(1500, 5), (7168, 5), (2048, 201)])
def test_it_rejects_serverless_sizes_outside_the_limits(
    sagemaker: Any, demo: Any, name: str, memory: int, concurrency: int
) -> None:
    sagemaker.create_model(ModelName=name, ExecutionRoleArn=ROLE, **xgboost_model(demo.models["acme"]))
    variant = {
        "VariantName": "v",
        "ModelName": name,
        "ServerlessConfig": {"MemorySizeInMB": memory, "MaxConcurrency": concurrency},
    }
    with pytest.raises(ClientError) as excinfo:
        sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[variant])
    assert error_of(excinfo)[0] == "ValidationException"


def test_it_rejects_a_config_naming_a_missing_model(sagemaker: Any, name: str) -> None:
    variant = {
        "VariantName": "v",
        "ModelName": "nope",
        "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1,
    }
    with pytest.raises(
        ClientError, match='Could not find model "arn:aws:sagemaker:us-east-1:123456789012:model/nope"'
    ):
        sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[variant])


def test_it_keeps_configs_immutable_and_rejects_duplicates(sagemaker: Any, demo: Any, name: str) -> None:
    sagemaker.create_model(ModelName=name, ExecutionRoleArn=ROLE, **xgboost_model(demo.models["acme"]))
    variant = {
        "VariantName": "v",
        "ModelName": name,
        "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1,
    }
    sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[variant])
    with pytest.raises(ClientError) as excinfo:
        sagemaker.create_endpoint_config(
            EndpointConfigName=name, ProductionVariants=[{**variant, "InstanceType": "ml.c5.large"}]
        )
    assert error_of(excinfo)[1].startswith("Cannot create already existing endpoint configuration")
    described = sagemaker.describe_endpoint_config(EndpointConfigName=name)
    assert described["ProductionVariants"][0]["InstanceType"] == "ml.m5.large"
    sagemaker.delete_endpoint_config(EndpointConfigName=name)
    sagemaker.delete_model(ModelName=name)


def test_it_serves_an_endpoint_and_rejects_a_duplicate(
    sagemaker: Any, deploy: Any, demo: Any, name: str
) -> None:
    deploy(name, model=xgboost_model(demo.models["acme"]))
    described = sagemaker.describe_endpoint(EndpointName=name)
    assert described["EndpointArn"].endswith(f":endpoint/{name}")
    assert described["ProductionVariants"][0]["CurrentInstanceCount"] == 1
    assert described["ProductionVariants"][0]["DeployedImages"][0]["SpecifiedImage"] == XGBOOST_IMAGE
    with pytest.raises(ClientError) as excinfo:
        sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
    assert error_of(excinfo) == (
        "ValidationException",
        f'Cannot create already existing endpoint "{described["EndpointArn"]}".',
    )


def test_it_answers_missing_resources_as_aws_does(sagemaker: Any) -> None:
    arn = "arn:aws:sagemaker:us-east-1:123456789012"
    with pytest.raises(ClientError, match=f'Could not find endpoint "{arn}:endpoint/missing"'):
        sagemaker.describe_endpoint(EndpointName="missing")
    with pytest.raises(
        ClientError, match=f'Could not find endpoint configuration "{arn}:endpoint-config/missing"'
    ):
        sagemaker.describe_endpoint_config(EndpointConfigName="missing")
    with pytest.raises(ClientError, match="Could not find endpoint"):
        sagemaker.delete_endpoint(EndpointName="missing")
    with pytest.raises(ClientError) as excinfo:
        sagemaker.describe_transform_job(TransformJobName="missing")
    assert error_of(excinfo)[0] == "ResourceNotFound"


def test_it_updates_an_endpoint_to_a_new_config_and_keeps_the_old_one(
    sagemaker: Any, deploy: Any, demo: Any, name: str
) -> None:
    deploy(name, model=xgboost_model(demo.models["acme"]))
    variant = {
        "VariantName": "AllTraffic",
        "ModelName": name,
        "InstanceType": "ml.c6i.large",
        "InitialInstanceCount": 2,
    }
    sagemaker.create_endpoint_config(EndpointConfigName=f"{name}-v2", ProductionVariants=[variant])
    sagemaker.update_endpoint(EndpointName=name, EndpointConfigName=f"{name}-v2")
    described = wait_endpoint(sagemaker, name)
    assert described["EndpointConfigName"] == f"{name}-v2"
    assert described["ProductionVariants"][0]["CurrentInstanceCount"] == 2
    assert sagemaker.describe_endpoint_config(EndpointConfigName=name)["ProductionVariants"][0][
        "InstanceType"
    ] == ("ml.m6i.large")


def test_it_lists_with_filters_sorting_and_pagination(sagemaker: Any, demo: Any, name: str) -> None:
    for index in range(5):
        sagemaker.create_model(
            ModelName=f"{name}-{index}", ExecutionRoleArn=ROLE, **xgboost_model(demo.models["acme"])
        )
    first = sagemaker.list_models(NameContains=name, SortBy="Name", SortOrder="Ascending", MaxResults=2)
    assert [m["ModelName"] for m in first["Models"]] == [f"{name}-0", f"{name}-1"]
    rest = []
    token = first["NextToken"]
    while token:
        found = sagemaker.list_models(
            NameContains=name, SortBy="Name", SortOrder="Ascending", MaxResults=2, NextToken=token
        )
        rest += [m["ModelName"] for m in found["Models"]]
        token = found.get("NextToken")
    assert rest == [f"{name}-2", f"{name}-3", f"{name}-4"]
    paginated = sagemaker.get_paginator("list_models").paginate(
        NameContains=name, PaginationConfig={"PageSize": 2}
    )
    assert sum(len(p["Models"]) for p in paginated) == 5


def test_it_lists_endpoints_by_status(sagemaker: Any, deploy: Any, demo: Any, name: str) -> None:
    deploy(name, model=xgboost_model(demo.models["acme"]))
    in_service = sagemaker.list_endpoints(NameContains=name, StatusEquals="InService")["Endpoints"]
    assert [e["EndpointName"] for e in in_service] == [name]
    assert sagemaker.list_endpoints(NameContains=name, StatusEquals="Failed")["Endpoints"] == []


def test_it_adds_lists_and_deletes_tags_by_arn(sagemaker: Any, demo: Any, name: str) -> None:
    arn = sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn=ROLE,
        Tags=[{"Key": "tenant", "Value": "acme"}],
        **xgboost_model(demo.models["acme"]),
    )["ModelArn"]
    sagemaker.add_tags(ResourceArn=arn, Tags=[{"Key": "tier", "Value": "gold"}])
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [
        {"Key": "tenant", "Value": "acme"},
        {"Key": "tier", "Value": "gold"},
    ]
    sagemaker.delete_tags(ResourceArn=arn, TagKeys=["tenant"])
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "tier", "Value": "gold"}]


def test_it_rejects_tags_on_a_missing_resource(sagemaker: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        sagemaker.list_tags(ResourceArn="arn:aws:sagemaker:us-east-1:123456789012:endpoint/none-here")
    assert error_of(excinfo)[0] == "ResourceNotFound"
