"""The checkers themselves: each rule and the shape check refuse a known-bad request and pass a good one,
so a green contract suite means the product's requests are right, not that the checks are blind."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.capture import Call
from tests.contract.rules import RULES, Rule
from tests.contract.shapes import request_problems

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.0-5"
ROLE = "arn:aws:iam::123456789012:role/saasadmin-sagemaker"
PREFIX = "s3://b/mme/e/"


def calls(*specs: tuple[str, dict[str, Any]] | tuple[str, dict[str, Any], dict[str, Any]]) -> list[Call]:
    """Calls in order from (operation, params[, observed]); the service follows from the operation."""
    services = {
        "CopyObject": "s3",
        "PutObject": "s3",
        "DeleteObject": "s3",
        "InvokeEndpoint": "sagemaker-runtime",
    }
    autoscaling = ("RegisterScalableTarget", "DeregisterScalableTarget")
    made = []
    for seq, (operation, params, *observed) in enumerate(specs, start=1):
        service = (
            "application-autoscaling" if operation in autoscaling else services.get(operation, "sagemaker")
        )
        kind = "multi_model" if "MultiModel" in repr(params) else ""
        made.append(Call(seq, "example", kind, "step", service, operation, params, *observed))
    return made


def model(
    name: str = "m", url: str = "s3://b/models/a/model.tar.gz", **container: str
) -> tuple[str, dict[str, Any]]:
    return "CreateModel", {
        "ModelName": name,
        "ExecutionRoleArn": ROLE,
        "PrimaryContainer": {"Image": IMAGE, "ModelDataUrl": url, **container},
    }


def multi_model(there: bool = True, url: str = PREFIX) -> tuple[str, dict[str, Any], dict[str, Any]]:
    return (*model("mm", url, Mode="MultiModel"), {"artifacts": {url: there}})


def direct(*hostnames: str, mode: str = "Direct") -> tuple[str, dict[str, Any]]:
    listed = [{"Image": IMAGE, "ModelDataUrl": "s3://b/m.tar.gz", "ContainerHostname": h} for h in hostnames]
    return "CreateModel", {
        "ModelName": "mc",
        "Containers": listed,
        "InferenceExecutionConfig": {"Mode": mode},
    }


def config(model_name: str = "m", **variant: Any) -> tuple[str, dict[str, Any]]:
    async_config = variant.pop("async_config", None)
    chosen = variant or {"InstanceType": "ml.m5.large", "InitialInstanceCount": 1}
    params: dict[str, Any] = {
        "EndpointConfigName": "c",
        "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": model_name, **chosen}],
    }
    if async_config is not None:
        params["AsyncInferenceConfig"] = async_config
    return "CreateEndpointConfig", params


def job(**changes: Any) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {
        "TransformJobName": "j",
        "ModelName": "m",
        "MaxPayloadInMB": 6,
        "ModelClientConfig": {"InvocationsTimeoutInSeconds": 3600, "InvocationsMaxRetries": 1},
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/in/"}},
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        "TransformOutput": {"S3OutputPath": "s3://b/out/"},
        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
    }
    for key, value in changes.items():
        target = params["TransformInput"] if key in ("ContentType", "SplitType") else params
        if value is None:
            target.pop(key)
        else:
            target[key] = value
    return "CreateTransformJob", params


def scaling(operation: str, endpoint: str = "e") -> tuple[str, dict[str, Any]]:
    return operation, {
        "ServiceNamespace": "sagemaker",
        "ResourceId": f"endpoint/{endpoint}/variant/AllTraffic",
        "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
    }


def copy(key: str, source: str) -> tuple[str, dict[str, Any]]:
    return "CopyObject", {"Bucket": "b", "Key": key, "CopySource": source}


def named_config(config_name: str, instance_type: str) -> tuple[str, dict[str, Any]]:
    operation, params = config(InstanceType=instance_type, InitialInstanceCount=1)
    return operation, {**params, "EndpointConfigName": config_name}


# An endpoint on ml.m5.large; BIGGER moves it to ml.m5.xlarge (refused while scalable), SAME_TYPE only
# changes what it serves (allowed).
ENDPOINT = (
    named_config("c1", "ml.m5.large"),
    ("CreateEndpoint", {"EndpointName": "e", "EndpointConfigName": "c1"}),
)
BIGGER, UPDATE = (
    named_config("c2", "ml.m5.xlarge"),
    ("UpdateEndpoint", {"EndpointName": "e", "EndpointConfigName": "c2"}),
)
SAME_TYPE = named_config("c3", "ml.m5.large")
UPDATE_SAME = ("UpdateEndpoint", {"EndpointName": "e", "EndpointConfigName": "c3"})
SERVERLESS = {"ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5}}
RECORDIO = "application/x-recordio-protobuf"

# rule id → (requests that break it, requests that keep it)
EXAMPLES: dict[str, tuple[list[Call], list[Call]]] = {
    "multi-model-data-url-is-a-prefix": (calls(multi_model(url="s3://b/mme/e")), calls(multi_model())),
    "target-model-is-relative": (
        calls(
            ("InvokeEndpoint", {"EndpointName": "e", "Body": b"1", "TargetModel": "s3://b/mme/e/a.tar.gz"})
        ),
        calls(("InvokeEndpoint", {"EndpointName": "e", "Body": b"1", "TargetModel": "acme-v3.tar.gz"})),
    ),
    "multi-container-direct": (calls(direct("a", "a")), calls(direct("a", "b"))),
    "serverless-variant-has-no-instances": (
        calls(config(**SERVERLESS, InstanceType="ml.m5.large")),
        calls(config(**SERVERLESS)),
    ),
    "async-config-has-output-path": (
        calls(config(async_config={"OutputConfig": {}})),
        calls(config(async_config={"OutputConfig": {"S3OutputPath": "s3://b/async/"}})),
    ),
    "sagemaker-names-match-the-pattern": (calls(model("bad_name")), calls(model("good-name-1"))),
    "tag-keys-are-not-reserved": (
        calls(("PutObject", {"Bucket": "b", "Key": "k", "Tagging": "aws:owner=x"})),
        calls(("PutObject", {"Bucket": "b", "Key": "k", "Tagging": "saasadmin:tenant=acme"})),
    ),
    "transform-instance-type-in-enum": (
        calls(job(TransformResources={"InstanceType": "ml.t2.medium", "InstanceCount": 1})),
        calls(job()),
    ),
    "variant-instance-type-in-enum": (calls(config(InstanceType="ml.z9.huge")), calls(config())),
    "multi-model-runs-on-cpu": (
        calls(multi_model(), config("mm", InstanceType="ml.g5.xlarge", InitialInstanceCount=1)),
        calls(multi_model(), config("mm")),
    ),
    "multi-model-artifact-before-create-model": (calls(multi_model(there=False)), calls(multi_model())),
    "model-artifact-exists-at-create-model": (
        calls((*model(), {"artifacts": {"s3://b/models/a/model.tar.gz": False}})),
        calls((*model(), {"artifacts": {"s3://b/models/a/model.tar.gz": True}})),
    ),
    "multi-model-targets-never-rewritten": (
        calls(
            multi_model(),
            copy("mme/e/acme.tar.gz", "b/models/acme/v1.tar.gz"),
            ("DeleteObject", {"Bucket": "b", "Key": "mme/e/acme.tar.gz"}),
            copy("mme/e/acme.tar.gz", "b/models/acme/v2.tar.gz"),
        ),
        calls(
            multi_model(),
            copy("mme/e/acme-v1.tar.gz", "b/models/acme/v1.tar.gz"),
            copy("mme/e/acme-v1.tar.gz", "b/models/acme/v1.tar.gz"),
            copy("mme/e/acme-v2.tar.gz", "b/models/acme/v2.tar.gz"),
        ),
    ),
    "no-update-while-scalable": (
        calls(*ENDPOINT, scaling("RegisterScalableTarget"), BIGGER, UPDATE),
        calls(
            *ENDPOINT,
            scaling("RegisterScalableTarget"),
            SAME_TYPE,
            UPDATE_SAME,
            scaling("DeregisterScalableTarget"),
            BIGGER,
            UPDATE,
            scaling("RegisterScalableTarget"),
        ),
    ),
    "transform-model-client-config": (calls(job(ModelClientConfig=None)), calls(job())),
    "transform-payload-at-least-1-mb": (calls(job(MaxPayloadInMB=0)), calls(job(MaxPayloadInMB=1))),
    "recordio-split-iff-recordio-content": (
        calls(job(ContentType=RECORDIO, SplitType="Line")),
        calls(job(ContentType=RECORDIO, SplitType="RecordIO")),
    ),
}


def test_every_rule_has_a_bad_and_a_good_example() -> None:
    assert sorted(EXAMPLES) == sorted(rule.id for rule in RULES)


@pytest.mark.parametrize("rule", [pytest.param(rule, id=rule.id) for rule in RULES])
def test_the_rule_refuses_its_bad_example(rule: Rule) -> None:
    bad, _ = EXAMPLES[rule.id]
    verdict = rule.check(bad)
    assert verdict.checked
    assert verdict.problems


@pytest.mark.parametrize("rule", [pytest.param(rule, id=rule.id) for rule in RULES])
def test_the_rule_passes_its_good_example(rule: Rule) -> None:
    _, good = EXAMPLES[rule.id]
    verdict = rule.check(good)
    assert verdict.checked
    assert verdict.problems == []


GOOD_MODEL = model()[1]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param(
            {**GOOD_MODEL, "Colour": "red"}, 'Unknown parameter in input: "Colour"', id="unknown-field"
        ),
        pytest.param(
            {**GOOD_MODEL, "EnableNetworkIsolation": "yes"}, "Invalid type for parameter", id="wrong-type"
        ),
        pytest.param(
            {"ExecutionRoleArn": ROLE}, 'Missing required parameter in input: "ModelName"', id="missing"
        ),
        pytest.param(
            {**GOOD_MODEL, "ModelName": "bad_name"}, "Member must satisfy regular expression", id="pattern"
        ),
        pytest.param({**GOOD_MODEL, "ModelName": "m" * 64}, "length less than or equal to 63", id="too-long"),
        pytest.param(
            {**GOOD_MODEL, "InferenceExecutionConfig": {"Mode": "Sideways"}},
            "Member must satisfy enum value set: [Serial, Direct]",
            id="enum",
        ),
    ],
)
def test_the_shape_check_refuses_what_aws_refuses(params: dict[str, Any], expected: str) -> None:
    problems = request_problems("sagemaker", "CreateModel", params)
    assert any(expected in problem for problem in problems), problems


def test_the_shape_check_passes_a_valid_request() -> None:
    assert request_problems("sagemaker", "CreateModel", GOOD_MODEL) == []


def test_the_shape_check_counts_list_maximums() -> None:
    many = [{"Image": IMAGE, "ContainerHostname": f"h{n}"} for n in range(16)]
    problems = request_problems("sagemaker", "CreateModel", {"ModelName": "m", "Containers": many})
    assert any("length less than or equal to 15" in problem for problem in problems), problems
