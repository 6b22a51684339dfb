"""InvokeEndpointAsync: queue the request, score it in the background, write S3 output, notify SNS."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from moto.sns.models import sns_backends

from emulator import s3io
from emulator.context import Context
from emulator.errors import ACCOUNT_ID, AwsError, runtime_validation
from emulator.fleet import Fleet
from emulator.runtime import Invocation, not_found, run

INLINE_MAX_BODY = 128_000
S3_MAX_BODY = 1024**3
MAX_INVOCATION_TIMEOUT = 3600
log = logging.getLogger(__name__)


def _join(path: str, name: str) -> str:
    return path.rstrip("/") + "/" + name


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def invoke_endpoint_async(
    ctx: Context, invocation: Invocation, headers: dict[str, str]
) -> tuple[int, dict[str, str], bytes]:
    """Accept the request (202) and return where the result or the failure will be written."""
    served = ctx.store.serving_fleet(invocation.region, invocation.endpoint)
    if served is None:
        raise not_found(invocation)
    record, fleet = served
    config = record["_spec"]["config"].get("AsyncInferenceConfig")
    if not config:
        raise runtime_validation(
            f"Endpoint {invocation.endpoint} is not configured for asynchronous inference."
        )
    input_location = headers.get("x-amzn-sagemaker-inputlocation")
    if input_location and invocation.body:
        raise runtime_validation(
            "Body and InputLocation are mutually exclusive: provide exactly one of them."
        )
    if not input_location and not invocation.body:
        raise runtime_validation("Either InputLocation or Body must be provided.")
    if len(invocation.body) > INLINE_MAX_BODY:
        raise runtime_validation(
            f"The inline Body must be at most {INLINE_MAX_BODY} bytes; use InputLocation."
        )
    timeout = headers.get("x-amzn-sagemaker-invocationtimeoutseconds")
    if timeout is not None and not (timeout.isdigit() and 1 <= int(timeout) <= MAX_INVOCATION_TIMEOUT):
        raise runtime_validation(f"InvocationTimeoutSeconds must be between 1 and {MAX_INVOCATION_TIMEOUT}.")
    if input_location:
        try:
            s3io.split_uri(input_location)
        except ValueError as exc:
            raise runtime_validation(f"InputLocation {input_location} is not a valid S3 URI.") from exc
    inference_id = headers.get("x-amzn-sagemaker-inference-id") or str(uuid.uuid4())
    output = config["OutputConfig"]
    extension = headers.get("x-amzn-sagemaker-s3outputpathextension", "")
    filename = headers.get("x-amzn-sagemaker-filename") or f"{inference_id}.out"
    base = _join(output["S3OutputPath"], extension) if extension else output["S3OutputPath"]
    output_location = _join(base, filename)
    failure_base = output.get("S3FailurePath") or output["S3OutputPath"]
    failure_location = _join(failure_base, f"{inference_id}-error.out")
    job = {
        "inference_id": inference_id,
        "input_location": input_location,
        "output_location": output_location,
        "failure_location": failure_location,
        "notification": output.get("NotificationConfig") or {},
        "received": _now(),
    }
    ctx.store.submit(_process, ctx, fleet, invocation, job)
    answer = {
        "X-Amzn-SageMaker-OutputLocation": output_location,
        "X-Amzn-SageMaker-FailureLocation": failure_location,
        "Content-Type": "application/json",
    }
    return 202, answer, json.dumps({"InferenceId": inference_id}).encode()


def _process(ctx: Context, fleet: Fleet, invocation: Invocation, job: dict[str, Any]) -> None:
    """Score one queued request and publish its outcome (runs on the background pool)."""
    try:
        if job["input_location"]:
            invocation.body = s3io.get_bytes(*s3io.split_uri(job["input_location"]))
            if len(invocation.body) > S3_MAX_BODY:
                raise ValueError(f"{job['input_location']}: the payload exceeds 1 GB")
        body, mime, _variant = run(ctx, fleet, invocation)
        s3io.put_bytes(*s3io.split_uri(job["output_location"]), body)
        _notify(invocation, job, "Completed", {"contentType": mime, "outputLocation": job["output_location"]})
    except (AwsError, s3io.S3Missing, ValueError) as exc:
        reason = exc.message if isinstance(exc, AwsError) else f"Failed to read or write {exc}"
        try:
            s3io.put_bytes(*s3io.split_uri(job["failure_location"]), reason.encode())
        except s3io.S3Missing:
            log.warning("async failure path %s is not writable", job["failure_location"])
        _notify(invocation, job, "Failed", {"failureLocation": job["failure_location"]}, reason)


def _notify(
    invocation: Invocation,
    job: dict[str, Any],
    status: str,
    response: dict[str, str],
    reason: str | None = None,
) -> None:
    topic = job["notification"].get("SuccessTopic" if status == "Completed" else "ErrorTopic")
    if not topic:
        return
    message: dict[str, Any] = {
        "awsRegion": invocation.region,
        "eventTime": _now(),
        "receivedTime": job["received"],
        "invocationStatus": status,
        "requestParameters": {
            "contentType": invocation.content_type,
            "endpointName": invocation.endpoint,
            "inputLocation": job["input_location"] or "inline",
        },
        "responseParameters": response,
        "inferenceId": job["inference_id"],
        "eventVersion": "1.0",
        "eventSource": "aws:sagemaker",
        "eventName": "InferenceResult",
    }
    if reason:
        message["failureReason"] = reason
    try:
        # SNS Publish, straight into moto's in-process backend.
        sns_backends[ACCOUNT_ID][invocation.region].publish(json.dumps(message), arn=topic)
    except Exception as exc:  # a missing topic must not break the worker, as on AWS it only goes unnotified
        log.warning("async notification to %s failed: %s", topic, exc)
