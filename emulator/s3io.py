"""Reads and writes of S3 objects through moto's in-process backend (no HTTP hop, no signing)."""

from __future__ import annotations

import threading

from moto.s3.models import s3_backends

from emulator.errors import ACCOUNT_ID

# Set on every write, so the persister knows a snapshot is due; the server sets it for S3 writes it proxies.
s3_changed = threading.Event()


class S3Missing(Exception):
    """The bucket or key does not exist."""


def _backend():  # type: ignore[no-untyped-def]
    return s3_backends[ACCOUNT_ID]["aws"]


def split_uri(uri: str) -> tuple[str, str]:
    """Split `s3://bucket/key` into (bucket, key); anything else raises ValueError."""
    if not uri.startswith("s3://"):
        raise ValueError(f"{uri} is not an s3:// URI")
    bucket, _, key = uri[5:].partition("/")
    if not bucket:
        raise ValueError(f"{uri} names no bucket")
    return bucket, key


def get_bytes(bucket: str, key: str) -> bytes:
    """The object's content; S3Missing when the bucket or key is absent."""
    try:
        found = _backend().get_object(bucket, key)
    except Exception as exc:  # moto raises its own MissingBucket type
        raise S3Missing(f"s3://{bucket}/{key}") from exc
    if found is None:
        raise S3Missing(f"s3://{bucket}/{key}")
    return bytes(found.value)


def put_bytes(bucket: str, key: str, data: bytes) -> None:
    """Write an object (the bucket must exist, as with real S3)."""
    try:
        _backend().put_object(bucket, key, data)
    except Exception as exc:
        raise S3Missing(f"s3://{bucket}") from exc
    s3_changed.set()


def list_keys(bucket: str, prefix: str) -> list[str]:
    """Keys under `prefix`, sorted as S3 lists them; S3Missing when the bucket is absent."""
    try:
        found = _backend().get_bucket(bucket)
    except Exception as exc:
        raise S3Missing(f"s3://{bucket}") from exc
    return sorted(key for key in list(found.keys.keys()) if key.startswith(prefix))


def model_data_present(uri: str, *, prefix: bool) -> bool:
    """Whether `uri` names an object (or, with `prefix`, a prefix holding at least one object)."""
    try:
        bucket, key = split_uri(uri)
        if prefix:
            return bool(list_keys(bucket, key))
    except (ValueError, S3Missing):
        return False
    return object_etag(bucket, key) is not None


def bucket_names() -> list[str]:
    """Every bucket the backend holds."""
    return sorted(_backend().buckets.keys())


def bucket_region(bucket: str) -> str:
    """The region a bucket was created in."""
    return str(_backend().get_bucket(bucket).region_name)


def object_etag(bucket: str, key: str) -> str | None:
    """The object's ETag, or None when it is absent."""
    try:
        found = _backend().get_object(bucket, key)
    except Exception:
        return None
    return None if found is None else str(found.etag)


def ensure_bucket(bucket: str, region: str) -> None:
    """Create the bucket unless it exists (used when restoring a snapshot)."""
    if bucket not in _backend().buckets:
        _backend().create_bucket(bucket, region)
