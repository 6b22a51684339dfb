"""Reading S3 objects as a stream of chunks (batch outputs are far larger than a worker's memory).

Kept apart from storage.py: its callers (insights' ingestion) read objects of any size, block by block.
"""

from __future__ import annotations

from collections.abc import Generator

from botocore.exceptions import BotoCoreError

from deployments.aws.clients import call, convert
from deployments.aws.storage import S3, uri_split

CHUNK_BYTES = 1024 * 1024


def object_chunks(uri: str, chunk_bytes: int = CHUNK_BYTES) -> Generator[bytes, None, None]:
    """The object's bytes in chunks of at most `chunk_bytes`; NotFound when it is absent.

    Only one chunk is held at a time; an error while reading the body (the connection dropped) is
    converted like any other AWS error, so callers see Transient rather than a botocore exception.
    """
    bucket, key = uri_split(uri)
    # API: GetObject (the body is read as the caller consumes it)
    body = call(S3, "get_object", uri, Bucket=bucket, Key=key)["Body"]
    try:
        yield from body.iter_chunks(chunk_bytes)
    except BotoCoreError as exc:
        raise convert(exc) from exc
    finally:
        body.close()
