"""SageMaker control-plane actions for batch transform jobs."""

from __future__ import annotations

import copy
import time
from typing import Any

from emulator.errors import in_use, not_found, validation
from emulator.listing import list_answer, put_tags
from emulator.state import Store, arn, copy_given, public


def _check_job(store: Store, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """Validate a CreateTransformJob request; returns a snapshot of its model."""
    max_payload = params.get("MaxPayloadInMB", 6)
    concurrent = params.get("MaxConcurrentTransforms", 1) or 1
    if max_payload > 100:
        raise validation("MaxPayloadInMB must be less than or equal to 100.")
    if concurrent * max_payload > 100:
        raise validation(
            f"The value of MaxConcurrentTransforms ({concurrent}) multiplied by "
            f"MaxPayloadInMB ({max_payload}) "
            "must be less than or equal to 100 MB."
        )
    source = params["TransformInput"]["DataSource"]["S3DataSource"]
    if source.get("S3DataType") not in ("S3Prefix", "ManifestFile"):
        raise validation("The emulator reads S3DataType S3Prefix or ManifestFile input only.")
    if params["TransformInput"].get("SplitType", "None") not in ("None", "Line"):
        raise validation("SplitType must be None or Line for this algorithm.")
    content_type = params["TransformInput"].get("ContentType", "text/csv")
    join = (params.get("DataProcessing") or {}).get("JoinSource")
    if join == "Input" and not any(kind in content_type for kind in ("csv", "json")):
        raise validation("JoinSource Input is supported for CSV and JSON content types only.")
    # Types outside TransformInstanceType were refused with the request (emulator.validation).
    store.settings.catalogue.require(region, params["TransformResources"]["InstanceType"], "transform")
    model = store.models.get((region, params["ModelName"].lower()))
    if model is None:
        raise validation(f'Could not find model "{arn(region, "model", params["ModelName"])}".')
    if (model.get("InferenceExecutionConfig") or {}).get("Mode") == "Direct":
        raise validation("Batch transform does not support models with Direct invocation.")
    return copy.deepcopy(model)


def create_transform_job(store: Store, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """CreateTransformJob: InProgress, then Completed or Failed once the work and the delay are done."""
    name = params["TransformJobName"]
    now = time.time()
    with store.lock:
        job_arn = arn(region, "transform-job", name)
        if (region, name.lower()) in store.jobs:
            raise in_use(
                "Job name must be unique within an AWS account and region, and a job with this name "
                f"already exists ({job_arn})"
            )
        model = _check_job(store, region, params)
        record: dict[str, Any] = {
            "TransformJobName": name,
            "TransformJobArn": job_arn,
            "TransformJobStatus": "InProgress",
            "ModelName": params["ModelName"],
            "MaxConcurrentTransforms": params.get("MaxConcurrentTransforms", 1),
            "MaxPayloadInMB": params.get("MaxPayloadInMB", 6),
            "BatchStrategy": params.get("BatchStrategy", "MultiRecord"),
            "CreationTime": now,
            "TransformStartTime": now,
            "LastModifiedTime": now,
            "_ready_at": now + store.settings.delay,
            "_model": model,
        }
        optional = (
            "Environment",
            "TransformInput",
            "TransformOutput",
            "TransformResources",
            "DataProcessing",
            "ModelClientConfig",
            "DataCaptureConfig",
            "ExperimentConfig",
        )
        copy_given(record, params, optional)
        store.jobs[(region, name.lower())] = record
        put_tags(store, job_arn, params.get("Tags"))
        store.start_job((region, name.lower()))
        store.touch()
    return {"TransformJobArn": job_arn}


def _job(store: Store, region: str, name: str) -> dict[str, Any]:
    record = store.advance_job((region, name.lower()))
    if record is None:
        raise not_found(f"Could not find requested job with name {name}")
    return record


def describe_transform_job(store: Store, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """DescribeTransformJob."""
    with store.lock:
        return copy.deepcopy(public(_job(store, region, params["TransformJobName"])))


def stop_transform_job(store: Store, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """StopTransformJob: Stopping, then Stopped; a finished job cannot be stopped."""
    now = time.time()
    with store.lock:
        record = _job(store, region, params["TransformJobName"])
        status = record["TransformJobStatus"]
        if status in ("Completed", "Failed", "Stopped"):
            raise validation(
                f'Cannot stop transform job "{record["TransformJobArn"]}" because its status is {status}.'
            )
        if status == "InProgress":
            record.update(
                TransformJobStatus="Stopping", LastModifiedTime=now, _ready_at=now + store.settings.delay
            )
            store.request_stop((region, params["TransformJobName"].lower()))
            store.touch()
    return {}


def list_transform_jobs(store: Store, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """ListTransformJobs (statuses brought up to date first)."""
    keys = (
        "TransformJobName",
        "TransformJobArn",
        "CreationTime",
        "TransformEndTime",
        "LastModifiedTime",
        "TransformJobStatus",
        "FailureReason",
    )
    with store.lock:
        for key in [k for k in store.jobs if k[0] == region]:
            store.advance_job(key)
        return list_answer(
            store.jobs,
            region,
            params,
            result_key="TransformJobSummaries",
            summary_keys=keys,
            name_field="TransformJobName",
            status_field="TransformJobStatus",
        )
