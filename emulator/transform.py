"""Batch transform execution: read S3 input objects, score their records, write `<key>.out` files."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

from emulator import s3io
from emulator.fleet import fetch_and_load
from emulator.models import (
    ArchiveLimits,
    LoadedModel,
    ModelLoadError,
    PayloadError,
    framework_for_image,
    predict,
)

MB = 1024 * 1024
# ModelClientConfig's defaults when a job does not set it (API Reference: ModelClientConfig).
DEFAULT_TIMEOUT_SECONDS, DEFAULT_MAX_RETRIES = 600, 3


class JobFailure(Exception):
    """Stops the processing of one input object; the message becomes the job's FailureReason."""


def _records(data: bytes, split_type: str) -> tuple[list[bytes], list[int]]:
    """The records of an object and the file line each starts on (blank lines are not records)."""
    if split_type == "Line":
        numbered = [(n, line) for n, line in enumerate(data.split(b"\n"), start=1) if line.strip()]
        return [line for _, line in numbered], [n for n, _ in numbered]
    return [data], [1]


def _batches(records: list[bytes], strategy: str, max_payload: int) -> Iterator[tuple[int, list[bytes]]]:
    """Mini-batches (first record index, records) within the payload limit, in input order."""
    if strategy == "SingleRecord":
        yield from ((i, [r]) for i, r in enumerate(records))
        return
    start, size = 0, 0
    batch: list[bytes] = []
    for index, record in enumerate(records):
        if batch and size + len(record) + 1 > max_payload:
            yield start, batch
            start, batch, size = index, [], 0
        batch.append(record)
        size += len(record) + 1
    if batch:
        yield start, batch


def _json_joined(record: bytes, output: bytes) -> bytes:
    """One JSON record joined with its output, as DataProcessing.JoinSource documents it.

    An object gains a "SageMakerOutput" attribute; any other record (an array, a number) is not a
    key-value object, so SageMaker writes a new one: {"SageMakerInput": record, "SageMakerOutput": output}.
    """
    try:
        value = json.loads(record)
    except json.JSONDecodeError as exc:
        raise JobFailure(f"ClientError: JoinSource=Input cannot read the JSON record: {exc}") from exc
    try:
        answer = json.loads(output)
    except json.JSONDecodeError:
        answer = output.decode("utf-8", "replace")  # e.g. Accept text/csv: the output is joined as text
    if isinstance(value, dict):
        return json.dumps({**value, "SageMakerOutput": answer}).encode()
    return json.dumps({"SageMakerInput": value, "SageMakerOutput": answer}).encode()


def _joined(inputs: list[bytes], outputs: list[bytes], content_type: str) -> list[bytes]:
    # JoinSource=Input: CSV rows get the prediction appended as a last column, JSON records an attribute.
    if len(inputs) != len(outputs):
        raise JobFailure("ClientError: JoinSource=Input needs one output line per input record.")
    if "json" in content_type:
        return [_json_joined(i, o) for i, o in zip(inputs, outputs, strict=True)]
    return [i.rstrip(b"\r") + b"," + o for i, o in zip(inputs, outputs, strict=True)]


def _invoke(model: LoadedModel, job: dict[str, Any], body: bytes, where: str) -> bytes:
    """One mini-batch request to the container, under ModelClientConfig's timeout and retries.

    Only timeouts are retried: the container's answer to the same body is deterministic here, so a
    request it refused would be refused again.
    """
    source, client = job["TransformInput"], job.get("ModelClientConfig") or {}
    timeout = client.get("InvocationsTimeoutInSeconds", DEFAULT_TIMEOUT_SECONDS)
    retries = client.get("InvocationsMaxRetries", DEFAULT_MAX_RETRIES)
    for _ in range(retries + 1):
        started = time.monotonic()
        answer, _ = predict(
            model, body, source.get("ContentType", "text/csv"), job.get("TransformOutput", {}).get("Accept")
        )
        if time.monotonic() - started <= timeout:
            return answer
    raise JobFailure(
        f"ClientError: Model server did not respond to /invocations request within {timeout} seconds "
        f"({where}; tried {retries + 1} times)."
    )


def _transform_object(model: LoadedModel, job: dict[str, Any], uri: str, data: bytes) -> bytes:
    """The `.out` content for one input object, or JobFailure naming the record that broke."""
    source = job["TransformInput"]
    content_type = source.get("ContentType", "text/csv")
    max_payload = int(job.get("MaxPayloadInMB", 6)) * MB
    if source.get("CompressionType") == "Gzip":
        data = gzip.decompress(data)
    records, first_lines = _records(data, source.get("SplitType", "None"))
    outputs: list[bytes] = []
    for start, batch in _batches(records, job.get("BatchStrategy", "MultiRecord"), max_payload):
        body = b"\n".join(batch)
        if len(body) > max_payload:
            raise JobFailure(
                f"ClientError: Too much data for max payload size in {uri} (record {start + 1})."
            )
        try:
            answer = _invoke(model, job, body, f"{uri}, record {start + 1}")
        except PayloadError as exc:
            # exc.line counts lines within the mini-batch body, whose lines are records in Line mode.
            within = (exc.line or 1) - 1
            line = first_lines[start + within] if len(first_lines) > 1 else first_lines[start] + within
            raise JobFailure(f"ClientError: Bad input in {uri} at line {line}: {exc}") from exc
        lines = answer.split(b"\n")
        outputs.extend(lines if len(lines) == len(batch) else [answer])
    if job.get("DataProcessing", {}).get("JoinSource") == "Input":
        rows = [row for row in data.split(b"\n") if row.strip()]
        outputs = _joined(rows, [line for chunk in outputs for line in chunk.split(b"\n")], content_type)
    if job.get("TransformOutput", {}).get("AssembleWith") == "Line":
        return b"".join(o + b"\n" for o in outputs)
    return b"".join(outputs)


def _output_key(prefix_key: str, key: str, output_uri: str) -> tuple[str, str]:
    # The output mirrors the input path below the prefix's folder: <S3OutputPath>/<relative key>.out
    base = prefix_key[: prefix_key.rfind("/") + 1] if "/" in prefix_key else ""
    out_bucket, out_prefix = s3io.split_uri(output_uri)
    relative = key[len(base) :]
    return out_bucket, (out_prefix.rstrip("/") + "/" if out_prefix.strip("/") else "") + relative + ".out"


def _load_job_model(job: dict[str, Any], limits: ArchiveLimits | None) -> LoadedModel:
    model = job["_model"]
    container = model.get("PrimaryContainer") or (model.get("Containers") or [{}])[0]
    if container.get("Mode") == "MultiModel":
        raise ModelLoadError("Batch transform does not support multi-model containers.")
    framework = framework_for_image(container.get("Image", ""))
    return fetch_and_load(framework, container.get("ModelDataUrl", ""), limits)


def run_transform_job(
    job: dict[str, Any],
    stop: threading.Event,
    limits: ArchiveLimits | None = None,
    seconds_per_object: float = 0.0,
) -> tuple[str, str | None]:
    """Run a job to its end: ("Completed", None), ("Failed", reason) or ("Stopped", None).

    Each input object takes `seconds_per_object` (a stand-in for the instance's work, so that a job can
    be watched and stopped half-way); a stop asked meanwhile ends the job before the next object."""
    try:
        model = _load_job_model(job, limits)
    except ModelLoadError as exc:
        return "Failed", f"ClientError: {exc}"
    if job.get("MaxPayloadInMB", 6) == 0:
        # CreateTransformJob (API Reference): 0 means HTTP chunked encoding, which SageMaker's built-in
        # algorithms do not support; they are the only containers emulated here.
        return "Failed", (
            "ClientError: MaxPayloadInMB 0 sends the input with HTTP chunked encoding, which this "
            "container does not support: set MaxPayloadInMB to 1-100 MB, at least the size of one record."
        )
    source = job["TransformInput"]["DataSource"]["S3DataSource"]
    try:
        bucket, prefix, keys = _input_objects(source)
    except JobFailure as exc:
        return "Failed", str(exc)
    if not keys:
        return "Failed", (
            f'ClientError: No S3 objects found under S3 URL "{source["S3Uri"]}" given in input data source. '
            "Please ensure that the bucket exists in the selected region, that objects exist under that "
            'S3 prefix, and that the role has "s3:ListBucket" permissions on the bucket.'
        )
    return _transform_objects(model, job, (stop, seconds_per_object), bucket, prefix, keys)


def _manifest_objects(uri: str) -> tuple[str, str, list[str]]:
    """(bucket, prefix, keys) a manifest lists: [{"prefix": "s3://bucket/p/"}, "relative/key", ...]."""
    try:
        entries = json.loads(s3io.get_bytes(*s3io.split_uri(uri)))
        bucket, prefix = s3io.split_uri(entries[0]["prefix"])
        relative = [str(entry) for entry in entries[1:]]
    except s3io.S3Missing as exc:
        raise JobFailure(f"ClientError: Unable to read the manifest file {uri}: it does not exist.") from exc
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise JobFailure(
            f'ClientError: The manifest file {uri} is not a JSON list starting with {{"prefix": "s3://…"}}.'
        ) from exc
    return bucket, prefix, [prefix + name for name in relative]


def _input_objects(source: dict[str, Any]) -> tuple[str, str, list[str]]:
    """(bucket, prefix the output paths are relative to, input keys) of S3Prefix or ManifestFile input."""
    if source.get("S3DataType") == "ManifestFile":
        return _manifest_objects(source["S3Uri"])
    bucket, prefix = s3io.split_uri(source["S3Uri"])
    try:
        return bucket, prefix, [k for k in s3io.list_keys(bucket, prefix) if not k.endswith("/")]
    except s3io.S3Missing:
        return bucket, prefix, []


def _transform_objects(
    model: LoadedModel,
    job: dict[str, Any],
    pace: tuple[threading.Event, float],
    bucket: str,
    prefix: str,
    keys: list[str],
) -> tuple[str, str | None]:
    """Transform each object into its `.out`; a file that fails has none, and the others carry on."""
    stop, seconds_per_object = pace
    failures: list[str] = []
    for key in keys:
        if stop.wait(seconds_per_object):  # set: stopped before this object (wait(0) only looks)
            return "Stopped", None
        uri = f"s3://{bucket}/{key}"
        try:
            content = _transform_object(model, job, uri, s3io.get_bytes(bucket, key))
            out_bucket, out_key = _output_key(prefix, key, job["TransformOutput"]["S3OutputPath"])
            s3io.put_bytes(out_bucket, out_key, content)
        except JobFailure as exc:
            failures.append(str(exc))
        except (s3io.S3Missing, OSError, ValueError) as exc:
            failures.append(f"ClientError: Unable to process {uri}: {exc}")
    if failures:
        return "Failed", "; ".join(failures)[:1024]
    return "Completed", None
