"""InvokeEndpoint through boto3: real predictions from real-time, multi-model, multi-container, serverless."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import boto3
import numpy as np
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import emulator
from emulator import artifacts
from emulator.testing import (
    BUCKET,
    SKLEARN_IMAGE,
    XGBOOST_IMAGE,
    client_kwargs,
    csv_body,
    model_on_vanished_artifact,
    scores,
    wait_endpoint,
    wait_until,
    xgboost_model,
)


@pytest.fixture(scope="module")
def realtime(deploy: Any, demo: Any) -> str:
    """A real-time endpoint serving acme's XGBoost model."""
    return deploy("rt-acme", model=xgboost_model(demo.models["acme"]))


@pytest.fixture(scope="module")
def multi_model(deploy: Any, demo: Any) -> str:
    """A multi-model endpoint over every model under s3://<bucket>/models/."""
    container = {"Image": XGBOOST_IMAGE, "Mode": "MultiModel", "ModelDataUrl": f"s3://{BUCKET}/models/"}
    return deploy("mme-tenants", model={"PrimaryContainer": container})


@pytest.fixture(scope="module")
def multi_container(deploy: Any, demo: Any) -> str:
    """A multi-container endpoint (Direct) with an XGBoost and a scikit-learn container."""
    containers = [
        {"Image": XGBOOST_IMAGE, "ContainerHostname": "xgboost", "ModelDataUrl": demo.models["acme"]},
        {"Image": SKLEARN_IMAGE, "ContainerHostname": "sklearn", "ModelDataUrl": demo.models["sklearn"]},
    ]
    return deploy(
        "mce-direct", model={"Containers": containers, "InferenceExecutionConfig": {"Mode": "Direct"}}
    )


def in_process(slug: str, rows: np.ndarray) -> np.ndarray:
    """The same model's predictions computed here."""
    return artifacts.train_xgboost(slug).inplace_predict(rows)


def test_a_realtime_endpoint_predicts_like_the_model_in_process(
    runtime: Any, realtime: str, features: np.ndarray
) -> None:
    answer = runtime.invoke_endpoint(EndpointName=realtime, Body=csv_body(features), ContentType="text/csv")
    assert answer["ContentType"] == "text/csv"
    assert answer["InvokedProductionVariant"] == "AllTraffic"
    np.testing.assert_allclose(scores(answer["Body"].read()), in_process("acme", features), rtol=1e-6)


def test_it_reads_and_writes_json_lines(runtime: Any, realtime: str, features: np.ndarray) -> None:
    body = "\n".join(json.dumps([float(v) for v in row]) for row in features).encode()
    answer = runtime.invoke_endpoint(
        EndpointName=realtime, Body=body, ContentType="application/jsonlines", Accept="application/jsonlines"
    )
    lines = answer["Body"].read().decode().splitlines()
    got = np.array([json.loads(line)["score"] for line in lines])
    np.testing.assert_allclose(got, in_process("acme", features), rtol=1e-6)


def test_a_multi_model_endpoint_answers_per_target_model(
    runtime: Any, multi_model: str, features: np.ndarray
) -> None:
    answers = {}
    for slug in ("acme", "globex"):
        body = runtime.invoke_endpoint(
            EndpointName=multi_model,
            Body=csv_body(features),
            ContentType="text/csv",
            TargetModel=f"{slug}/model.tar.gz",
        )["Body"].read()
        answers[slug] = scores(body)
        np.testing.assert_allclose(answers[slug], in_process(slug, features), rtol=1e-6)
    assert not np.allclose(answers["acme"], answers["globex"])


def test_a_multi_model_endpoint_rejects_an_unknown_target_model(runtime: Any, multi_model: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        runtime.invoke_endpoint(
            EndpointName=multi_model,
            Body=b"1,2,3,4,5,6",
            ContentType="text/csv",
            TargetModel="nobody/model.tar.gz",
        )
    assert excinfo.value.response["Error"]["Code"] == "ValidationError"
    assert "Failed to download model data" in excinfo.value.response["Error"]["Message"]


def test_a_multi_model_endpoint_needs_a_target_model(runtime: Any, multi_model: str) -> None:
    with pytest.raises(ClientError, match="TargetModel is required"):
        runtime.invoke_endpoint(EndpointName=multi_model, Body=b"1,2,3,4,5,6", ContentType="text/csv")


def test_a_multi_container_endpoint_routes_by_hostname(
    runtime: Any, multi_container: str, features: np.ndarray
) -> None:
    xgb = runtime.invoke_endpoint(
        EndpointName=multi_container,
        Body=csv_body(features),
        ContentType="text/csv",
        TargetContainerHostname="xgboost",
    )["Body"].read()
    np.testing.assert_allclose(scores(xgb), in_process("acme", features), rtol=1e-6)
    sk = runtime.invoke_endpoint(
        EndpointName=multi_container,
        Body=csv_body(features),
        ContentType="text/csv",
        TargetContainerHostname="sklearn",
    )["Body"].read()
    expected = artifacts.train_sklearn().predict_proba(features)[:, 1]
    np.testing.assert_allclose(scores(sk), expected, rtol=1e-6)


@pytest.mark.parametrize("hostname", ["missing", None])
def test_a_multi_container_endpoint_rejects_a_bad_hostname(
    runtime: Any, multi_container: str, hostname: str | None
) -> None:
    extra = {"TargetContainerHostname": hostname} if hostname else {}
    with pytest.raises(ClientError) as excinfo:
        runtime.invoke_endpoint(
            EndpointName=multi_container, Body=b"1,2,3,4,5,6", ContentType="text/csv", **extra
        )
    assert excinfo.value.response["Error"]["Code"] == "ValidationError"


def test_a_hostname_is_rejected_by_a_single_container_endpoint(runtime: Any, realtime: str) -> None:
    with pytest.raises(ClientError, match="not configured"):
        runtime.invoke_endpoint(
            EndpointName=realtime, Body=b"1,2,3,4,5,6", ContentType="text/csv", TargetContainerHostname="x"
        )


def test_a_model_error_carries_the_original_status(runtime: Any, realtime: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        runtime.invoke_endpoint(EndpointName=realtime, Body=b"1,2,3", ContentType="text/csv")
    response = excinfo.value.response
    assert response["Error"]["Code"] == "ModelError"
    assert response["OriginalStatusCode"] == 400
    assert "Feature shape mismatch" in response["OriginalMessage"]
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 424


def test_a_payload_over_six_megabytes_is_refused(runtime: Any, realtime: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        runtime.invoke_endpoint(
            EndpointName=realtime, Body=b"1" * (6 * 1024 * 1024 + 1), ContentType="text/csv"
        )
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    # The connection stays usable after the refusal.
    runtime.invoke_endpoint(EndpointName=realtime, Body=b"1,2,3,4,5,6", ContentType="text/csv")


def test_an_unknown_endpoint_is_not_found(runtime: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        runtime.invoke_endpoint(EndpointName="nowhere", Body=b"1", ContentType="text/csv")
    assert excinfo.value.response["Error"] == {
        "Code": "ValidationError",
        "Message": "Endpoint nowhere of account 123456789012 not found.",
    }


def test_a_failed_endpoint_reports_why_and_does_not_serve(
    sagemaker: Any, s3: Any, runtime: Any, name: str
) -> None:
    model_on_vanished_artifact(s3, sagemaker, name)
    variant = {"VariantName": "AllTraffic", "ModelName": name, "InstanceType": "ml.m5.large"}
    sagemaker.create_endpoint_config(
        EndpointConfigName=name, ProductionVariants=[{**variant, "InitialInstanceCount": 1}]
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
    wait_endpoint(sagemaker, name, "Failed")
    reason = sagemaker.describe_endpoint(EndpointName=name)["FailureReason"]
    assert "Failed to download model data" in reason
    with pytest.raises(ClientError, match="not found"):
        runtime.invoke_endpoint(EndpointName=name, Body=b"1,2,3,4,5,6", ContentType="text/csv")


def test_an_unloadable_artifact_fails_the_endpoint(sagemaker: Any, s3: Any, deploy: Any, name: str) -> None:
    s3.put_object(Bucket=BUCKET, Key=f"broken/{name}/model.tar.gz", Body=b"not a tarball")
    deploy(name, model=xgboost_model(f"s3://{BUCKET}/broken/{name}/model.tar.gz"), wanted="Failed")
    assert "valid tar.gz archive" in sagemaker.describe_endpoint(EndpointName=name)["FailureReason"]


def test_a_serverless_endpoint_refuses_payloads_over_four_megabytes(
    runtime: Any, deploy: Any, demo: Any, name: str
) -> None:
    deploy(
        name,
        model=xgboost_model(demo.models["acme"]),
        variant={"ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5}},
    )
    assert runtime.invoke_endpoint(EndpointName=name, Body=b"1,2,3,4,5,6", ContentType="text/csv")[
        "Body"
    ].read()
    with pytest.raises(ClientError) as excinfo:
        runtime.invoke_endpoint(EndpointName=name, Body=b"1" * (4 * 1024 * 1024 + 1), ContentType="text/csv")
    assert excinfo.value.response["Error"]["Code"] == "ValidationError"
    assert "oversize body" in excinfo.value.response["Error"]["Message"]


SERVERLESS_ONE = {"ServerlessConfig": {"MemorySizeInMB": 1024, "MaxConcurrency": 1}}
INSTANCE = {"InstanceType": "ml.m5.large", "InitialInstanceCount": 1}


def _serve(url: str, name: str, model: dict[str, Any], variant: dict[str, Any]) -> None:
    """Model, config and endpoint `name` on the emulator at `url`, in service."""
    sagemaker = boto3.client("sagemaker", **client_kwargs(url))
    sagemaker.create_model(ModelName=name, **model)
    variants = [{"VariantName": "v", "ModelName": name, **variant}]
    sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=variants)
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
    wait_endpoint(sagemaker, name)


def _no_retries(url: str) -> dict[str, Any]:
    # botocore retries throttling, and in legacy mode any 429 (_retry.json too_many_requests).
    return {**client_kwargs(url), "config": Config(retries={"total_max_attempts": 1})}


def test_a_serverless_endpoint_throttles_past_max_concurrency(demo: Any) -> None:
    # Its own emulator: a cold start long enough to hold the only slot while a second call arrives.
    with emulator.start(port=0, cold_start_seconds=0.5, serverless_idle_seconds=60) as handle:
        # No retries: botocore would otherwise retry the throttled call until the slot frees up.
        runtime = boto3.client("sagemaker-runtime", **_no_retries(handle.url))
        _serve(handle.url, "sls", xgboost_model(demo.models["acme"]), SERVERLESS_ONE)
        outcomes: list[str] = []

        def call() -> None:
            try:
                runtime.invoke_endpoint(EndpointName="sls", Body=b"1,2,3,4,5,6", ContentType="text/csv")
                outcomes.append("ok")
            except ClientError as exc:
                outcomes.append(exc.response["Error"]["Code"])

        threads = [threading.Thread(target=call) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["ThrottlingException", "ok"]


# ModelNotReadyException as botocore's sagemaker-runtime model declares it (HTTP 429, "Either a serverless
# endpoint variant's resources are still being provisioned, or a multi-model endpoint is still downloading
# or loading the target model. Wait and try your request again.") and as the developer guide's "Retry
# Requests on ModelNotReadyException Errors" describes it: past the limit the call fails, the load goes on
# (https://docs.aws.amazon.com/sagemaker/latest/dg/invoke-multi-model-endpoint.html).
NOT_READY_STATUS = 429


def _not_ready(call: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as excinfo:
        call()
    response = excinfo.value.response
    assert response["Error"]["Code"] == "ModelNotReadyException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == NOT_READY_STATUS
    assert response["Error"]["Message"].endswith("Wait and try your request again.")
    return response


def test_the_documented_not_ready_status_is_botocores() -> None:
    shape = boto3.client("sagemaker-runtime", region_name="us-east-1").meta.service_model.shape_for(
        "ModelNotReadyException"
    )
    assert shape.metadata["error"]["httpStatusCode"] == NOT_READY_STATUS


def test_the_load_budget_flag_is_in_milliseconds_and_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    from emulator import __main__ as cli

    class Started(Exception):
        pass

    seen: dict[str, Any] = {}

    def start(**settings: Any) -> None:
        seen.update(settings)
        raise Started

    monkeypatch.setattr(cli, "start", start)
    with pytest.raises(Started):
        cli.main(["--model-load-budget-ms", "250"])
    assert seen["model_load_budget_seconds"] == 0.25
    with pytest.raises(Started):
        cli.main([])
    assert seen["model_load_budget_seconds"] is None  # the demo waits for cold loads, as before


def test_a_multi_model_cold_load_past_the_budget_is_not_ready_and_carries_on(
    demo: Any, features: np.ndarray
) -> None:
    # A budget of 0: a call that finds its model not in memory answers ModelNotReadyException.
    with emulator.start(port=0, model_load_budget_seconds=0.0) as handle:
        runtime = boto3.client("sagemaker-runtime", **_no_retries(handle.url))
        container = {"Image": XGBOOST_IMAGE, "Mode": "MultiModel", "ModelDataUrl": f"s3://{BUCKET}/models/"}
        _serve(handle.url, "mme", {"PrimaryContainer": container}, INSTANCE)

        def invoke() -> Any:
            return runtime.invoke_endpoint(
                EndpointName="mme",
                Body=csv_body(features),
                ContentType="text/csv",
                TargetModel="acme/model.tar.gz",
            )

        response = _not_ready(invoke)
        assert response["Error"]["Message"] == (
            "Endpoint mme is still downloading or loading the target model acme/model.tar.gz. "
            "Wait and try your request again."
        )
        answers: list[Any] = []
        refusals: list[str] = []

        def loaded() -> bool:
            try:
                answers.append(invoke())
            except ClientError as exc:
                refusals.append(exc.response["Error"]["Code"])
                return False
            return True

        wait_until(loaded)  # the load went on after the refusal: a retry finds the model in memory
        assert set(refusals) <= {"ModelNotReadyException"}
        np.testing.assert_allclose(
            scores(answers[-1]["Body"].read()), in_process("acme", features), rtol=1e-6
        )


def test_a_serverless_cold_start_past_the_budget_is_not_ready_until_provisioned(demo: Any) -> None:
    settings = {"cold_start_seconds": 1.0, "serverless_idle_seconds": 60, "model_load_budget_seconds": 0.1}
    with emulator.start(port=0, **settings) as handle:
        runtime = boto3.client("sagemaker-runtime", **_no_retries(handle.url))
        _serve(handle.url, "sls", xgboost_model(demo.models["acme"]), SERVERLESS_ONE)

        def invoke() -> Any:
            return runtime.invoke_endpoint(EndpointName="sls", Body=b"1,2,3,4,5,6", ContentType="text/csv")

        started = time.monotonic()
        response = _not_ready(invoke)
        assert response["Error"]["Message"] == (
            "The resources of serverless endpoint sls (variant v) are still being provisioned. "
            "Wait and try your request again."
        )
        _not_ready(invoke)  # still provisioning; the refused calls held no concurrency slot
        time.sleep(max(0.0, 1.1 - (time.monotonic() - started)))
        assert invoke()["Body"].read()  # provisioned: warm from now on


def test_an_unsupported_content_type_is_a_415_from_the_container(runtime: Any, realtime: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        runtime.invoke_endpoint(EndpointName=realtime, Body=b"\x00\x01", ContentType="application/x-image")
    assert excinfo.value.response["Error"]["Code"] == "ModelError"
    assert excinfo.value.response["OriginalStatusCode"] == 415
