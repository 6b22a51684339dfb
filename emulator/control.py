"""SageMaker control-plane actions for models, endpoint configs and endpoints."""

from __future__ import annotations

import copy
import time
from collections import Counter
from typing import Any

from emulator import autoscaling, s3io
from emulator.errors import limit_exceeded, validation
from emulator.listing import list_answer, put_tags
from emulator.state import ACCELERATED_PREFIXES, Store, arn, copy_given, public

_SERVERLESS_MEMORY = range(1024, 6144 + 1, 1024)


def _missing(kind: str, region: str, name: str) -> Exception:
    label = {"endpoint-config": "endpoint configuration"}.get(kind, kind)
    return validation(f'Could not find {label} "{arn(region, kind, name)}".')


def _existing(kind: str, region: str, name: str) -> Exception:
    label = {"endpoint-config": "endpoint configuration"}.get(kind, kind)
    return validation(f'Cannot create already existing {label} "{arn(region, kind, name)}".')


# Models ------------------------------------------------------------------------------------------


def _check_containers(params: dict[str, Any]) -> None:
    primary, containers = params.get("PrimaryContainer"), params.get("Containers")
    if bool(primary) == bool(containers):
        raise validation("Exactly one of PrimaryContainer or Containers must be specified.")
    if containers and len(containers) > 15:
        raise validation("A model can have at most 15 containers.")
    if containers and any(c.get("Mode") == "MultiModel" for c in containers):
        raise validation("Mode MultiModel is only supported with a single PrimaryContainer.")
    mode = (params.get("InferenceExecutionConfig") or {}).get("Mode")
    if mode == "Direct":
        if not containers:
            raise validation("InferenceExecutionConfig Mode Direct needs Containers.")
        # AWS documents multi-container models (the ones Direct invocation serves) as more than one container.
        if len(containers) < 2:
            raise validation(
                "InferenceExecutionConfig Mode Direct needs more than one container in Containers: "
                "a multi-container endpoint runs 2 to 15 containers."
            )
        names = [c.get("ContainerHostname") for c in containers]
        if None in names or len(set(names)) != len(names):
            raise validation("With Direct invocation every container needs a unique ContainerHostname.")
    for container in [primary] if primary else containers or []:
        if not container.get("Image"):
            raise validation("Every container needs an Image.")


def _check_model_data(params: dict[str, Any]) -> None:
    """Refuse a ModelDataUrl with nothing behind it, as CreateModel does.

    ContainerDefinition.ModelDataUrl (API reference, CreateModel / ContainerDefinition) is the S3 path
    of a single model's artifact, or, with Mode=MultiModel, the prefix the models are loaded from.
    AWS checks it at CreateModel and answers ValidationException "Could not find model data at <url>."
    (its wording as SDKs report it, e.g. aws/amazon-sagemaker-examples#2264 and #4479).
    """
    primary = params.get("PrimaryContainer")
    for container in [primary] if primary else params.get("Containers") or []:
        url = container.get("ModelDataUrl")
        if not url or not url.startswith("s3://"):
            continue  # no artifact (the image holds the model), or an https URL the emulator cannot read
        if not s3io.model_data_present(url, prefix=container.get("Mode") == "MultiModel"):
            raise validation(f"Could not find model data at {url}.")


def create_model(store: Store, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """CreateModel: one PrimaryContainer (single or MultiModel) or up to 15 Containers."""
    name = params["ModelName"]
    _check_containers(params)
    record = {
        "ModelName": name,
        "ModelArn": arn(region, "model", name),
        "CreationTime": time.time(),
        "EnableNetworkIsolation": bool(params.get("EnableNetworkIsolation", False)),
    }
    fields = ("PrimaryContainer", "Containers", "InferenceExecutionConfig", "ExecutionRoleArn", "VpcConfig")
    copy_given(record, params, fields)
    if record.get("PrimaryContainer"):
        record["PrimaryContainer"].setdefault("Mode", "SingleModel")
    with store.lock:
        if (region, name.lower()) in store.models:
            raise _existing("model", region, name)
        _check_model_data(params)
        store.models[(region, name.lower())] = record
        put_tags(store, record["ModelArn"], params.get("Tags"))
        store.touch()
    return {"ModelArn": record["ModelArn"]}


def describe_model(store: Store, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """DescribeModel."""
    with store.lock:
        record = store.models.get((region, params["ModelName"].lower()))
        if record is None:
            raise _missing("model", region, params["ModelName"])
        return copy.deepcopy(record)


def delete_model(store: Store, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """DeleteModel (endpoints already deployed keep their snapshot, as on AWS)."""
    with store.lock:
        record = store.models.pop((region, params["ModelName"].lower()), None)
        if record is None:
            raise _missing("model", region, params["ModelName"])
        store.tags.pop(record["ModelArn"], None)
        store.touch()
    return {}


def list_models(store: Store, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """ListModels."""
    with store.lock:
        return list_answer(
            store.models,
            region,
            params,
            result_key="Models",
            summary_keys=("ModelName", "ModelArn", "CreationTime"),
            name_field="ModelName",
        )


# Endpoint configs --------------------------------------------------------------------------------


def _check_variant(store: Store, region: str, variant: dict[str, Any], has_async: bool) -> None:
    model = store.models.get((region, variant["ModelName"].lower()))
    if model is None:
        raise _missing("model", region, variant["ModelName"])
    serverless = variant.get("ServerlessConfig")
    if serverless:
        memory, concurrency = serverless.get("MemorySizeInMB"), serverless.get("MaxConcurrency")
        if memory not in _SERVERLESS_MEMORY:
            raise validation(f"MemorySizeInMB {memory} is not supported: use 1024 to 6144 in steps of 1024.")
        if not isinstance(concurrency, int) or not 1 <= concurrency <= 200:
            raise validation(f"MaxConcurrency {concurrency} is not supported: use 1 to 200.")
        if variant.get("InstanceType") or variant.get("InitialInstanceCount"):
            raise validation("A serverless variant cannot set InstanceType or InitialInstanceCount.")
        if has_async:
            raise validation("AsyncInferenceConfig is not supported with a serverless variant.")
        if (model.get("PrimaryContainer") or {}).get("Mode") == "MultiModel":
            raise validation("Serverless endpoints do not support multi-model endpoints.")
        return
    instance_type = variant.get("InstanceType")
    if not instance_type or not variant.get("InitialInstanceCount"):
        raise validation("A variant needs InstanceType and InitialInstanceCount, or a ServerlessConfig.")
    # Types outside the enum were refused with the request (emulator.validation); here, the region's.
    store.settings.catalogue.require(region, instance_type, "async" if has_async else "realtime")
    _check_multi_model_instance(model, instance_type)


def _check_multi_model_instance(model: dict[str, Any], instance_type: str) -> None:
    """Multi-model on accelerated instances is Triton's only ("Supported algorithms, frameworks, and
    instances for multi-model endpoints"); AWS's answer as reported in aws/sagemaker-python-sdk#1323."""
    container = model.get("PrimaryContainer") or {}
    if container.get("Mode") != "MultiModel" or not instance_type.startswith(ACCELERATED_PREFIXES):
        return
    if "sagemaker-tritonserver" not in container.get("Image", ""):
        raise validation(f"MultiModel mode is not supported for instance type {instance_type}.")


def create_endpoint_config(store: Store, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """CreateEndpointConfig: instance, serverless and asynchronous variants; configs are immutable."""
    name = params["EndpointConfigName"]
    variants = copy.deepcopy(params["ProductionVariants"])
    names = [v["VariantName"] for v in variants]
    if len(set(names)) != len(names):
        raise validation("Variant names must be unique within an endpoint configuration.")
    has_async = params.get("AsyncInferenceConfig") is not None
    if has_async and not (params["AsyncInferenceConfig"].get("OutputConfig") or {}).get("S3OutputPath"):
        raise validation("AsyncInferenceConfig.OutputConfig.S3OutputPath is required.")
    with store.lock:
        if (region, name.lower()) in store.configs:
            raise _existing("endpoint-config", region, name)
        for variant in variants:
            _check_variant(store, region, variant, has_async)
            variant.setdefault("InitialVariantWeight", 1.0)
        record: dict[str, Any] = {
            "EndpointConfigName": name,
            "EndpointConfigArn": arn(region, "endpoint-config", name),
            "ProductionVariants": variants,
            "CreationTime": time.time(),
        }
        copy_given(record, params, ("AsyncInferenceConfig", "DataCaptureConfig", "KmsKeyId"))
        store.configs[(region, name.lower())] = record
        put_tags(store, record["EndpointConfigArn"], params.get("Tags"))
        store.touch()
    return {"EndpointConfigArn": record["EndpointConfigArn"]}


def describe_endpoint_config(store: Store, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """DescribeEndpointConfig."""
    with store.lock:
        record = store.configs.get((region, params["EndpointConfigName"].lower()))
        if record is None:
            raise _missing("endpoint-config", region, params["EndpointConfigName"])
        return copy.deepcopy(record)


def delete_endpoint_config(store: Store, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """DeleteEndpointConfig (endpoints using it keep serving from their snapshot, as on AWS)."""
    with store.lock:
        record = store.configs.pop((region, params["EndpointConfigName"].lower()), None)
        if record is None:
            raise _missing("endpoint-config", region, params["EndpointConfigName"])
        store.tags.pop(record["EndpointConfigArn"], None)
        store.touch()
    return {}


def list_endpoint_configs(store: Store, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """ListEndpointConfigs."""
    with store.lock:
        return list_answer(
            store.configs,
            region,
            params,
            result_key="EndpointConfigs",
            summary_keys=("EndpointConfigName", "EndpointConfigArn", "CreationTime"),
            name_field="EndpointConfigName",
        )


# Endpoints ---------------------------------------------------------------------------------------


def deployment_spec(store: Store, region: str, config_name: str) -> dict[str, Any]:
    """Snapshot a config and its models as SageMaker resolves them at deploy time (caller holds the lock)."""
    config = store.configs.get((region, config_name.lower()))
    if config is None:
        raise _missing("endpoint-config", region, config_name)
    models = {}
    for variant in config["ProductionVariants"]:
        model = store.models.get((region, variant["ModelName"].lower()))
        if model is None:
            raise _missing("model", region, variant["ModelName"])
        models[variant["ModelName"]] = copy.deepcopy(model)
    return {
        "config": copy.deepcopy(config),
        "variants": copy.deepcopy(config["ProductionVariants"]),
        "models": models,
    }


def _check_quotas(store: Store, region: str, spec: dict[str, Any], replacing: str | None = None) -> None:
    live = [r for (reg, n), r in store.endpoints.items() if reg == region and n != replacing]
    settings = store.settings
    if replacing is None and len(live) >= settings.max_endpoints:
        raise limit_exceeded(
            f"The account-level service limit 'Number of endpoints' is {settings.max_endpoints} Endpoints, "
            f"with current utilization of {len(live)} Endpoints and a request delta of 1 Endpoints. "
            "Please use AWS Service Quotas to request an increase for this quota."
        )
    used: Counter[str] = Counter()
    for record in live:
        for variant in record["_spec"]["variants"]:
            if variant.get("InstanceType"):
                used[variant["InstanceType"]] += variant["InitialInstanceCount"]
    for variant in spec["variants"]:
        kind, delta = variant.get("InstanceType"), variant.get("InitialInstanceCount", 0)
        if kind and used[kind] + delta > settings.instances_per_type:
            raise limit_exceeded(
                f"The account-level service limit '{kind} for endpoint usage' is "
                f"{settings.instances_per_type} Instances, with current utilization of {used[kind]} "
                f"Instances and a request delta of {delta} "
                "Instances. Please use AWS Service Quotas to request an increase for this quota."
            )


def create_endpoint(store: Store, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """CreateEndpoint: Creating, then InService (or Failed) once the delay is over and models loaded."""
    name = params["EndpointName"]
    now = time.time()
    with store.lock:
        if (region, name.lower()) in store.endpoints:
            raise _existing("endpoint", region, name)
        spec = deployment_spec(store, region, params["EndpointConfigName"])
        _check_quotas(store, region, spec)
        record = {
            "EndpointName": name,
            "EndpointArn": arn(region, "endpoint", name),
            "EndpointConfigName": params["EndpointConfigName"],
            "EndpointStatus": "Creating",
            "CreationTime": now,
            "LastModifiedTime": now,
            "_ready_at": now + store.settings.endpoint_delay(spec),
            "_spec": spec,
        }
        store.endpoints[(region, name.lower())] = record
        put_tags(store, record["EndpointArn"], params.get("Tags"))
        store.start_build((region, name.lower()), spec)
        store.touch()
    return {"EndpointArn": record["EndpointArn"]}


def _variant_summary(variant: dict[str, Any], model: dict[str, Any], resolved_at: float) -> dict[str, Any]:
    containers = [model["PrimaryContainer"]] if model.get("PrimaryContainer") else model.get("Containers", [])
    summary: dict[str, Any] = {
        "VariantName": variant["VariantName"],
        "DeployedImages": [
            {"SpecifiedImage": c["Image"], "ResolvedImage": c["Image"], "ResolutionTime": resolved_at}
            for c in containers
        ],
        "CurrentWeight": variant["InitialVariantWeight"],
        "DesiredWeight": variant["InitialVariantWeight"],
    }
    if variant.get("ServerlessConfig"):
        summary["CurrentServerlessConfig"] = variant["ServerlessConfig"]
        summary["DesiredServerlessConfig"] = variant["ServerlessConfig"]
    else:
        summary["CurrentInstanceCount"] = variant["InitialInstanceCount"]
        summary["DesiredInstanceCount"] = variant["InitialInstanceCount"]
    return summary


def describe_endpoint(store: Store, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """DescribeEndpoint: status computed from time; variants from the deployed snapshot."""
    with store.lock:
        record = store.advance_endpoint((region, params["EndpointName"].lower()))
        if record is None:
            raise _missing("endpoint", region, params["EndpointName"])
        answer = copy.deepcopy(public(record))
        spec = record["_spec"]
        answer["ProductionVariants"] = [
            _variant_summary(v, spec["models"][v["ModelName"]], record["CreationTime"])
            for v in spec["variants"]
        ]
        if spec["config"].get("AsyncInferenceConfig"):
            answer["AsyncInferenceConfig"] = copy.deepcopy(spec["config"]["AsyncInferenceConfig"])
        if record["EndpointStatus"] == "Updating":
            pending = record["_pending_spec"]
            answer["PendingDeploymentSummary"] = {
                "EndpointConfigName": record["_pending_config"],
                "ProductionVariants": [
                    {
                        **_variant_summary(v, pending["models"][v["ModelName"]], record["LastModifiedTime"]),
                        "VariantStatus": [{"Status": "Creating", "StartTime": record["LastModifiedTime"]}],
                    }
                    for v in pending["variants"]
                ],
                "StartTime": record["LastModifiedTime"],
            }
        return answer


def update_endpoint(store: Store, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """UpdateEndpoint: Updating (the old config keeps serving), then InService on the new config."""
    name = params["EndpointName"]
    key = (region, name.lower())
    now = time.time()
    with store.lock:
        record = store.advance_endpoint(key)
        if record is None:
            raise _missing("endpoint", region, name)
        if record["EndpointStatus"] == "Failed":
            raise validation(f'Cannot update failed endpoint "{record["EndpointArn"]}".')
        if record["EndpointStatus"] != "InService":
            raise validation(f'Cannot update in-progress endpoint "{record["EndpointArn"]}".')
        spec = deployment_spec(store, region, params["EndpointConfigName"])
        autoscaling.update_check(
            region, record["EndpointArn"], name, record["_spec"]["variants"], spec["variants"]
        )
        _check_quotas(store, region, spec, replacing=key[1])
        record.update(
            EndpointStatus="Updating",
            LastModifiedTime=now,
            _ready_at=now + store.settings.endpoint_delay(spec),
            _pending_config=params["EndpointConfigName"],
            _pending_spec=spec,
        )
        record.pop("FailureReason", None)
        store.start_build(key, spec)
        store.touch()
    return {"EndpointArn": record["EndpointArn"]}


def delete_endpoint(store: Store, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """DeleteEndpoint: Deleting, then gone once the delay is over; it stops serving at once.

    Refused while Creating or Updating, with the answer UpdateEndpoint gives then: the API reference
    lists only common errors; the wording is what AWS's SageMaker operator for Kubernetes matches on.
    """
    key = (region, params["EndpointName"].lower())
    now = time.time()
    with store.lock:
        record = store.advance_endpoint(key)
        if record is None:
            raise _missing("endpoint", region, params["EndpointName"])
        if record["EndpointStatus"] in ("Creating", "Updating"):
            raise validation(f'Cannot update in-progress endpoint "{record["EndpointArn"]}".')
        if record["EndpointStatus"] != "Deleting":
            autoscaling.endpoint_deregister(region, record["EndpointName"])
            record.update(
                EndpointStatus="Deleting", LastModifiedTime=now, _ready_at=now + store.settings.delay
            )
            store.touch()
        store.advance_endpoint(key, now)
    return {}


def list_endpoints(store: Store, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """ListEndpoints (statuses brought up to date first)."""
    with store.lock:
        for key in [k for k in store.endpoints if k[0] == region]:
            store.advance_endpoint(key)
        return list_answer(
            store.endpoints,
            region,
            params,
            result_key="Endpoints",
            summary_keys=(
                "EndpointName",
                "EndpointArn",
                "CreationTime",
                "LastModifiedTime",
                "EndpointStatus",
            ),
            name_field="EndpointName",
            status_field="EndpointStatus",
        )
