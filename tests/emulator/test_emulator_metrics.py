"""CloudWatch metrics under AWS/SageMaker, read back with GetMetricStatistics as product code does."""

from __future__ import annotations

import contextlib
from typing import Any

from emulator.testing import BUCKET, XGBOOST_IMAGE, wait_until, xgboost_model
from emulator.testing import metric_statistics as statistics


def test_invocations_and_latency_are_emitted_per_endpoint_and_variant(
    aws: Any, runtime: Any, deploy: Any, demo: Any, name: str
) -> None:
    deploy(name, model=xgboost_model(demo.models["acme"]))
    for _ in range(3):
        runtime.invoke_endpoint(EndpointName=name, Body=b"1,2,3,4,5,6", ContentType="text/csv")
    with contextlib.suppress(runtime.exceptions.ModelError):
        runtime.invoke_endpoint(EndpointName=name, Body=b"1,2", ContentType="text/csv")
    cloudwatch = aws("cloudwatch")
    wait_until(lambda: statistics(cloudwatch, name, "Invocations")["Sum"] == 4)
    assert statistics(cloudwatch, name, "Invocation4XXErrors")["Sum"] == 1
    assert statistics(cloudwatch, name, "Invocation5XXErrors")["Sum"] == 0
    latency = statistics(cloudwatch, name, "ModelLatency")
    assert latency["SampleCount"] == 4
    assert latency["Sum"] > 0
    assert statistics(cloudwatch, name, "OverheadLatency")["SampleCount"] == 4


def test_a_multi_model_endpoint_reports_cache_hits_and_loading_waits(
    aws: Any, s3: Any, runtime: Any, deploy: Any, name: str
) -> None:
    s3.copy_object(
        Bucket=BUCKET,
        Key=f"{name}/tenant/model.tar.gz",
        CopySource={"Bucket": BUCKET, "Key": "models/acme/model.tar.gz"},
    )
    container = {"Image": XGBOOST_IMAGE, "Mode": "MultiModel", "ModelDataUrl": f"s3://{BUCKET}/{name}/"}
    deploy(name, model={"PrimaryContainer": container})
    for _ in range(2):
        runtime.invoke_endpoint(
            EndpointName=name, Body=b"1,2,3,4,5,6", ContentType="text/csv", TargetModel="tenant/model.tar.gz"
        )
    cloudwatch = aws("cloudwatch")
    wait_until(lambda: statistics(cloudwatch, name, "ModelCacheHit")["SampleCount"] == 2)
    assert statistics(cloudwatch, name, "ModelCacheHit")["Sum"] == 1
    assert statistics(cloudwatch, name, "ModelLoadingWaitTime")["SampleCount"] == 1
    assert statistics(cloudwatch, name, "LoadedModelCount")["SampleCount"] == 2
