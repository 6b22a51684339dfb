"""AWS-shaped errors raised by the emulator and turned into JSON responses by the server."""

from __future__ import annotations

ACCOUNT_ID = "123456789012"  # moto's default account: S3/SNS/CloudWatch answer for it too


class AwsError(Exception):
    """An error with the code, message and HTTP status AWS answers with."""

    def __init__(self, code: str, message: str, status: int = 400, **fields: object) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields


def validation(message: str) -> AwsError:
    """The control plane's `ValidationException` (HTTP 400)."""
    return AwsError("ValidationException", message)


def not_found(message: str) -> AwsError:
    """The control plane's `ResourceNotFound` (HTTP 400)."""
    return AwsError("ResourceNotFound", message)


def in_use(message: str) -> AwsError:
    """The control plane's `ResourceInUse` (HTTP 400)."""
    return AwsError("ResourceInUse", message)


def limit_exceeded(message: str) -> AwsError:
    """The control plane's `ResourceLimitExceeded` (HTTP 400)."""
    return AwsError("ResourceLimitExceeded", message)


def runtime_validation(message: str) -> AwsError:
    """The runtime's `ValidationError` (HTTP 400; the runtime's code differs from the control plane's)."""
    return AwsError("ValidationError", message)


def model_error(message: str, original_status: int, original_message: str, log_group: str) -> AwsError:
    """The runtime's `ModelError` (HTTP 424): the container answered 4xx/5xx."""
    return AwsError(
        "ModelError",
        message,
        status=424,
        OriginalStatusCode=original_status,
        OriginalMessage=original_message,
        LogStreamArn=log_group,
    )


def throttling(message: str) -> AwsError:
    """`ThrottlingException` (HTTP 429), as serverless endpoints answer past MaxConcurrency."""
    return AwsError("ThrottlingException", message, status=429)


def model_not_ready(message: str) -> AwsError:
    """`ModelNotReadyException` (HTTP 429 in botocore's sagemaker-runtime model): a multi-model endpoint is
    still loading the target model, or a serverless variant is still being provisioned."""
    return AwsError("ModelNotReadyException", message, status=429)
