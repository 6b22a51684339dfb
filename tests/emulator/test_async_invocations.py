"""InvokeEndpointAsync through boto3: S3 input, S3 output or failure, SNS notifications."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError

from emulator import artifacts
from emulator.testing import BUCKET, csv_body, scores, wait_until, xgboost_model


@pytest.fixture(scope="module")
def topics(aws: Any) -> dict[str, Any]:
    """Success and error topics, each with an SQS queue subscribed to read notifications back."""
    sns, sqs = aws("sns"), aws("sqs")
    found = {}
    for kind in ("success", "error"):
        topic = sns.create_topic(Name=f"async-{kind}")["TopicArn"]
        queue = sqs.create_queue(QueueName=f"async-{kind}")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sns.subscribe(
            TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
        )
        found[kind] = {"topic": topic, "queue": queue}
    return found


@pytest.fixture(scope="module")
def async_endpoint(deploy: Any, demo: Any, topics: dict[str, Any]) -> str:
    """An asynchronous endpoint serving acme's model with both notification topics."""
    config = {
        "AsyncInferenceConfig": {
            "OutputConfig": {
                "S3OutputPath": f"s3://{BUCKET}/async/output",
                "S3FailurePath": f"s3://{BUCKET}/async/failure",
                "NotificationConfig": {
                    "SuccessTopic": topics["success"]["topic"],
                    "ErrorTopic": topics["error"]["topic"],
                },
            }
        }
    }
    return deploy("async-acme", model=xgboost_model(demo.models["acme"]), config=config)


def notifications(aws: Any, queue: str) -> list[dict[str, Any]]:
    """Messages waiting on a queue."""
    received = aws("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in received]


def s3_exists(s3: Any, uri: str) -> bool:
    """Whether the object behind an s3:// URI exists."""
    bucket, _, key = uri[5:].partition("/")
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError:
        return False
    return True


def test_it_writes_the_result_to_s3_and_notifies_success(
    aws: Any, s3: Any, runtime: Any, async_endpoint: str, topics: dict[str, Any], features: np.ndarray
) -> None:
    s3.put_object(Bucket=BUCKET, Key="async/input/one.csv", Body=csv_body(features))
    answer = runtime.invoke_endpoint_async(
        EndpointName=async_endpoint,
        InputLocation=f"s3://{BUCKET}/async/input/one.csv",
        ContentType="text/csv",
    )
    inference_id = answer["InferenceId"]
    assert answer["OutputLocation"] == f"s3://{BUCKET}/async/output/{inference_id}.out"
    assert answer["FailureLocation"] == f"s3://{BUCKET}/async/failure/{inference_id}-error.out"
    wait_until(lambda: s3_exists(s3, answer["OutputLocation"]))
    body = s3.get_object(Bucket=BUCKET, Key=f"async/output/{inference_id}.out")["Body"].read()
    expected = artifacts.train_xgboost("acme").inplace_predict(features)
    np.testing.assert_allclose(scores(body), expected, rtol=1e-6)
    messages: list[dict[str, Any]] = []
    wait_until(lambda: bool(messages.extend(notifications(aws, topics["success"]["queue"])) or messages))
    assert messages[0]["inferenceId"] == inference_id
    assert messages[0]["invocationStatus"] == "Completed"
    assert messages[0]["responseParameters"]["outputLocation"] == answer["OutputLocation"]


def test_it_writes_the_failure_to_the_failure_path_and_notifies_the_error_topic(
    aws: Any, s3: Any, runtime: Any, async_endpoint: str, topics: dict[str, Any]
) -> None:
    s3.put_object(Bucket=BUCKET, Key="async/input/bad.csv", Body=b"1,2,3\n")
    answer = runtime.invoke_endpoint_async(
        EndpointName=async_endpoint,
        InputLocation=f"s3://{BUCKET}/async/input/bad.csv",
        ContentType="text/csv",
    )
    wait_until(lambda: s3_exists(s3, answer["FailureLocation"]))
    assert not s3_exists(s3, answer["OutputLocation"])
    messages: list[dict[str, Any]] = []
    wait_until(lambda: bool(messages.extend(notifications(aws, topics["error"]["queue"])) or messages))
    assert messages[0]["invocationStatus"] == "Failed"
    assert "Feature shape mismatch" in messages[0]["failureReason"]


def test_it_uses_the_given_inference_id(s3: Any, runtime: Any, async_endpoint: str) -> None:
    s3.put_object(Bucket=BUCKET, Key="async/input/two.csv", Body=b"1,2,3,4,5,6\n")
    answer = runtime.invoke_endpoint_async(
        EndpointName=async_endpoint,
        InputLocation=f"s3://{BUCKET}/async/input/two.csv",
        ContentType="text/csv",
        InferenceId="my-request-1",
    )
    assert answer["InferenceId"] == "my-request-1"
    wait_until(lambda: s3_exists(s3, answer["OutputLocation"]))


def test_a_missing_input_object_ends_in_the_failure_path(s3: Any, runtime: Any, async_endpoint: str) -> None:
    answer = runtime.invoke_endpoint_async(
        EndpointName=async_endpoint,
        InputLocation=f"s3://{BUCKET}/async/input/none.csv",
        ContentType="text/csv",
    )
    wait_until(lambda: s3_exists(s3, answer["FailureLocation"]))


def test_a_realtime_endpoint_refuses_async_calls(runtime: Any, deploy: Any, demo: Any, name: str) -> None:
    deploy(name, model=xgboost_model(demo.models["acme"]))
    with pytest.raises(ClientError) as excinfo:
        runtime.invoke_endpoint_async(EndpointName=name, InputLocation=f"s3://{BUCKET}/async/input/one.csv")
    assert excinfo.value.response["Error"]["Code"] == "ValidationError"
