"""Semantic rules AWS documents but botocore's service model cannot express, as one table.

Each rule is a row: an id (the test id), what it says, the AWS page that says it, and a small check
over the captured calls (in the order they were sent) answering how many calls it looked at and what
broke it. Adding a rule is one function and one row.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.contract.capture import Call
from tests.contract.shapes import enum_of

Calls = Sequence[Call]
DG = "https://docs.aws.amazon.com/sagemaker/latest/dg/"
API = "https://docs.aws.amazon.com/sagemaker/latest/APIReference/"


@dataclass
class Verdict:
    """How many calls a rule looked at, and one sentence per call that breaks it."""

    checked: int = 0
    problems: list[str] = field(default_factory=list)

    def look(self, call: Call, problem: str | None) -> None:
        self.checked += 1
        if problem:
            self.problems.append(f"{call.where}: {problem}")


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    doc: str
    check: Callable[[Calls], Verdict]
    optional: bool = False  # True: the product may send no call the rule applies to (it is skipped then)


def of(calls: Calls, *operations: str) -> Iterator[Call]:
    return (call for call in calls if call.operation in operations)


def containers(params: dict[str, Any]) -> list[dict[str, Any]]:
    """The container definitions of a CreateModel request (PrimaryContainer or Containers)."""
    primary = params.get("PrimaryContainer")
    return [primary] if primary else list(params.get("Containers") or [])


def multi_model_prefixes(calls: Calls) -> set[str]:
    return {
        c["ModelDataUrl"]
        for call in of(calls, "CreateModel")
        for c in containers(call.params)
        if c.get("Mode") == "MultiModel"
    }


def multi_model_names(calls: Calls) -> set[str]:
    return {
        call.params["ModelName"]
        for call in of(calls, "CreateModel")
        if any(c.get("Mode") == "MultiModel" for c in containers(call.params))
    }


def variants(call: Call) -> list[dict[str, Any]]:
    return list(call.params.get("ProductionVariants") or [])


# The rules ----------------------------------------------------------------------------------------


def multi_model_prefix(calls: Calls) -> Verdict:
    verdict = Verdict()
    for call in of(calls, "CreateModel"):
        modes = [c.get("Mode") for c in containers(call.params)]
        if call.kind == "multi_model":
            verdict.look(call, None if modes == ["MultiModel"] else f"containers' modes are {modes}")
        for container in containers(call.params):
            if container.get("Mode") == "MultiModel":
                url = container["ModelDataUrl"]
                verdict.look(call, None if url.endswith("/") else f"ModelDataUrl {url} is not a prefix")
    return verdict


def target_model_relative(calls: Calls) -> Verdict:
    verdict = Verdict()
    for call in of(calls, "InvokeEndpoint", "InvokeEndpointAsync"):
        target = call.params.get("TargetModel")
        if target is not None:
            absolute = target.startswith("/") or "://" in target
            verdict.look(call, f"TargetModel {target} is not relative" if absolute else None)
    return verdict


def multi_container_direct(calls: Calls) -> Verdict:
    verdict = Verdict()
    for call in of(calls, "CreateModel"):
        listed = call.params.get("Containers")
        if not listed:
            continue
        hostnames = [c.get("ContainerHostname") for c in listed]
        mode = (call.params.get("InferenceExecutionConfig") or {}).get("Mode")
        problem = None
        if len(listed) > 15:
            problem = f"{len(listed)} containers, above 15"
        elif None in hostnames or len(set(hostnames)) != len(hostnames):
            problem = f"hostnames {hostnames} are not all set and unique"
        elif mode != "Direct":
            problem = f"InferenceExecutionConfig.Mode is {mode}, not Direct"
        verdict.look(call, problem)
    return verdict


def serverless_without_instances(calls: Calls) -> Verdict:
    verdict = Verdict()
    for call in of(calls, "CreateEndpointConfig"):
        for variant in variants(call):
            if "ServerlessConfig" in variant:
                extra = sorted({"InstanceType", "InitialInstanceCount"} & set(variant))
                verdict.look(call, f"a serverless variant also sets {extra}" if extra else None)
    return verdict


def async_output_path(calls: Calls) -> Verdict:
    verdict = Verdict()
    for call in of(calls, "CreateEndpointConfig"):
        config = call.params.get("AsyncInferenceConfig")
        if config is not None:
            path = (config.get("OutputConfig") or {}).get("S3OutputPath", "")
            verdict.look(call, None if path.startswith("s3://") else f"S3OutputPath is {path!r}")
    return verdict


SAGEMAKER_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
NAME_KEYS = ("ModelName", "EndpointName", "EndpointConfigName", "TransformJobName", "VariantName")


def _names(value: Any) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in NAME_KEYS and isinstance(item, str):
                yield key, item
            yield from _names(item)
    elif isinstance(value, list):
        for item in value:
            yield from _names(item)


def sagemaker_names(calls: Calls) -> Verdict:
    verdict = Verdict()
    for call in calls:
        if call.service != "sagemaker":
            continue
        for key, name in _names(call.params):
            verdict.look(call, None if SAGEMAKER_NAME.match(name) else f"{key} {name!r} breaks the pattern")
    return verdict


def _tag_keys(call: Call) -> Iterator[str]:
    for tag in call.params.get("Tags") or []:
        yield tag["Key"]
    tagging = call.params.get("Tagging")
    if isinstance(tagging, str):
        yield from (pair.partition("=")[0] for pair in tagging.split("&") if pair)


def tag_keys_not_reserved(calls: Calls) -> Verdict:
    verdict = Verdict()
    for call in calls:
        for key in _tag_keys(call):
            verdict.look(
                call,
                f"tag key {key} uses the reserved aws: prefix" if key.lower().startswith("aws:") else None,
            )
    return verdict


def transform_instance_type(calls: Calls) -> Verdict:
    allowed, verdict = enum_of("sagemaker", "TransformInstanceType"), Verdict()
    for call in of(calls, "CreateTransformJob"):
        chosen = call.params["TransformResources"]["InstanceType"]
        verdict.look(call, None if chosen in allowed else f"{chosen} is not a TransformInstanceType")
    return verdict


def variant_instance_type(calls: Calls) -> Verdict:
    allowed, verdict = enum_of("sagemaker", "ProductionVariantInstanceType"), Verdict()
    for call in of(calls, "CreateEndpointConfig"):
        for variant in variants(call):
            if "InstanceType" in variant:
                chosen = variant["InstanceType"]
                verdict.look(
                    call, None if chosen in allowed else f"{chosen} is not a ProductionVariantInstanceType"
                )
    return verdict


ACCELERATED = re.compile(r"^ml\.(g|p|inf|trn)\d")


def multi_model_on_cpu(calls: Calls) -> Verdict:
    multi_model, verdict = multi_model_names(calls), Verdict()
    for call in of(calls, "CreateEndpointConfig"):
        for variant in variants(call):
            if variant["ModelName"] in multi_model:
                chosen = variant.get("InstanceType", "")
                gpu = ACCELERATED.match(chosen)
                verdict.look(call, f"multi-model variant on accelerated {chosen}" if gpu else None)
    return verdict


def multi_model_artifact_first(calls: Calls) -> Verdict:
    verdict = Verdict()
    for call in of(calls, "CreateModel"):
        for container in containers(call.params):
            if container.get("Mode") == "MultiModel":
                url = container["ModelDataUrl"]
                there = call.observed.get("artifacts", {}).get(url)
                verdict.look(call, None if there else f"no object under {url} when CreateModel was sent")
    return verdict


def single_model_artifact_exists(calls: Calls) -> Verdict:
    verdict = Verdict()
    for call in of(calls, "CreateModel"):
        for container in containers(call.params):
            if container.get("Mode") != "MultiModel":
                url = container["ModelDataUrl"]
                there = call.observed.get("artifacts", {}).get(url)
                verdict.look(call, None if there else f"{url} did not exist when CreateModel was sent")
    return verdict


def _written(call: Call) -> tuple[str, str] | None:
    """(s3://bucket/key, source) of a PutObject or CopyObject."""
    if call.operation not in ("PutObject", "CopyObject"):
        return None
    uri = f"s3://{call.params['Bucket']}/{call.params['Key']}"
    source = call.params.get("CopySource")
    if source is None:
        return uri, f"the body of PutObject #{call.seq}"
    return uri, source if isinstance(source, str) else f"{source['Bucket']}/{source['Key']}"


def multi_model_targets_never_rewritten(calls: Calls) -> Verdict:
    prefixes, sources, verdict = multi_model_prefixes(calls), {}, Verdict()
    for call in calls:
        written = _written(call)
        if written is None or not any(written[0].startswith(prefix) for prefix in prefixes):
            continue
        uri, source = written
        before = sources.setdefault(uri, source)
        verdict.look(call, None if before == source else f"{uri} rewritten from {source} (was {before})")
    return verdict


def _scalable_endpoint(call: Call) -> str:
    match = re.match(r"endpoint/([^/]+)/variant/", call.params.get("ResourceId", ""))
    return match.group(1) if match else ""


def _instance_types(call: Call) -> list[str]:
    return [variant.get("InstanceType", "") for variant in variants(call)]


def no_update_while_scalable(calls: Calls) -> Verdict:
    """An UpdateEndpoint that changes the instance type of a registered scalable target (AWS allows
    one that only changes the model)."""
    registered: set[str] = set()
    scaled: set[str] = set()  # endpoints that were ever under auto scaling: their updates are checked
    types: dict[str, list[str]] = {}  # endpoint config → its variants' instance types
    current: dict[str, str] = {}  # endpoint → its endpoint config
    verdict = Verdict()
    for call in calls:
        if call.operation == "RegisterScalableTarget":
            registered.add(_scalable_endpoint(call))
            scaled.add(_scalable_endpoint(call))
        elif call.operation == "DeregisterScalableTarget":
            registered.discard(_scalable_endpoint(call))
        elif call.operation == "CreateEndpointConfig":
            types[call.params["EndpointConfigName"]] = _instance_types(call)
        elif call.operation in ("CreateEndpoint", "UpdateEndpoint"):
            name, config = call.params["EndpointName"], call.params["EndpointConfigName"]
            if call.operation == "UpdateEndpoint" and name in scaled:
                before, after = types.get(current.get(name, ""), []), types.get(config, [])
                changed = f"{name} moves from {before} to {after} while a scalable target"
                verdict.look(call, changed if before != after and name in registered else None)
            current[name] = config
    return verdict


def transform_model_client_config(calls: Calls) -> Verdict:
    verdict = Verdict()
    for call in of(calls, "CreateTransformJob"):
        config = call.params.get("ModelClientConfig") or {}
        verdict.look(
            call, None if "InvocationsTimeoutInSeconds" in config else "no ModelClientConfig timeout"
        )
    return verdict


def transform_payload_at_least_one(calls: Calls) -> Verdict:
    verdict = Verdict()
    for call in of(calls, "CreateTransformJob"):
        size = call.params.get("MaxPayloadInMB", 6)
        verdict.look(call, None if size >= 1 else f"MaxPayloadInMB={size} asks for chunked encoding")
    return verdict


RECORDIO = "application/x-recordio-protobuf"


def recordio_split(calls: Calls) -> Verdict:
    verdict = Verdict()
    for call in of(calls, "CreateTransformJob"):
        given = call.params["TransformInput"]
        content, split = given.get("ContentType"), given.get("SplitType", "None")
        # RecordIO-protobuf is split at its records or sent whole (None), never cut at line breaks; a
        # RecordIO split finds no records in other content.
        agree = split == "None" or (content == RECORDIO) == (split == "RecordIO")
        verdict.look(call, None if agree else f"ContentType {content} with SplitType {split}")
    return verdict


# fmt: off
RULES: tuple[Rule, ...] = (
    Rule("multi-model-data-url-is-a-prefix",
         "A multi-model deployment's CreateModel has Mode=MultiModel and a ModelDataUrl ending in /",
         DG + "create-multi-model-endpoint.html", multi_model_prefix),
    Rule("target-model-is-relative",
         "InvokeEndpoint's TargetModel is a path relative to the model's ModelDataUrl prefix",
         DG + "invoke-multi-model-endpoint.html", target_model_relative, optional=True),
    Rule("multi-container-direct",
         "A multi-container model has at most 15 containers, unique hostnames and Mode=Direct",
         DG + "multi-container-create.html", multi_container_direct),
    Rule("serverless-variant-has-no-instances",
         "A serverless variant sets ServerlessConfig and neither InstanceType nor InitialInstanceCount",
         API + "API_ProductionVariant.html", serverless_without_instances),
    Rule("async-config-has-output-path",
         "An asynchronous endpoint config names OutputConfig.S3OutputPath",
         API + "API_AsyncInferenceOutputConfig.html", async_output_path),
    Rule("sagemaker-names-match-the-pattern",
         "Model, endpoint, config, job and variant names match ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$",
         API + "API_CreateModel.html", sagemaker_names),
    Rule("tag-keys-are-not-reserved",
         "No tag key starts with aws:, which AWS reserves",
         API + "API_Tag.html", tag_keys_not_reserved),
    Rule("transform-instance-type-in-enum",
         "CreateTransformJob's instance type is one of TransformInstanceType",
         API + "API_TransformResources.html", transform_instance_type),
    Rule("variant-instance-type-in-enum",
         "An endpoint variant's instance type is one of ProductionVariantInstanceType",
         API + "API_ProductionVariant.html", variant_instance_type),
    Rule("multi-model-runs-on-cpu",
         "Multi-model endpoints with SageMaker's XGBoost/scikit-learn containers use CPU instances only",
         DG + "multi-model-support.html", multi_model_on_cpu),
    Rule("multi-model-artifact-before-create-model",
         "CreateModel with Mode=MultiModel is sent only once an object exists under its ModelDataUrl",
         DG + "create-multi-model-endpoint.html", multi_model_artifact_first),
    Rule("model-artifact-exists-at-create-model",
         "CreateModel for a single model names an artifact that exists",
         API + "API_ContainerDefinition.html", single_model_artifact_exists),
    Rule("multi-model-targets-never-rewritten",
         "A multi-model target is never overwritten from another artifact (new versions get new names)",
         DG + "add-models-to-endpoint.html", multi_model_targets_never_rewritten),
    Rule("no-update-while-scalable",
         "An UpdateEndpoint that changes the instance type is sent only once the scalable target is "
         "deregistered",
         DG + "endpoint-scaling-update.html", no_update_while_scalable),
    Rule("transform-model-client-config",
         "CreateTransformJob sends ModelClientConfig (the per-request timeout; AWS's default is 600 s)",
         API + "API_ModelClientConfig.html", transform_model_client_config),
    Rule("transform-payload-at-least-1-mb",
         "CreateTransformJob's MaxPayloadInMB is at least 1 (0 means chunked encoding, which "
         "SageMaker's own containers do not support)",
         API + "API_CreateTransformJob.html", transform_payload_at_least_one),
    Rule("recordio-split-iff-recordio-content",
         "SplitType=RecordIO only for application/x-recordio-protobuf, which is split by RecordIO or sent "
         "whole (None), never by Line",
         API + "API_TransformInput.html", recordio_split),
)
# fmt: on
