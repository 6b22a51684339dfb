"""Batch transform's ModelClientConfig and MaxPayloadInMB, as the SageMaker API Reference documents them
(CreateTransformJob; ModelClientConfig: InvocationsTimeoutInSeconds 1-3600, default 600;
InvocationsMaxRetries 0-3, default 3; MaxPayloadInMB 0 means HTTP chunked encoding, which SageMaker's
built-in algorithms do not support)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator import transform
from emulator.testing import BUCKET, ROLE, wait_job, xgboost_model
from tests.emulator.test_batch_transform import job_request


@pytest.fixture(scope="module")
def model(sagemaker: Any, demo: Any) -> str:
    sagemaker.create_model(
        ModelName="client-config", ExecutionRoleArn=ROLE, **xgboost_model(demo.models["acme"])
    )
    return "client-config"


@pytest.fixture
def one_row(s3: Any, name: str) -> tuple[str, str]:
    s3.put_object(Bucket=BUCKET, Key=f"{name}/in/a.csv", Body=b"1,2,3,4,5,6\n")
    return f"s3://{BUCKET}/{name}/in/", f"s3://{BUCKET}/{name}/out/"


@pytest.fixture
def slow_calls(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The container answers its first request after 1.2 s (past a 1 s timeout), later ones at once."""
    calls: list[float] = []
    predict = transform.predict

    def slow_first(*args: Any) -> tuple[bytes, str]:
        calls.append(time.monotonic())
        if len(calls) == 1:
            time.sleep(1.2)
        return predict(*args)

    monkeypatch.setattr(transform, "predict", slow_first)
    return calls


def test_the_client_config_is_stored_and_described(
    sagemaker: Any, model: str, one_row: tuple[str, str], name: str
) -> None:
    config = {"InvocationsTimeoutInSeconds": 1800, "InvocationsMaxRetries": 1}
    sagemaker.create_transform_job(**job_request(name, model, *one_row, ModelClientConfig=config))
    described = wait_job(sagemaker, name)
    assert described["TransformJobStatus"] == "Completed", described.get("FailureReason")
    assert described["ModelClientConfig"] == config


def test_a_request_past_the_timeout_fails_the_job_without_retries(
    sagemaker: Any, model: str, one_row: tuple[str, str], name: str, slow_calls: list[float]
) -> None:
    config = {"InvocationsTimeoutInSeconds": 1, "InvocationsMaxRetries": 0}
    sagemaker.create_transform_job(**job_request(name, model, *one_row, ModelClientConfig=config))
    described = wait_job(sagemaker, name)
    assert described["TransformJobStatus"] == "Failed"
    assert "did not respond to /invocations request within 1 seconds" in described["FailureReason"]
    assert len(slow_calls) == 1


def test_a_timed_out_request_is_retried(
    sagemaker: Any, s3: Any, model: str, one_row: tuple[str, str], name: str, slow_calls: list[float]
) -> None:
    config = {"InvocationsTimeoutInSeconds": 1, "InvocationsMaxRetries": 1}
    sagemaker.create_transform_job(**job_request(name, model, *one_row, ModelClientConfig=config))
    described = wait_job(sagemaker, name)
    assert described["TransformJobStatus"] == "Completed", described.get("FailureReason")
    assert len(slow_calls) == 2
    assert s3.get_object(Bucket=BUCKET, Key=f"{name}/out/a.csv.out")["Body"].read().strip()


@pytest.mark.parametrize(
    ("config", "member"),
    [
        ({"InvocationsTimeoutInSeconds": 3601}, "modelClientConfig.invocationsTimeoutInSeconds"),
        ({"InvocationsMaxRetries": 4}, "modelClientConfig.invocationsMaxRetries"),
    ],
)
def test_a_client_config_out_of_range_is_refused(
    sagemaker: Any, model: str, name: str, config: dict[str, int], member: str
) -> None:
    request = job_request(name, model, f"s3://{BUCKET}/x/", f"s3://{BUCKET}/y", ModelClientConfig=config)
    with pytest.raises(ClientError) as refused:
        sagemaker.create_transform_job(**request)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert member in refused.value.response["Error"]["Message"]


def test_a_zero_max_payload_fails_the_job_as_chunked_encoding_is_unsupported(
    sagemaker: Any, model: str, one_row: tuple[str, str], name: str
) -> None:
    sagemaker.create_transform_job(**job_request(name, model, *one_row, MaxPayloadInMB=0))
    described = wait_job(sagemaker, name)
    assert described["TransformJobStatus"] == "Failed"
    assert "chunked encoding" in described["FailureReason"]
