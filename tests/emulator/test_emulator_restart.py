"""State survives a restart with the same data dir: resources, tags, S3 objects, SNS topics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3

import emulator
from emulator import artifacts
from emulator.testing import client_kwargs, wait_endpoint, wait_job, xgboost_model

BUCKET = "restart-tests"


def clients(handle: emulator.EmulatorHandle) -> dict[str, Any]:
    """The clients a test needs, bound to one emulator."""
    kwargs = client_kwargs(handle.url)
    return {
        service: boto3.client(service, **kwargs)
        for service in ("sagemaker", "sagemaker-runtime", "s3", "sns")
    }


def forget_bucket(s3: Any) -> None:
    """Empty and delete the bucket, as a fresh process would start without it."""
    for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        s3.delete_object(Bucket=BUCKET, Key=item["Key"])
    s3.delete_bucket(Bucket=BUCKET)


def test_the_demo_comes_back_after_a_restart(tmp_path: Path, aws: Any) -> None:
    with emulator.start(port=0, data_dir=tmp_path) as first:
        c = clients(first)
        c["s3"].create_bucket(Bucket=BUCKET)
        c["s3"].put_object(
            Bucket=BUCKET, Key="models/acme/model.tar.gz", Body=artifacts.xgboost_artifact("acme")
        )
        c["s3"].put_object(Bucket=BUCKET, Key="input/part-000.csv", Body=artifacts.input_csv("acme", 20))
        topic = c["sns"].create_topic(Name="restart-notices")["TopicArn"]
        model_arn = c["sagemaker"].create_model(
            ModelName="acme",
            Tags=[{"Key": "tenant", "Value": "acme"}],
            **xgboost_model(f"s3://{BUCKET}/models/acme/model.tar.gz"),
        )["ModelArn"]
        variant = {
            "VariantName": "v",
            "ModelName": "acme",
            "InstanceType": "ml.m6i.large",
            "InitialInstanceCount": 1,
        }
        c["sagemaker"].create_endpoint_config(EndpointConfigName="acme", ProductionVariants=[variant])
        c["sagemaker"].create_endpoint(EndpointName="acme", EndpointConfigName="acme")
        wait_endpoint(c["sagemaker"], "acme")
        c["sagemaker"].create_transform_job(
            TransformJobName="acme-batch",
            ModelName="acme",
            TransformInput={
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/input/"}},
                "ContentType": "text/csv",
                "SplitType": "Line",
            },
            TransformOutput={"S3OutputPath": f"s3://{BUCKET}/output"},
            TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1},
        )
        assert wait_job(c["sagemaker"], "acme-batch")["TransformJobStatus"] == "Completed"
        before = c["sagemaker-runtime"].invoke_endpoint(
            EndpointName="acme", Body=b"3,50,1,2,1,0", ContentType="text/csv"
        )
        expected = before["Body"].read()
    forget_bucket(aws("s3"))
    aws("sns").delete_topic(TopicArn=topic)

    with emulator.start(port=0, data_dir=tmp_path) as second:
        c = clients(second)
        assert c["sagemaker"].describe_endpoint(EndpointName="acme")["EndpointStatus"] == "InService"
        assert c["sagemaker"].list_tags(ResourceArn=model_arn)["Tags"] == [{"Key": "tenant", "Value": "acme"}]
        assert (
            c["sagemaker"].describe_transform_job(TransformJobName="acme-batch")["TransformJobStatus"]
            == "Completed"
        )
        after = c["sagemaker-runtime"].invoke_endpoint(
            EndpointName="acme", Body=b"3,50,1,2,1,0", ContentType="text/csv"
        )
        assert after["Body"].read() == expected
        keys = sorted(o["Key"] for o in c["s3"].list_objects_v2(Bucket=BUCKET)["Contents"])
        assert keys == ["input/part-000.csv", "models/acme/model.tar.gz", "output/part-000.csv.out"]
        assert topic in [t["TopicArn"] for t in c["sns"].list_topics()["Topics"]]
