"""The one AWS seam: boto3 clients, request shapes and error conversion live here and nowhere else.

`deployments.aws.sagemaker` and `deployments.aws.storage` take and return domain objects;
`deployments.aws.errors` are the exceptions callers handle; `recording` captures every call.
"""

from __future__ import annotations

from deployments.aws.clients import CallRecord, recording
from deployments.aws.errors import (
    AlreadyExists,
    AwsError,
    InProgress,
    NotFound,
    Terminal,
    Throttled,
    Transient,
)

__all__ = [
    "AlreadyExists",
    "AwsError",
    "CallRecord",
    "InProgress",
    "NotFound",
    "Terminal",
    "Throttled",
    "Transient",
    "recording",
]
