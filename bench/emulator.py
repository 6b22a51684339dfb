"""Benchmark the SageMaker emulator: invocation overhead, control-plane rate against moto, cold vs warm MME.

Run standalone: `.venv/bin/python bench/emulator.py`. The last line is `emulator_vs_moto_ratio=<value>`.
"""

from __future__ import annotations

import logging
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import numpy as np
from botocore.exceptions import EndpointConnectionError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import emulator
from emulator import artifacts
from emulator.models import XGBOOST, load_artifact, predict
from emulator.testing import XGBOOST_IMAGE, client_kwargs, wait_endpoint

BUCKET = "bench-emulator"
ROLE = "arn:aws:iam::123456789012:role/bench"
ROW = b"12,70.5,1,3.2,12,0"
INVOCATIONS = 400
CYCLES = 40
COLD_MODELS = 15


def p50_ms(samples: list[float]) -> float:
    """Median of durations in seconds, in milliseconds."""
    return statistics.median(samples) * 1000


def timed(call: Callable[[], Any], times: int) -> list[float]:
    """Durations of `times` calls."""
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def deploy(sagemaker: Any, name: str, container: dict[str, Any]) -> None:
    """Model, config and endpoint, waited for."""
    sagemaker.create_model(ModelName=name, ExecutionRoleArn=ROLE, PrimaryContainer=container)
    variant = {
        "VariantName": "AllTraffic",
        "ModelName": name,
        "InstanceType": "ml.m6i.large",
        "InitialInstanceCount": 1,
    }
    sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[variant])
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
    wait_endpoint(sagemaker, name)


@contextmanager
def emulator_process() -> Iterator[str]:
    """`python -m emulator` in a child process, as `make run` starts it; yields its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    root = Path(__file__).resolve().parent.parent
    child = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", str(port), "--cold-start", "0"],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        probe_client = boto3.client("s3", **client_kwargs(url))
        deadline = time.monotonic() + 30
        while True:
            try:
                probe_client.list_buckets()
                break
            except (EndpointConnectionError, ConnectionError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        child.terminate()
        child.wait(timeout=10)


def invocation_overhead(url: str, artifact: bytes) -> None:
    """p50 of InvokeEndpoint through boto3 vs the same model's in-process predict, for one CSV row."""
    kwargs = client_kwargs(url)
    sagemaker, runtime = boto3.client("sagemaker", **kwargs), boto3.client("sagemaker-runtime", **kwargs)
    deploy(
        sagemaker,
        "bench-rt",
        {"Image": XGBOOST_IMAGE, "ModelDataUrl": f"s3://{BUCKET}/models/acme/model.tar.gz"},
    )

    def invoke() -> None:
        runtime.invoke_endpoint(EndpointName="bench-rt", Body=ROW, ContentType="text/csv")["Body"].read()

    timed(invoke, 50)  # warm the connection pool and caches
    remote = p50_ms(timed(invoke, INVOCATIONS))
    model = load_artifact(XGBOOST, artifact)
    row = np.array([[12, 70.5, 1, 3.2, 12, 0]], dtype=np.float32)
    raw = p50_ms(timed(lambda: model.score(row), INVOCATIONS))
    full = p50_ms(timed(lambda: predict(model, ROW, "text/csv", None), INVOCATIONS))
    print(f"invoke_endpoint_p50_ms={remote:.3f}")
    print(f"in_process_predict_p50_ms={raw:.3f}")
    print(f"in_process_csv_predict_p50_ms={full:.3f}")
    print(f"invoke_added_p50_ms={remote - raw:.3f}")


def control_cycles(url: str, prefix: str, image: str, model_data_url: str) -> float:
    """Create model + config + endpoint + describe cycles per second against a server."""
    sagemaker = boto3.client("sagemaker", **client_kwargs(url))
    container = {"Image": image, "ModelDataUrl": model_data_url}
    variant = {"VariantName": "AllTraffic", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}

    def cycle(index: int) -> None:
        name = f"{prefix}-{index}"
        sagemaker.create_model(ModelName=name, ExecutionRoleArn=ROLE, PrimaryContainer=container)
        sagemaker.create_endpoint_config(
            EndpointConfigName=name, ProductionVariants=[{**variant, "ModelName": name}]
        )
        sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
        sagemaker.describe_endpoint(EndpointName=name)

    cycle(-1)  # warm-up: first requests pay for imports and service-model loading
    started = time.perf_counter()
    for index in range(CYCLES):
        cycle(index)
    return CYCLES / (time.perf_counter() - started)


def multi_model(url: str, s3: Any) -> None:
    """Cold (first call loads the tenant's model) vs warm (cached) multi-model invocations."""
    kwargs = client_kwargs(url)
    sagemaker, runtime = boto3.client("sagemaker", **kwargs), boto3.client("sagemaker-runtime", **kwargs)
    for index in range(COLD_MODELS):
        s3.copy_object(
            Bucket=BUCKET,
            Key=f"mme/t{index}/model.tar.gz",
            CopySource={"Bucket": BUCKET, "Key": "models/acme/model.tar.gz"},
        )
    deploy(
        sagemaker,
        "bench-mme",
        {"Image": XGBOOST_IMAGE, "Mode": "MultiModel", "ModelDataUrl": f"s3://{BUCKET}/mme/"},
    )

    def call(target: str) -> float:
        started = time.perf_counter()
        runtime.invoke_endpoint(
            EndpointName="bench-mme", Body=ROW, ContentType="text/csv", TargetModel=target
        )
        return time.perf_counter() - started

    cold = [call(f"t{index}/model.tar.gz") for index in range(COLD_MODELS)]
    warm = [call(f"t{index % COLD_MODELS}/model.tar.gz") for index in range(INVOCATIONS // 2)]
    print(f"mme_cold_p50_ms={p50_ms(cold):.3f}")
    print(f"mme_warm_p50_ms={p50_ms(warm):.3f}")


def main() -> None:
    """Run the three measurements and print the figures; the ratio is the last line."""
    from moto.server import ThreadedMotoServer

    # Moto's server logs each request through werkzeug; silenced so logging does not weigh on its rate.
    logging.getLogger("werkzeug").disabled = True

    artifact = artifacts.xgboost_artifact("acme")
    model_url = f"s3://{BUCKET}/models/acme/model.tar.gz"
    # Invocations against a separate process, as the product reaches it: client and server share no GIL.
    with emulator_process() as url:
        s3 = boto3.client("s3", **client_kwargs(url))
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="models/acme/model.tar.gz", Body=artifact)
        invocation_overhead(url, artifact)
        multi_model(url, s3)
    # The control-plane rate in-process on both sides (moto's ThreadedMotoServer runs in-process too).
    # Quotas raised: the loop creates many endpoints of one instance type.
    with emulator.start(port=0, max_endpoints=10_000, instances_per_type=10_000) as handle:
        s3 = boto3.client("s3", **client_kwargs(handle.url))
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="models/acme/model.tar.gz", Body=artifact)
        ours = control_cycles(handle.url, "bench-cp", XGBOOST_IMAGE, model_url)
    moto_server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto_server.start()
    try:
        host, port = moto_server.get_host_and_port()
        theirs = control_cycles(f"http://{host}:{port}", "bench-moto", XGBOOST_IMAGE, model_url)
    finally:
        moto_server.stop()
    print(f"emulator_cycles_per_s={ours:.1f}")
    print(f"moto_cycles_per_s={theirs:.1f}")
    print(f"emulator_vs_moto_ratio={ours / theirs:.2f}")


if __name__ == "__main__":
    main()
