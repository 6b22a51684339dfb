"""SageMaker operations on domain objects: with the rest of deployments.aws, the only code that knows
their request shapes. Each function names the API it calls."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings

from deployments.aws.clients import call
from deployments.aws.errors import NotFound

SM = "sagemaker"


@dataclass(frozen=True)
class Container:
    """One container of a model: an image, its artifact (or S3 prefix for multi-model) and hostname."""

    image: str
    model_data_url: str
    hostname: str = ""
    multi_model: bool = False


@dataclass(frozen=True)
class ModelSpec:
    name: str
    containers: tuple[Container, ...]
    direct: bool = False  # InferenceExecutionConfig.Mode=Direct (multi-container endpoints)
    tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class AsyncSpec:
    output_path: str
    failure_path: str = ""
    success_topic: str = ""
    error_topic: str = ""
    max_concurrent_invocations: int = 4


@dataclass(frozen=True)
class VariantSpec:
    """The endpoint's one production variant: instances, or serverless memory and concurrency."""

    instance_type: str = ""
    instance_count: int = 0
    memory_mb: int = 0
    max_concurrency: int = 0


@dataclass(frozen=True)
class EndpointConfigSpec:
    name: str
    model_name: str
    variant: VariantSpec
    async_config: AsyncSpec | None = None
    tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class EndpointState:
    """What DescribeEndpoint says."""

    name: str
    status: str
    config_name: str
    failure_reason: str = ""
    # The variant's CurrentInstanceCount (an async endpoint scaled to zero says 0); None when not reported.
    instance_count: int | None = None


@dataclass(frozen=True)
class TransformJobSpec:
    name: str
    model_name: str
    input_prefix: str
    output_prefix: str
    instance_type: str
    instance_count: int
    max_payload_mb: int
    max_concurrent_transforms: int
    split_type: str
    batch_strategy: str
    content_type: str
    join_source: str
    tags: tuple[tuple[str, str], ...] = ()
    invocations_timeout_seconds: int = 600  # AWS's defaults when ModelClientConfig is absent
    invocations_max_retries: int = 3


@dataclass(frozen=True)
class TransformJobState:
    name: str
    status: str
    failure_reason: str = ""


@dataclass(frozen=True)
class Resource:
    """A resource found in the account, with its tags (for orphan and drift checks)."""

    type: str
    name: str
    arn: str
    tags: dict[str, str] = field(default_factory=dict)


def _tags(tags: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags]


def spec_dict(spec: Any) -> dict[str, Any]:
    """A JSON-able form of a spec, without its name and tags (for comparing desired with live)."""
    data = asdict(spec)
    data.pop("name", None)
    data.pop("tags", None)
    data.pop("model_name", None)
    return data


def _container(container: Container) -> dict[str, Any]:
    shape: dict[str, Any] = {"Image": container.image, "ModelDataUrl": container.model_data_url}
    if container.hostname:
        shape["ContainerHostname"] = container.hostname
    if container.multi_model:
        shape["Mode"] = "MultiModel"
    return shape


def model_create(spec: ModelSpec) -> None:
    """Create the model; AlreadyExists when a model of that name is there."""
    params: dict[str, Any] = {
        "ModelName": spec.name,
        "ExecutionRoleArn": settings.SAGEMAKER_EXECUTION_ROLE_ARN,
        "Tags": _tags(spec.tags),
    }
    if spec.direct:
        params["Containers"] = [_container(c) for c in spec.containers]
        params["InferenceExecutionConfig"] = {"Mode": "Direct"}
    else:
        params["PrimaryContainer"] = _container(spec.containers[0])
    # API: CreateModel
    call(SM, "create_model", spec.name, **params)


def model_exists(name: str) -> bool:
    try:
        # API: DescribeModel
        call(SM, "describe_model", name, ModelName=name)
    except NotFound:
        return False
    return True


def model_delete(name: str) -> None:
    """Delete the model; a model already gone is fine."""
    with contextlib.suppress(NotFound):
        # API: DeleteModel
        call(SM, "delete_model", name, ModelName=name)


def endpoint_config_create(spec: EndpointConfigSpec) -> None:
    """Create the (immutable) endpoint config; AlreadyExists when one of that name is there."""
    variant: dict[str, Any] = {"VariantName": "AllTraffic", "ModelName": spec.model_name}
    if spec.variant.memory_mb:
        variant["ServerlessConfig"] = {
            "MemorySizeInMB": spec.variant.memory_mb,
            "MaxConcurrency": spec.variant.max_concurrency,
        }
    else:
        variant["InstanceType"] = spec.variant.instance_type
        variant["InitialInstanceCount"] = spec.variant.instance_count
    params: dict[str, Any] = {
        "EndpointConfigName": spec.name,
        "ProductionVariants": [variant],
        "Tags": _tags(spec.tags),
    }
    if spec.async_config:
        params["AsyncInferenceConfig"] = _async_config(spec.async_config)
    # API: CreateEndpointConfig
    call(SM, "create_endpoint_config", spec.name, **params)


def _async_config(spec: AsyncSpec) -> dict[str, Any]:
    output: dict[str, Any] = {"S3OutputPath": spec.output_path}
    if spec.failure_path:
        output["S3FailurePath"] = spec.failure_path
    topics = {"SuccessTopic": spec.success_topic, "ErrorTopic": spec.error_topic}
    if any(topics.values()):
        output["NotificationConfig"] = {key: value for key, value in topics.items() if value}
    return {
        "OutputConfig": output,
        "ClientConfig": {"MaxConcurrentInvocationsPerInstance": spec.max_concurrent_invocations},
    }


def endpoint_config_delete(name: str) -> None:
    """Delete the endpoint config; one already gone is fine."""
    with contextlib.suppress(NotFound):
        # API: DeleteEndpointConfig
        call(SM, "delete_endpoint_config", name, EndpointConfigName=name)


def endpoint_create(name: str, config_name: str, tags: tuple[tuple[str, str], ...]) -> None:
    """Create the endpoint on `config_name`; AlreadyExists when an endpoint of that name is there."""
    # API: CreateEndpoint
    call(SM, "create_endpoint", name, EndpointName=name, EndpointConfigName=config_name, Tags=_tags(tags))


def endpoint_describe(name: str) -> EndpointState:
    """The endpoint's status and config; NotFound when it does not exist."""
    # API: DescribeEndpoint
    answer = call(SM, "describe_endpoint", name, EndpointName=name)
    return EndpointState(
        name=answer["EndpointName"],
        status=answer["EndpointStatus"],
        config_name=answer.get("EndpointConfigName", ""),
        failure_reason=answer.get("FailureReason", ""),
        instance_count=next(
            (v.get("CurrentInstanceCount") for v in answer.get("ProductionVariants", [])), None
        ),
    )


def endpoint_update(name: str, config_name: str) -> None:
    """Roll the endpoint onto a new config (InProgress while it is still transitioning)."""
    # API: UpdateEndpoint
    call(SM, "update_endpoint", name, EndpointName=name, EndpointConfigName=config_name)


def endpoint_delete(name: str) -> None:
    """Delete the endpoint; one already gone is fine."""
    with contextlib.suppress(NotFound):
        # API: DeleteEndpoint
        call(SM, "delete_endpoint", name, EndpointName=name)


def transform_job_create(spec: TransformJobSpec) -> None:
    """Start a batch transform job; AlreadyExists when a job of that name was started before."""
    params: dict[str, Any] = {
        "TransformJobName": spec.name,
        "ModelName": spec.model_name,
        "MaxConcurrentTransforms": spec.max_concurrent_transforms,
        "MaxPayloadInMB": spec.max_payload_mb,
        "BatchStrategy": spec.batch_strategy,
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": spec.input_prefix}},
            "ContentType": spec.content_type,
            "SplitType": spec.split_type,
        },
        "TransformOutput": {"S3OutputPath": spec.output_prefix, "AssembleWith": "Line"},
        "TransformResources": {"InstanceType": spec.instance_type, "InstanceCount": spec.instance_count},
        "ModelClientConfig": {
            "InvocationsTimeoutInSeconds": spec.invocations_timeout_seconds,
            "InvocationsMaxRetries": spec.invocations_max_retries,
        },
        "Tags": _tags(spec.tags),
    }
    if spec.join_source != "None":
        params["DataProcessing"] = {"JoinSource": spec.join_source}
    # API: CreateTransformJob
    call(SM, "create_transform_job", spec.name, **params)


def transform_job_describe(name: str) -> TransformJobState:
    # API: DescribeTransformJob
    answer = call(SM, "describe_transform_job", name, TransformJobName=name)
    return TransformJobState(name, answer["TransformJobStatus"], answer.get("FailureReason", ""))


def _paged(action: str, key: str, prefix: str) -> Iterator[dict[str, Any]]:
    params: dict[str, Any] = {"NameContains": prefix, "MaxResults": 100}
    while True:
        # API: ListModels / ListEndpointConfigs / ListEndpoints (one page per call)
        page = call(SM, action, prefix, **params)
        yield from page[key]
        if not page.get("NextToken"):
            return
        params["NextToken"] = page["NextToken"]


def endpoint_statuses(prefix: str) -> dict[str, str]:
    """Name → status of every endpoint whose name contains `prefix` (100 per call, not one per endpoint)."""
    return {
        item["EndpointName"]: item["EndpointStatus"] for item in _paged("list_endpoints", "Endpoints", prefix)
    }


def resources_list(prefix: str) -> list[Resource]:
    """Models, endpoint configs and endpoints whose names contain `prefix` (without their tags)."""
    found = []
    for type_, action, key in (
        ("Endpoint", "list_endpoints", "Endpoints"),
        ("EndpointConfig", "list_endpoint_configs", "EndpointConfigs"),
        ("Model", "list_models", "Models"),
    ):
        for item in _paged(action, key, prefix):
            found.append(Resource(type_, item[f"{type_}Name"], item[f"{type_}Arn"]))
    return found


def tags_of(arn: str) -> dict[str, str]:
    """The resource's tags."""
    # API: ListTags
    answer = call(SM, "list_tags", arn, ResourceArn=arn, MaxResults=50)
    return {tag["Key"]: tag["Value"] for tag in answer.get("Tags", [])}
