"""THE table of deployment kinds (DESIGN.md's rules table): where each may run, its limits and settings.

`deployments.rules` checks against it; forms, services and the advisor read both through there.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from deployments.models import Kind
from tenants.models import Isolation

SILO, BRIDGE, POOL = Isolation.SILO, Isolation.BRIDGE, Isolation.POOL
ALL_ISOLATIONS = frozenset({SILO, BRIDGE, POOL})
MAX_CONTAINERS = 15
# AWS documents a multi-container model as more than one container ("include more than one container in
# the Containers parameter": https://docs.aws.amazon.com/sagemaker/latest/dg/multi-container-create.html)
# and serves TargetContainerHostname only on endpoints hosting several containers with Direct invocation;
# a single container with Mode=Direct is undocumented, so the product never sends one.
MIN_CONTAINERS = 2
BATCH_PAYLOAD_PRODUCT_MB = 100
RECORDIO, RECORDIO_PROTOBUF = "RecordIO", "application/x-recordio-protobuf"
LATENCIES = ("periodic", "minutes", "milliseconds")
timezone_names = lru_cache(maxsize=1)(available_timezones)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Setting:
    """One field of a kind's settings: type, bounds and default (forms build their fields from it)."""

    name: str
    label: str
    type: type = int
    default: Any = None
    minimum: int | None = None
    maximum: int | None = None
    step: int | None = None
    choices: tuple[str, ...] = ()
    required: bool = True
    help: str = ""
    # The SageMaker shape whose pattern AWS checks the value against (read from botocore at runtime).
    pattern_shape: str = ""


# What a valid value of each pattern shape is and looks like, for people (the pattern itself is AWS's).
PATTERN_EXAMPLES: dict[str, tuple[str, str]] = {
    "DestinationS3Uri": ("an S3 URI", "s3://my-bucket/async/output/"),
    "SnsTopicArn": ("an SNS topic ARN", "arn:aws:sns:us-east-1:123456789012:inference-done"),
}


@dataclass(frozen=True)
class KindRule:
    """What DESIGN.md's table says about one kind."""

    kind: Kind
    isolations: frozenset[str]
    shared_in: frozenset[str]  # isolations in which the deployment is one shared endpoint with members
    per_tenant_model: str  # "either", "required" (each member its own), "shared" (one shared model)
    max_payload_mb: float
    timeout_seconds: int  # the longest one request may take
    scale_to_zero: bool
    latencies: frozenset[str]
    cold_starts: bool  # inherent to the kind; scaling to zero (scale_to_zero) brings them where chosen
    instance_based: bool
    max_members: int | None = None
    settings: tuple[Setting, ...] = ()
    why_isolation: str = ""
    # When the timeout is a parameter rather than fixed: where it is set, and AWS's default.
    timeout_parameter: str = ""
    timeout_default: int | None = None


# fmt: off
INSTANCE = Setting("instance_type", "Instance type", str, "ml.m5.large", help="From the pricing catalogue")
COUNT = Setting("instance_count", "Instance count", int, 1, 1, 20)
PAYLOAD = Setting("payload_mb", "Largest request payload (MB)", int, 1, 0, None, required=False,
                  help="What the tenant sends per request; checked against the kind's limit")
ANY_LATENCY = frozenset(LATENCIES)
SHARED = frozenset({BRIDGE, POOL})

# One row per kind, as in DESIGN.md: where it runs, whether it is shared, models, limits, settings.
KIND_RULES: dict[str, KindRule] = {
    Kind.BATCH: KindRule(
        Kind.BATCH, isolations=ALL_ISOLATIONS, shared_in=frozenset(), per_tenant_model="either",
        max_payload_mb=100, timeout_seconds=3600, scale_to_zero=True, latencies=frozenset({"periodic"}),
        cold_starts=False, instance_based=True,
        why_isolation="one transform job per tenant, with the tenant's model or a shared one",
        timeout_parameter="the InvocationsTimeoutInSeconds setting", timeout_default=600,
        settings=(
            INSTANCE, COUNT, PAYLOAD,
            Setting("max_payload_mb", "MaxPayloadInMB", int, 6, 1, 100,
                    help="At least 1: 0 would ask for HTTP chunked encoding, which SageMaker's own "
                         "XGBoost and scikit-learn containers do not support"),
            Setting("max_concurrent_transforms", "MaxConcurrentTransforms", int, 1, 1, 100),
            # ModelClientConfig: without it AWS allows 600 s per request and retries 3 times.
            Setting("invocations_timeout_seconds", "InvocationsTimeoutInSeconds", int, 600, 1, 3600,
                    help="How long the container may take to answer one mini-batch (AWS's default 600 s)"),
            Setting("invocations_max_retries", "InvocationsMaxRetries", int, 3, 0, 3,
                    help="Retries of a failed or timed-out mini-batch before the job fails"),
            Setting("split_type", "SplitType", str, "Line", choices=("Line", "None", RECORDIO),
                    help="RecordIO only with application/x-recordio-protobuf input"),
            Setting("batch_strategy", "BatchStrategy", str, "MultiRecord",
                    choices=("MultiRecord", "SingleRecord")),
            Setting("content_type", "ContentType", str, "text/csv", choices=(
                "text/csv", "application/json", "application/jsonlines", RECORDIO_PROTOBUF)),
            Setting("join_source", "JoinSource", str, "None", choices=("None", "Input")),
            Setting("schedule", "Schedule", str, "daily", choices=("manual", "daily", "weekly", "monthly")),
            Setting("schedule_hour", "Hour of the run", int, 2, 0, 23,
                    help="In the schedule's time zone, 0-23"),
            Setting("schedule_timezone", "Time zone", str, "UTC",
                    help="The tenant's local time zone, e.g. Europe/Paris"),
            Setting("schedule_weekday", "Weekday (weekly)", str, "monday", choices=WEEKDAYS),
            Setting("schedule_day", "Day of the month (monthly)", int, 1, 1, 28,
                    help="1-28, so that every month has it"),
            Setting("input_columns", "Input columns", int, None, 1, 10_000, required=False,
                    help="Feature columns per input row: uploads with another count are refused"),
            Setting("input_header", "Header row in uploads", str, "absent", choices=("absent", "present"),
                    help="Present: uploads start with column names (removed before the model reads them)"),
            Setting("run_minutes", "Expected minutes per run", int, 15, 1, 1440),
        ),
    ),
    Kind.REALTIME: KindRule(
        Kind.REALTIME, isolations=frozenset({SILO, POOL}), shared_in=frozenset({POOL}),
        per_tenant_model="either",
        max_payload_mb=6, timeout_seconds=60, scale_to_zero=False, latencies=ANY_LATENCY,
        cold_starts=False, instance_based=True,
        why_isolation="one endpoint per tenant in Silo, or one endpoint with one shared model in Pool",
        settings=(INSTANCE, COUNT, PAYLOAD),
    ),
    Kind.ASYNC: KindRule(
        Kind.ASYNC, isolations=ALL_ISOLATIONS, shared_in=frozenset(), per_tenant_model="either",
        max_payload_mb=1024, timeout_seconds=3600, scale_to_zero=True,
        latencies=frozenset({"periodic", "minutes"}),
        # Only once scaled to zero (autoscaling minimum 0); a minimum of 1 keeps an instance warm.
        cold_starts=False, instance_based=True,
        why_isolation="always one endpoint per tenant (it can scale to zero), in every isolation model",
        # InvocationTimeoutSeconds is a parameter of each InvokeEndpointAsync request, not of the endpoint
        # config: the tenant inference API sends timeout_default unless a caller asks for another value.
        timeout_parameter="InvocationTimeoutSeconds, per InvokeEndpointAsync request", timeout_default=900,
        settings=(
            INSTANCE, COUNT, PAYLOAD,
            Setting("max_concurrent_invocations", "Max concurrent invocations per instance", int, 4, 1, 1000),
            Setting("min_capacity", "Autoscaling minimum instances", int, 0, 0, 20),
            Setting("max_capacity", "Autoscaling maximum instances", int, 2, 1, 20),
            # AsyncInferenceOutputConfig's S3OutputPath/S3FailurePath and its NotificationConfig's topics.
            Setting("output_path", "S3 output path", str, "", required=False,
                    help="Default: the tenant's prefix", pattern_shape="DestinationS3Uri"),
            Setting("failure_path", "S3 failure path", str, "", required=False,
                    help="Default: the tenant's prefix", pattern_shape="DestinationS3Uri"),
            Setting("success_topic", "SNS success topic ARN", str, "", required=False,
                    help="Optional: SNS notifies it of each result", pattern_shape="SnsTopicArn"),
            Setting("error_topic", "SNS error topic ARN", str, "", required=False,
                    help="Optional: SNS notifies it of each failure", pattern_shape="SnsTopicArn"),
        ),
    ),
    Kind.SERVERLESS: KindRule(
        Kind.SERVERLESS, isolations=frozenset({SILO}), shared_in=frozenset(), per_tenant_model="either",
        max_payload_mb=4, timeout_seconds=60, scale_to_zero=True, latencies=ANY_LATENCY,
        cold_starts=True, instance_based=False,
        why_isolation="a serverless endpoint serves one model and cannot host multi-model: Silo only",
        settings=(
            Setting("memory_mb", "MemorySizeInMB", int, 2048, 1024, 6144, 1024),
            Setting("max_concurrency", "MaxConcurrency", int, 5, 1, 200),
            PAYLOAD,
            Setting("requests_per_day", "Expected requests per day", int, 1000, 0, 10**9, required=False),
            Setting("duration_ms", "Expected inference time (ms)", int, 200, 1, 60000, required=False),
        ),
    ),
    Kind.MULTI_MODEL: KindRule(
        Kind.MULTI_MODEL, isolations=SHARED, shared_in=SHARED, per_tenant_model="required",
        max_payload_mb=6, timeout_seconds=60, scale_to_zero=False, latencies=ANY_LATENCY,
        cold_starts=True, instance_based=True,
        why_isolation="tenants share the endpoint's instances and each brings its own model (TargetModel)",
        settings=(
            INSTANCE, COUNT, PAYLOAD,
            Setting("framework", "Framework (one image for every model)", str, "xgboost",
                    choices=("xgboost", "sklearn")),
            Setting("framework_version", "Framework version", str, "", required=False,
                    help="Default: the supported one"),
        ),
    ),
    Kind.MULTI_CONTAINER: KindRule(
        Kind.MULTI_CONTAINER, isolations=SHARED, shared_in=SHARED, per_tenant_model="required",
        max_payload_mb=6, timeout_seconds=60, scale_to_zero=False, latencies=ANY_LATENCY,
        cold_starts=False, instance_based=True, max_members=MAX_CONTAINERS,
        why_isolation="tenants share the endpoint, each in its own container (TargetContainerHostname)",
        settings=(INSTANCE, COUNT, PAYLOAD),
    ),
}
# fmt: on


# What a new deployment starts as under each isolation model (the form's defaults): a Silo tenant's own
# real-time endpoint; a Bridge tenant's own model on a shared multi-model endpoint; a Pool tenant on a
# shared real-time endpoint serving one shared model.
DEFAULT_KINDS: dict[str, str] = {SILO: Kind.REALTIME, BRIDGE: Kind.MULTI_MODEL, POOL: Kind.REALTIME}
