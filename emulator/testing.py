"""Helpers for tests that drive an emulator through boto3: client settings, polling, CSV in and out."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

REGION = "us-east-1"
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.0-5"
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.4-2-cpu-py3"
ROLE = "arn:aws:iam::123456789012:role/saasadmin-sagemaker"
BUCKET = "emulator-tests"
TENANTS = ["acme", "globex"]


def client_kwargs(url: str) -> dict[str, Any]:
    """boto3 keyword arguments that reach an emulator."""
    return {
        "endpoint_url": url,
        "region_name": REGION,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }


def wait_until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll `check` every 10 ms until it holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached in time")
        time.sleep(0.01)


def endpoint_status(sagemaker: Any, name: str) -> str:
    """The endpoint's status, or "Gone" once it no longer exists."""
    try:
        return sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"]
    except sagemaker.exceptions.ClientError:
        return "Gone"


def wait_endpoint(sagemaker: Any, name: str, wanted: str = "InService") -> dict[str, Any]:
    """Wait until the endpoint leaves its transitional state, then check it reached `wanted`."""
    wait_until(lambda: endpoint_status(sagemaker, name) not in ("Creating", "Updating", "Deleting"))
    if wanted == "Gone":
        assert endpoint_status(sagemaker, name) == "Gone"
        return {}
    described = sagemaker.describe_endpoint(EndpointName=name)
    assert described["EndpointStatus"] == wanted, described.get("FailureReason")
    return described


def wait_job(sagemaker: Any, name: str) -> dict[str, Any]:
    """Wait until a transform job reaches a terminal status; return its description."""
    terminal = ("Completed", "Failed", "Stopped")

    def done() -> bool:
        return sagemaker.describe_transform_job(TransformJobName=name)["TransformJobStatus"] in terminal

    wait_until(done)
    return sagemaker.describe_transform_job(TransformJobName=name)


def csv_body(rows: np.ndarray) -> bytes:
    """CSV without header, as the XGBoost container reads it."""
    return "\n".join(",".join(format(float(v), "g") for v in row) for row in rows).encode()


def scores(body: bytes) -> np.ndarray:
    """One score per line, as the XGBoost container writes them."""
    return np.array([float(line) for line in body.decode().split("\n") if line.strip()])


def xgboost_model(model_data_url: str) -> dict[str, Any]:
    """CreateModel arguments for the SageMaker XGBoost container."""
    return {"PrimaryContainer": {"Image": XGBOOST_IMAGE, "ModelDataUrl": model_data_url}}


def model_on_vanished_artifact(s3: Any, sagemaker: Any, name: str) -> str:
    """A model whose artifact was there at CreateModel and deleted since; returns its ModelDataUrl.

    CreateModel refuses a missing artifact, so this is how an endpoint meets one, on AWS as here.
    """
    key = f"vanished/{name}/model.tar.gz"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"deleted before any endpoint loads it")
    sagemaker.create_model(ModelName=name, ExecutionRoleArn=ROLE, **xgboost_model(f"s3://{BUCKET}/{key}"))
    s3.delete_object(Bucket=BUCKET, Key=key)
    return f"s3://{BUCKET}/{key}"


def metric_statistics(
    cloudwatch: Any, endpoint: str, metric: str, variant: str = "AllTraffic"
) -> dict[str, float]:
    """Sum and SampleCount of an AWS/SageMaker metric over the last hour (zeros when nothing was emitted)."""
    now = datetime.now(UTC)
    points = cloudwatch.get_metric_statistics(
        Namespace="AWS/SageMaker",
        MetricName=metric,
        Dimensions=[{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=5),
        Period=3600,
        Statistics=["Sum", "SampleCount"],
    )["Datapoints"]
    return {"Sum": sum(p["Sum"] for p in points), "SampleCount": sum(p["SampleCount"] for p in points)}
