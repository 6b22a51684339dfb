"""One port for every service, and AWS-shaped answers to malformed requests (raw HTTP here on purpose)."""

from __future__ import annotations

import http.client
import json
from typing import Any

import boto3
import pytest

import emulator
from emulator.testing import REGION

SIGNED = (
    "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/sagemaker/aws4_request, "
    "SignedHeaders=host, Signature=x"
)


def post(
    handle: emulator.EmulatorHandle, body: bytes, headers: dict[str, str], path: str = "/"
) -> tuple[int, Any]:
    """POST raw bytes; returns (status, parsed JSON body)."""
    connection = http.client.HTTPConnection("127.0.0.1", handle.port, timeout=10)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def control(handle: emulator.EmulatorHandle, action: str, body: bytes) -> tuple[int, Any]:
    """A SageMaker JSON 1.1 call."""
    headers = {"X-Amz-Target": f"SageMaker.{action}", "Content-Type": "application/x-amz-json-1.1"}
    return post(handle, body, {**headers, "Authorization": SIGNED})


def test_bad_json_is_a_serialization_exception(emulator_handle: emulator.EmulatorHandle) -> None:
    status, body = control(emulator_handle, "DescribeEndpoint", b"{not json")
    assert status == 400
    assert body["__type"] == "SerializationException"


def test_an_unknown_action_is_an_unknown_operation(emulator_handle: emulator.EmulatorHandle) -> None:
    status, body = control(emulator_handle, "Frobnicate", b"{}")
    assert (status, body["__type"]) == (400, "UnknownOperationException")


def test_an_action_the_emulator_lacks_says_so(emulator_handle: emulator.EmulatorHandle) -> None:
    status, body = control(emulator_handle, "CreateTrainingJob", b"{}")
    assert (status, body["__type"]) == (400, "UnknownOperationException")
    assert "does not implement CreateTrainingJob" in body["message"]


def test_missing_fields_are_listed_as_aws_does(emulator_handle: emulator.EmulatorHandle) -> None:
    status, body = control(emulator_handle, "CreateEndpoint", b"{}")
    assert status == 400
    assert body["__type"] == "ValidationException"
    assert body["message"].startswith("2 validation errors detected: ")
    assert (
        "Value null at 'endpointName' failed to satisfy constraint: Member must not be null"
        in body["message"]
    )


@pytest.mark.parametrize("payload", [b"[]", b'{"EndpointName": 5}', b'"text"'])
def test_wrong_types_are_serialization_exceptions(
    emulator_handle: emulator.EmulatorHandle, payload: bytes
) -> None:
    status, body = control(emulator_handle, "DescribeEndpoint", payload)
    assert (status, body["__type"]) == (400, "SerializationException")


def test_a_signed_sagemaker_call_without_target_is_refused(emulator_handle: emulator.EmulatorHandle) -> None:
    status, body = post(emulator_handle, b"{}", {"Authorization": SIGNED, "Content-Type": "application/json"})
    assert (status, body["__type"]) == (400, "UnknownOperationException")


def test_an_invocation_of_nothing_is_a_validation_error(emulator_handle: emulator.EmulatorHandle) -> None:
    status, body = post(
        emulator_handle, b"1,2", {"Content-Type": "text/csv"}, path="/endpoints/ghost/invocations"
    )
    assert (status, body["__type"]) == (400, "ValidationError")


def test_moto_services_answer_on_the_same_port(aws: Any) -> None:
    topic = aws("sns").create_topic(Name="dispatch-check")["TopicArn"]
    assert topic.endswith(":dispatch-check")
    aws("cloudwatch").put_metric_data(Namespace="Custom", MetricData=[{"MetricName": "m", "Value": 1.0}])
    assert aws("cloudwatch").list_metrics(Namespace="Custom")["Metrics"][0]["MetricName"] == "m"
    answer = aws("ce").get_cost_and_usage(
        TimePeriod={"Start": "2026-01-01", "End": "2026-02-01"},
        Granularity="MONTHLY",
        Metrics=["UnblendedCost"],
    )
    assert "ResultsByTime" in answer


def test_cost_explorer_answers_the_results_queued_through_moto_api(
    emulator_handle: emulator.EmulatorHandle, aws: Any
) -> None:
    queued = {
        "ResultsByTime": [
            {
                "TimePeriod": {"Start": "2026-03-01", "End": "2026-04-01"},
                "Total": {"UnblendedCost": {"Amount": "42.5", "Unit": "USD"}},
            }
        ]
    }
    status, _ = post(
        emulator_handle,
        json.dumps({"results": [queued]}).encode(),
        {"Content-Type": "application/json"},
        path="/moto-api/static/ce/cost-and-usage-results",
    )
    assert status == 201
    answer = aws("ce").get_cost_and_usage(
        TimePeriod={"Start": "2026-03-01", "End": "2026-04-01"},
        Granularity="MONTHLY",
        Metrics=["UnblendedCost"],
    )
    assert answer["ResultsByTime"][0]["Total"]["UnblendedCost"]["Amount"] == "42.5"


def test_the_standard_endpoint_variables_reach_the_emulator(
    emulator_handle: emulator.EmulatorHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER", emulator_handle.url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", emulator_handle.url)
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    assert "Endpoints" in session.client("sagemaker").list_endpoints()
    assert "Buckets" in session.client("s3").list_buckets()
