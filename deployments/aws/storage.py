"""S3 operations for model artifacts and multi-model prefixes; each function names the API it calls."""

from __future__ import annotations

import contextlib
from typing import IO

from deployments.aws.clients import call
from deployments.aws.errors import AlreadyExists, NotFound, Terminal

S3 = "s3"
# A conditional write found the key taken (412), or raced another one to it (409):
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html
KEY_TAKEN_CODES = frozenset({"PreconditionFailed", "ConditionalRequestConflict"})


def uri_split(uri: str) -> tuple[str, str]:
    """("bucket", "key") of an s3:// URI; ValueError for anything else."""
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        raise ValueError(f"not an s3:// URI with a key: {uri!r}")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def bucket_ensure(bucket: str, region: str) -> None:
    """Create the bucket unless it exists (the emulator starts empty)."""
    try:
        # API: HeadBucket
        call(S3, "head_bucket", f"s3://{bucket}", Bucket=bucket)
        return
    except NotFound:
        pass
    extra = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    with contextlib.suppress(AlreadyExists):  # created meanwhile by another worker
        # API: CreateBucket
        call(S3, "create_bucket", f"s3://{bucket}", Bucket=bucket, **extra)


def object_put(uri: str, body: IO[bytes] | bytes, tags: dict[str, str] | None = None) -> None:
    bucket, key = uri_split(uri)
    extra = {"Tagging": "&".join(f"{k}={v}" for k, v in tags.items())} if tags else {}
    # API: PutObject
    call(S3, "put_object", uri, Bucket=bucket, Key=key, Body=body, **extra)


def object_create(uri: str, body: IO[bytes], tags: dict[str, str] | None = None) -> None:
    """Write a new object, streamed from `body` (a file: botocore reads it in blocks, never whole).

    AlreadyExists when the key holds an object: the write is conditional, so two writers of one key
    never overwrite each other.
    """
    bucket, key = uri_split(uri)
    extra = {"Tagging": "&".join(f"{k}={v}" for k, v in tags.items())} if tags else {}
    try:
        # API: PutObject (If-None-Match: *)
        call(S3, "put_object", uri, Bucket=bucket, Key=key, Body=body, IfNoneMatch="*", **extra)
    except Terminal as exc:
        if exc.code not in KEY_TAKEN_CODES:
            raise
        raise AlreadyExists(exc.message, code=exc.code, request_id=exc.request_id) from exc


def object_exists(uri: str) -> bool:
    bucket, key = uri_split(uri)
    try:
        # API: HeadObject
        call(S3, "head_object", uri, Bucket=bucket, Key=key)
    except NotFound:
        return False
    return True


def object_copy(source: str, target: str) -> None:
    """Server-side copy (a tenant's artifact into a multi-model endpoint's prefix)."""
    src_bucket, src_key = uri_split(source)
    bucket, key = uri_split(target)
    # API: CopyObject
    call(S3, "copy_object", target, Bucket=bucket, Key=key, CopySource={"Bucket": src_bucket, "Key": src_key})


def object_names(prefix: str) -> list[str]:
    """Names of the objects under an s3:// prefix, relative to it (every page of the listing)."""
    bucket, key_prefix = uri_split(prefix)
    names: list[str] = []
    token: dict[str, str] = {}
    while True:
        # API: ListObjectsV2
        page = call(S3, "list_objects_v2", prefix, Bucket=bucket, Prefix=key_prefix, **token)
        names += [item["Key"][len(key_prefix) :] for item in page.get("Contents", [])]
        if not page.get("IsTruncated"):
            return names
        token = {"ContinuationToken": page["NextContinuationToken"]}


def prefix_size(prefix: str) -> tuple[int, int]:
    """(bytes, objects) stored under an s3:// prefix, summed over every page of the listing."""
    bucket, key_prefix = uri_split(prefix)
    size = count = 0
    token: dict[str, str] = {}
    while True:
        # API: ListObjectsV2
        page = call(S3, "list_objects_v2", prefix, Bucket=bucket, Prefix=key_prefix, **token)
        contents = page.get("Contents", [])
        size += sum(int(item.get("Size", 0)) for item in contents)
        count += len(contents)
        if not page.get("IsTruncated"):
            return size, count
        token = {"ContinuationToken": page["NextContinuationToken"]}


def object_delete(uri: str) -> None:
    bucket, key = uri_split(uri)
    # API: DeleteObject (a missing key is not an error in S3)
    call(S3, "delete_object", uri, Bucket=bucket, Key=key)
