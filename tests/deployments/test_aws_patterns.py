"""Settings AWS validates by pattern are refused first by the product, with AWS's own rule (issue 9 item 3).

The rule is read from botocore's SageMaker model (deployments.aws.service_model), so the form, the service
and AWS agree by construction; the emulator, which validates requests against the same model as AWS does
("Member must satisfy regular expression pattern", API_AsyncInferenceOutputConfig.html,
API_AsyncInferenceNotificationConfig.html), is the referee.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import botocore.session
import pytest
from django.urls import reverse

from deployments.aws.service_model import string_rule
from deployments.models import Deployment, Kind
from deployments.resources import aws_base_name
from deployments.rules import KIND_RULES, PATTERN_EXAMPLES, settings_normalise, settings_problems
from emulator.errors import AwsError
from emulator.validation import operation, validate_request
from tenants.models import Tenant, slug_validator
from tests.deployments.conftest import make_package

PATTERNED = sorted({s for rule in KIND_RULES.values() for s in rule.settings if s.pattern_shape}, key=str)


def test_the_patterned_settings_are_asyncs_outputs_and_topics() -> None:
    names = {spec.name: spec.pattern_shape for spec in PATTERNED}
    assert names == {
        "output_path": "DestinationS3Uri",
        "failure_path": "DestinationS3Uri",
        "success_topic": "SnsTopicArn",
        "error_topic": "SnsTopicArn",
    }


@pytest.mark.parametrize("spec", PATTERNED, ids=lambda spec: spec.name)
def test_each_rule_is_botocores_and_its_example_passes_it(spec: Any) -> None:
    shape = botocore.session.get_session().get_service_model("sagemaker").shape_for(spec.pattern_shape)
    rule = string_rule(spec.pattern_shape)
    assert (rule.pattern, rule.max_length) == (shape.metadata["pattern"], shape.metadata.get("max"))
    assert rule.matches(PATTERN_EXAMPLES[spec.pattern_shape][1])


def _aws_refuses(output: dict[str, Any]) -> bool:
    """Whether CreateEndpointConfig refuses an async config with `output` (the emulator checks as AWS)."""
    params = {
        "EndpointConfigName": "sa-alpha-as-1a2b3c4d-g1",
        "ProductionVariants": [
            {"VariantName": "AllTraffic", "ModelName": "m", "InstanceType": "ml.m5.large",
             "InitialInstanceCount": 1}
        ],
        "AsyncInferenceConfig": {"OutputConfig": output},
    }  # fmt: skip
    op = operation("CreateEndpointConfig")
    assert op is not None
    try:
        validate_request(op, params)
    except AwsError:
        return True
    return False


S3_VALUES = ["s3://b/k/", "s3://my-bucket", "https://b.s3.amazonaws.com/x", "not-an-s3-path", "s3:/b/k",
             "S3://b/k", "bucket/prefix/", " s3://b/k", "s3://b/" + "k" * 600]  # fmt: skip
ARN_VALUES = ["arn:aws:sns:us-east-1:123456789012:done", "arn:aws-cn:sns:cn-north-1:123456789012:a.b-c_d",
              "arn:bad", "arn:aws:sns:us-east-1:12345:done", "arn:aws:sqs:us-east-1:123456789012:q",
              "arn:aws:sns:us-east-1:123456789012:"]  # fmt: skip


@pytest.mark.parametrize("value", S3_VALUES)
def test_the_product_refuses_exactly_the_s3_paths_aws_refuses(value: str) -> None:
    values = settings_normalise(Kind.ASYNC, {"output_path": value, "failure_path": value})
    problems = settings_problems(Kind.ASYNC, values)
    refused = _aws_refuses({"S3OutputPath": value, "S3FailurePath": value})
    assert ("output_path" in problems) == ("failure_path" in problems) == refused


@pytest.mark.parametrize("value", ARN_VALUES)
def test_the_product_refuses_exactly_the_topic_arns_aws_refuses(value: str) -> None:
    values = settings_normalise(Kind.ASYNC, {"success_topic": value, "error_topic": value})
    problems = settings_problems(Kind.ASYNC, values)
    notify = {"SuccessTopic": value, "ErrorTopic": value}
    refused = _aws_refuses({"S3OutputPath": "s3://b/o/", "NotificationConfig": notify})
    assert ("success_topic" in problems) == ("error_topic" in problems) == refused


def test_the_async_form_refuses_a_bad_path_and_topic_and_says_what_fits(
    client: Any, world: SimpleNamespace
) -> None:
    client.force_login(world.operator)
    package = make_package(world.tenant_a)
    form = client.get(reverse("deployment_new"), {"tenant": world.tenant_a.pk}).content.decode()
    assert 'placeholder="s3://my-bucket/async/output/"' in form  # the page shows what a valid value is
    data = {
        "uid": "6f0d3b3e-8a41-4a6f-9a55-0b8c2f6e7d10", "name": "alpha-async", "kind": Kind.ASYNC,
        "isolation": "silo", "tenant": world.tenant_a.pk, "model_package": package.pk,
        "instance_type": "ml.m5.large", "instance_count": "1", "max_concurrent_invocations": "4",
        "min_capacity": "0", "max_capacity": "2", "output_path": "not-an-s3-path", "success_topic": "arn:bad",
    }  # fmt: skip
    for action in ("plan", "apply"):
        response = client.post(reverse("deployment_new"), {**data, "action": action})
        body = response.content.decode()
        assert response.status_code == 200
        assert "S3 output path must be an S3 URI such as s3://my-bucket/async/output/" in body
        assert "got “not-an-s3-path”" in body
        assert "SNS success topic ARN must be an SNS topic ARN such as arn:aws:sns:" in body
    assert not Deployment.objects.exists()


# Every name the product sends is derived from a tenant slug (tenants.models.SLUG_RE) and a uid: any slug
# the onboarding form accepts must give names AWS accepts, checked against the same botocore rules.
SLUGS = ["a", "0", "a--b", "z" * 40, "acme-analytics-europe-north-2024"]


@pytest.mark.parametrize("slug", SLUGS)
def test_every_aws_name_derived_from_a_valid_slug_satisfies_aws_s_name_patterns(slug: str) -> None:
    slug_validator(slug)
    for kind in Kind.values:
        base = aws_base_name(tenant=Tenant(slug=slug), kind=kind, uid_hex="f" * 32)
        for shape, name in [("EndpointName", base), ("ModelName", f"{base}-g9999"),
                            ("EndpointConfigName", f"{base}-g9999"), ("TransformJobName", f"{base}-r99999"),
                            ("ContainerHostname", slug)]:  # fmt: skip
            assert string_rule(shape).matches(name), (shape, name)
