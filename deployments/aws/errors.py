"""The project's AWS exceptions: what a caller can do about an error, not which API raised it."""

from __future__ import annotations


class AwsError(Exception):
    """Base: `code` is AWS's error code, `request_id` the id AWS gave the failed call."""

    def __init__(self, message: str, *, code: str = "", request_id: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.request_id = request_id


class NotFound(AwsError):
    """The resource does not exist (any more)."""


class AlreadyExists(AwsError):
    """A create found a resource of that name: describe it and carry on."""


class InProgress(AwsError):
    """The resource is mid-transition (e.g. UpdateEndpoint while Updating): poll and try again."""


class Transient(AwsError):
    """Worth retrying later: 5xx, timeouts, connection failures."""


class Throttled(Transient):
    """AWS throttled the call even after botocore's own retries."""


class Terminal(AwsError):
    """Retrying will not help (validation, quota, permissions): stop and say why."""
