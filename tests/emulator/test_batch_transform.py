"""Batch transform through boto3: S3 input prefix to `<key>.out`, in order, joins, limits and failures."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import numpy as np
import pytest
from botocore.exceptions import ClientError

import emulator
from emulator import artifacts
from emulator.testing import BUCKET, ROLE, client_kwargs, csv_body, scores, wait_job, xgboost_model


@pytest.fixture(scope="module")
def acme_model(sagemaker: Any, demo: Any) -> str:
    """A model for acme's batch jobs."""
    sagemaker.create_model(
        ModelName="batch-acme", ExecutionRoleArn=ROLE, **xgboost_model(demo.models["acme"])
    )
    return "batch-acme"


def job_request(name: str, model: str, input_uri: str, output_uri: str, **extra: Any) -> dict[str, Any]:
    """CreateTransformJob arguments for CSV lines."""
    request = {
        "TransformJobName": name,
        "ModelName": model,
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": input_uri}},
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        "TransformOutput": {"S3OutputPath": output_uri, "AssembleWith": "Line"},
        "TransformResources": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1},
    }
    for key, value in extra.items():
        if isinstance(value, dict) and key in request:
            request[key] = {**request[key], **value}
        else:
            request[key] = value
    return request


def test_it_scores_every_input_object_in_order(
    sagemaker: Any, s3: Any, acme_model: str, demo: Any, name: str
) -> None:
    s3.put_object(Bucket=BUCKET, Key=f"{name}/in/extra.csv", Body=b"1,2,3,4,5,6\n")
    sagemaker.create_transform_job(
        **job_request(
            name,
            acme_model,
            f"{demo.datasets['acme']}",
            f"s3://{BUCKET}/{name}/out",
            BatchStrategy="MultiRecord",
        )
    )
    described = wait_job(sagemaker, name)
    assert described["TransformJobStatus"] == "Completed", described.get("FailureReason")
    body = s3.get_object(Bucket=BUCKET, Key=f"{name}/out/part-000.csv.out")["Body"].read()
    rows = artifacts.churn_features("acme", artifacts.INPUT_ROWS, offset=1)
    expected = artifacts.train_xgboost("acme").inplace_predict(rows)
    np.testing.assert_allclose(scores(body), expected, rtol=1e-5)
    assert body.endswith(b"\n")


def test_single_record_batches_give_the_same_answer(
    sagemaker: Any, s3: Any, acme_model: str, features: np.ndarray, name: str
) -> None:
    s3.put_object(Bucket=BUCKET, Key=f"{name}/in/a.csv", Body=csv_body(features))
    s3.put_object(Bucket=BUCKET, Key=f"{name}/in/b.csv", Body=csv_body(features[::-1]))
    request = job_request(name, acme_model, f"s3://{BUCKET}/{name}/in/", f"s3://{BUCKET}/{name}/out/")
    sagemaker.create_transform_job(**request, BatchStrategy="SingleRecord", MaxPayloadInMB=1)
    assert wait_job(sagemaker, name)["TransformJobStatus"] == "Completed"
    expected = artifacts.train_xgboost("acme").inplace_predict(features)
    first = scores(s3.get_object(Bucket=BUCKET, Key=f"{name}/out/a.csv.out")["Body"].read())
    second = scores(s3.get_object(Bucket=BUCKET, Key=f"{name}/out/b.csv.out")["Body"].read())
    np.testing.assert_allclose(first, expected, rtol=1e-5)
    np.testing.assert_allclose(second, expected[::-1], rtol=1e-5)


def test_join_source_input_appends_the_prediction_to_each_row(
    sagemaker: Any, s3: Any, acme_model: str, features: np.ndarray, name: str
) -> None:
    s3.put_object(Bucket=BUCKET, Key=f"{name}/in/a.csv", Body=csv_body(features))
    request = job_request(
        name,
        acme_model,
        f"s3://{BUCKET}/{name}/in/",
        f"s3://{BUCKET}/{name}/out",
        DataProcessing={"JoinSource": "Input"},
    )
    sagemaker.create_transform_job(**request)
    assert wait_job(sagemaker, name)["TransformJobStatus"] == "Completed"
    lines = s3.get_object(Bucket=BUCKET, Key=f"{name}/out/a.csv.out")["Body"].read().decode().splitlines()
    inputs = csv_body(features).decode().splitlines()
    assert [line.rsplit(",", 1)[0] for line in lines] == inputs
    expected = artifacts.train_xgboost("acme").inplace_predict(features)
    np.testing.assert_allclose([float(line.rsplit(",", 1)[1]) for line in lines], expected, rtol=1e-5)


def test_join_source_input_wraps_json_records_that_are_not_objects(
    sagemaker: Any, s3: Any, acme_model: str, features: np.ndarray, name: str
) -> None:
    """An object gains "SageMakerOutput"; any other record becomes {"SageMakerInput", "SageMakerOutput"}.

    DataProcessing.JoinSource: https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DataProcessing.html
    """
    records: list[Any] = [
        [float(v) for v in features[0]],
        {"id": "b", "features": [float(v) for v in features[1]]},
        [float(v) for v in features[2]],
    ]
    body = "\n".join(json.dumps(record) for record in records).encode()
    s3.put_object(Bucket=BUCKET, Key=f"{name}/in/a.jsonl", Body=body)
    request = job_request(
        name,
        acme_model,
        f"s3://{BUCKET}/{name}/in/",
        f"s3://{BUCKET}/{name}/out",
        TransformInput={"ContentType": "application/jsonlines"},
        DataProcessing={"JoinSource": "Input"},
    )
    sagemaker.create_transform_job(**request)
    assert wait_job(sagemaker, name)["TransformJobStatus"] == "Completed"
    out = s3.get_object(Bucket=BUCKET, Key=f"{name}/out/a.jsonl.out")["Body"].read().decode()
    joined = [json.loads(line) for line in out.splitlines()]
    expected = artifacts.train_xgboost("acme").inplace_predict(features[:3])
    outputs = [row["SageMakerOutput"] for row in joined]
    assert joined == [
        {"SageMakerInput": records[0], "SageMakerOutput": outputs[0]},
        {**records[1], "SageMakerOutput": outputs[1]},
        {"SageMakerInput": records[2], "SageMakerOutput": outputs[2]},
    ]
    np.testing.assert_allclose([output["score"] for output in outputs], expected, rtol=1e-5)


def test_a_bad_record_fails_the_job_naming_the_file_and_line(
    sagemaker: Any, s3: Any, acme_model: str, name: str
) -> None:
    s3.put_object(Bucket=BUCKET, Key=f"{name}/in/good.csv", Body=b"1,2,3,4,5,6\n")
    s3.put_object(Bucket=BUCKET, Key=f"{name}/in/bad.csv", Body=b"1,2,3,4,5,6\n1,2,x,4,5,6\n")
    sagemaker.create_transform_job(
        **job_request(name, acme_model, f"s3://{BUCKET}/{name}/in/", f"s3://{BUCKET}/{name}/out")
    )
    described = wait_job(sagemaker, name)
    assert described["TransformJobStatus"] == "Failed"
    assert f"s3://{BUCKET}/{name}/in/bad.csv at line 2" in described["FailureReason"]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{name}/out/").get("Contents", [])]
    assert keys == [f"{name}/out/good.csv.out"]


def test_an_empty_input_prefix_fails_the_job(sagemaker: Any, acme_model: str, name: str) -> None:
    sagemaker.create_transform_job(
        **job_request(name, acme_model, f"s3://{BUCKET}/{name}/none/", f"s3://{BUCKET}/o")
    )
    described = wait_job(sagemaker, name)
    assert described["TransformJobStatus"] == "Failed"
    assert "No S3 objects found" in described["FailureReason"]


@pytest.mark.parametrize(("concurrent", "payload"), [(1, 101), (2, 60), (20, 6)])
def test_it_enforces_the_payload_limits(
    sagemaker: Any, acme_model: str, name: str, concurrent: int, payload: int
) -> None:
    request = job_request(name, acme_model, f"s3://{BUCKET}/x/", f"s3://{BUCKET}/y")
    with pytest.raises(ClientError) as excinfo:
        sagemaker.create_transform_job(**request, MaxConcurrentTransforms=concurrent, MaxPayloadInMB=payload)
    assert excinfo.value.response["Error"]["Code"] == "ValidationException"


def test_it_rejects_a_duplicate_job_name(sagemaker: Any, acme_model: str, demo: Any, name: str) -> None:
    request = job_request(name, acme_model, demo.datasets["acme"], f"s3://{BUCKET}/{name}/out")
    sagemaker.create_transform_job(**request)
    with pytest.raises(ClientError) as excinfo:
        sagemaker.create_transform_job(**request)
    assert excinfo.value.response["Error"]["Code"] == "ResourceInUse"
    wait_job(sagemaker, name)


def test_it_refuses_to_stop_a_finished_job(sagemaker: Any, acme_model: str, demo: Any, name: str) -> None:
    sagemaker.create_transform_job(
        **job_request(name, acme_model, demo.datasets["acme"], f"s3://{BUCKET}/{name}/o")
    )
    assert wait_job(sagemaker, name)["TransformJobStatus"] == "Completed"
    with pytest.raises(ClientError) as excinfo:
        sagemaker.stop_transform_job(TransformJobName=name)
    assert excinfo.value.response["Error"]["Code"] == "ValidationException"
    assert "Completed" in excinfo.value.response["Error"]["Message"]


def test_it_lists_jobs_by_status(sagemaker: Any, acme_model: str, demo: Any, name: str) -> None:
    sagemaker.create_transform_job(
        **job_request(name, acme_model, demo.datasets["acme"], f"s3://{BUCKET}/{name}/o")
    )
    wait_job(sagemaker, name)
    found = sagemaker.list_transform_jobs(NameContains=name, StatusEquals="Completed")[
        "TransformJobSummaries"
    ]
    assert [j["TransformJobName"] for j in found] == [name]


def test_the_failure_names_the_file_line_despite_blank_lines(
    sagemaker: Any, s3: Any, acme_model: str, name: str
) -> None:
    s3.put_object(Bucket=BUCKET, Key=f"{name}/in/gaps.csv", Body=b"1,2,3,4,5,6\n\n1,2,3,4,5,6\n1,y,3,4,5,6\n")
    sagemaker.create_transform_job(
        **job_request(name, acme_model, f"s3://{BUCKET}/{name}/in/", f"s3://{BUCKET}/{name}/out")
    )
    assert "gaps.csv at line 4" in wait_job(sagemaker, name)["FailureReason"]


def test_a_manifest_names_the_objects_the_job_reads(
    sagemaker: Any, s3: Any, acme_model: str, name: str
) -> None:
    for key in ("a.csv", "b.csv", "not-me.csv"):
        s3.put_object(Bucket=BUCKET, Key=f"{name}/in/{key}", Body=b"1,2,3,4,5,6\n")
    manifest = [{"prefix": f"s3://{BUCKET}/{name}/in/"}, "a.csv", "b.csv"]
    s3.put_object(Bucket=BUCKET, Key=f"{name}/run.manifest", Body=json.dumps(manifest).encode())
    source = {"S3DataType": "ManifestFile", "S3Uri": f"s3://{BUCKET}/{name}/run.manifest"}
    request = job_request(name, acme_model, "", f"s3://{BUCKET}/{name}/out/")
    request["TransformInput"]["DataSource"]["S3DataSource"] = source
    sagemaker.create_transform_job(**request)
    assert wait_job(sagemaker, name)["TransformJobStatus"] == "Completed"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{name}/out/")["Contents"]]
    assert keys == [f"{name}/out/a.csv.out", f"{name}/out/b.csv.out"]


def test_a_missing_manifest_fails_the_job(sagemaker: Any, acme_model: str, name: str) -> None:
    request = job_request(name, acme_model, "", f"s3://{BUCKET}/{name}/out/")
    request["TransformInput"]["DataSource"]["S3DataSource"] = {
        "S3DataType": "ManifestFile",
        "S3Uri": f"s3://{BUCKET}/{name}/missing.manifest",
    }
    sagemaker.create_transform_job(**request)
    described = wait_job(sagemaker, name)
    assert described["TransformJobStatus"] == "Failed"
    assert "missing.manifest" in described["FailureReason"]


def test_a_job_stopped_half_way_keeps_the_outputs_it_wrote(s3: Any, demo: Any, name: str) -> None:
    with emulator.start(port=0, transform_seconds_per_object=0.3) as paced:
        sagemaker = boto3.client("sagemaker", **client_kwargs(paced.url))
        sagemaker.create_model(
            ModelName=f"{name}-m", ExecutionRoleArn=ROLE, **xgboost_model(demo.models["acme"])
        )
        for index in range(6):
            s3.put_object(Bucket=BUCKET, Key=f"{name}/in/{index}.csv", Body=b"1,2,3,4,5,6\n")
        sagemaker.create_transform_job(
            **job_request(name, f"{name}-m", f"s3://{BUCKET}/{name}/in/", f"s3://{BUCKET}/{name}/out/")
        )
        time.sleep(0.8)
        sagemaker.stop_transform_job(TransformJobName=name)
        assert sagemaker.describe_transform_job(TransformJobName=name)["TransformJobStatus"] in (
            "Stopping",
            "Stopped",
        )
        assert wait_job(sagemaker, name)["TransformJobStatus"] == "Stopped"
    written = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{name}/out/").get("Contents", [])
    assert 1 <= len(written) < 6


def test_only_the_jobs_the_pattern_names_are_paced(s3: Any, demo: Any, name: str) -> None:
    """`make run` paces only the demo's last run; every other job still runs at once."""
    with emulator.start(port=0, transform_seconds_per_object=30.0, transform_paced_jobs="*-slow") as paced:
        sagemaker = boto3.client("sagemaker", **client_kwargs(paced.url))
        sagemaker.create_model(
            ModelName=f"{name}-m", ExecutionRoleArn=ROLE, **xgboost_model(demo.models["acme"])
        )
        s3.put_object(Bucket=BUCKET, Key=f"{name}/in/0.csv", Body=b"1,2,3,4,5,6\n")
        for job in (f"{name}-fast", f"{name}-slow"):
            sagemaker.create_transform_job(
                **job_request(job, f"{name}-m", f"s3://{BUCKET}/{name}/in/", f"s3://{BUCKET}/{job}/out/")
            )
        assert wait_job(sagemaker, f"{name}-fast")["TransformJobStatus"] == "Completed"
        slow = sagemaker.describe_transform_job(TransformJobName=f"{name}-slow")
        assert slow["TransformJobStatus"] == "InProgress"
        sagemaker.stop_transform_job(TransformJobName=f"{name}-slow")  # a stop ends the wait
        assert wait_job(sagemaker, f"{name}-slow")["TransformJobStatus"] == "Stopped"
