"""Model packages, deployments (desired state), their members, AWS-call timeline and batch runs."""

from __future__ import annotations

import uuid

from django.conf import settings as django_settings
from django.db import models
from django.utils import timezone

from tenants.access import TenantScopedQuerySet
from tenants.models import Isolation, Tenant


class Framework(models.TextChoices):
    XGBOOST = "xgboost", "XGBoost"
    SKLEARN = "sklearn", "scikit-learn"


class Kind(models.TextChoices):
    BATCH = "batch", "Batch transform"
    REALTIME = "realtime", "Real-time endpoint"
    ASYNC = "async", "Asynchronous endpoint"
    SERVERLESS = "serverless", "Serverless endpoint"
    MULTI_MODEL = "multi_model", "Multi-model endpoint"
    MULTI_CONTAINER = "multi_container", "Multi-container endpoint"


class Status(models.TextChoices):
    PENDING = "pending", "Pending"
    CREATING = "creating", "Creating"
    IN_SERVICE = "in_service", "In service"
    UPDATING = "updating", "Updating"
    FAILED = "failed", "Failed"
    DELETING = "deleting", "Deleting"
    DELETED = "deleted", "Deleted"


class Desired(models.TextChoices):
    """Whether the deployment's AWS resources should exist: what a retry resumes (create or delete)."""

    PRESENT = "present", "Exists"
    ABSENT = "absent", "Deleted"


class ModelPackage(models.Model):
    """A model artifact in S3 and the container image that serves it; tenant NULL means shared."""

    tenant = models.ForeignKey(
        Tenant, on_delete=models.PROTECT, null=True, blank=True, related_name="model_packages"
    )
    framework = models.CharField(max_length=12, choices=Framework.choices)
    framework_version = models.CharField(max_length=20)
    image_uri = models.CharField(max_length=255)
    model_data_url = models.CharField("ModelDataUrl", max_length=1024)
    version = models.PositiveIntegerField()
    size_bytes = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        # Shared packages (no tenant) first on every database (PostgreSQL sorts NULLs last by default).
        ordering = [models.F("tenant__slug").asc(nulls_first=True), "framework", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "framework", "version"], name="model_package_version_per_owner"
            ),
            models.UniqueConstraint(
                fields=["framework", "version"],
                condition=models.Q(tenant__isnull=True),
                name="model_package_version_shared",
            ),
        ]

    def __str__(self) -> str:
        owner = self.tenant.slug if self.tenant else "shared"
        return f"{owner} {self.get_framework_display()} {self.framework_version} v{self.version}"


class Deployment(models.Model):
    """Desired state of one SageMaker deployment; workers move `status` along deployments.states.

    `tenant` is NULL for a shared deployment (pool real-time, multi-model, multi-container) whose
    tenants are its members. AWS names are stored before the create calls that use them.
    """

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(
        Tenant, on_delete=models.PROTECT, null=True, blank=True, related_name="deployments"
    )
    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    isolation = models.CharField(max_length=10, choices=Isolation.choices)
    model_package = models.ForeignKey(
        ModelPackage, on_delete=models.PROTECT, null=True, blank=True, related_name="deployments"
    )
    settings = models.JSONField(default=dict, blank=True)
    # What should exist; `status` is where the workers are. A delete makes it absent for good, so a
    # failed delete retries the delete (never a create): see deployments.states.resume_status.
    desired = models.CharField(max_length=8, choices=Desired.choices, default=Desired.PRESENT)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    status_changed_at = models.DateTimeField(auto_now_add=True)
    # Bumped on every change of desired state; observed is the generation SageMaker has caught up with.
    generation = models.PositiveIntegerField(default=1)
    observed_generation = models.PositiveIntegerField(default=0)
    # AWS names: the endpoint's is fixed at creation; the model/config being rolled out and those live.
    aws_name = models.CharField(max_length=63, unique=True)
    target_generation = models.PositiveIntegerField(default=0)
    model_name = models.CharField(max_length=63, blank=True)
    config_name = models.CharField(max_length=63, blank=True)
    live_model_name = models.CharField(max_length=63, blank=True)
    live_config_name = models.CharField(max_length=63, blank=True)
    target_spec = models.JSONField(default=dict, blank=True)  # what the target model/config were made of
    live_spec = models.JSONField(default=dict, blank=True)
    polls = models.PositiveIntegerField(default=0)
    polled_at = models.DateTimeField(null=True, blank=True)
    retries = models.PositiveIntegerField(default=0)
    # When the current run of transient AWS errors began: the job keeps retrying for a while from then.
    retrying_since = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # Failed because AWS did not answer (only transient errors): reconcile retries it once AWS answers.
    failed_transient = models.BooleanField(default=False)
    drift = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status"]),
            models.Index(fields=["kind"]),
            models.Index(fields=["tenant", "status"]),
            # The fleet page's order: a page of the newest rows is read off the index, not sorted.
            models.Index(fields=["-created_at", "-id"], name="deployment_newest_first"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def endpoint_name(self) -> str:
        """The endpoint's AWS name (batch deployments have none: their runs are transform jobs)."""
        return "" if self.kind == Kind.BATCH else self.aws_name

    @property
    def is_shared(self) -> bool:
        return self.tenant_id is None

    @property
    def is_removed(self) -> bool:
        """Whether the deployment is meant to be gone (being deleted, its delete failed, or deleted)."""
        return self.desired == Desired.ABSENT

    @property
    def is_cancellable(self) -> bool:
        """Whether Cancel means something: a first creation still on its way (cancelling deletes what it
        made so far). A change to a live endpoint is not one: cancelling it would delete what serves."""
        waiting = self.status in (Status.PENDING, Status.CREATING)
        return waiting and not self.is_removed and not self.live_model_name

    @property
    def owner_label(self) -> str:
        return self.tenant.slug if self.tenant else "shared"


class MemberState(models.TextChoices):
    JOINING = "joining", "Joining"
    ACTIVE = "active", "Active"
    LEAVING = "leaving", "Leaving"


class DeploymentMember(models.Model):
    """A tenant served by a shared deployment: its TargetModel path or container hostname."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="members")
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="deployment_memberships")
    model_package = models.ForeignKey(
        ModelPackage, on_delete=models.PROTECT, null=True, blank=True, related_name="members"
    )
    target = models.CharField(max_length=120, help_text="TargetModel path or TargetContainerHostname")
    # A multi-model member whose package changed: the new TargetModel, served once its artifact is copied.
    pending_target = models.CharField(max_length=120, blank=True)
    state = models.CharField(max_length=10, choices=MemberState.choices, default=MemberState.JOINING)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["deployment", "target"]
        constraints = [
            models.UniqueConstraint(fields=["deployment", "tenant"], name="one_membership_per_deployment")
        ]

    def __str__(self) -> str:
        return f"{self.tenant} in {self.deployment}"


class DeploymentEvent(models.Model):
    """One line of a deployment's timeline: an AWS call (with its request id) or a state change."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="events")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    action = models.CharField(max_length=60)
    resource = models.CharField(max_length=300, blank=True)
    request_id = models.CharField(max_length=100, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=20)
    error = models.TextField(blank=True)
    # When the call happened (events of a job are written together when it ends).
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.action} {self.resource} {self.outcome}"


class AsyncInference(models.Model):
    """One InvokeEndpointAsync request made through the tenant inference API: where its outcome lands.

    The API answers GET /api/v1/predictions/<inference_id> only for the tenant that made the request.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="async_inferences")
    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="async_inferences")
    inference_id = models.CharField(max_length=64, unique=True)
    input_location = models.CharField(max_length=1024)
    output_location = models.CharField(max_length=1024)
    failure_location = models.CharField(max_length=1024, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.inference_id


class UsageMinute(models.Model):
    """One tenant's use of one deployment in one minute, through the inference API (deployments/metering.py).

    The cost pages split a shared endpoint's cost by these figures: sums over a month by tenant, by
    deployment within a tenant, and by deployment across its tenants, each served by an index below.
    Rows only ever grow: the flush adds a batch's counts to them (deployments/services/usage_flush.py).
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    deployment = models.ForeignKey(Deployment, on_delete=models.PROTECT, related_name="+")
    minute = models.DateTimeField()  # the start of the minute, UTC
    invocations = models.PositiveBigIntegerField(default=0)
    errors_client = models.PositiveBigIntegerField(default=0)
    errors_throttled = models.PositiveBigIntegerField(default=0)
    errors_model = models.PositiveBigIntegerField(default=0)
    errors_timeout = models.PositiveBigIntegerField(default=0)
    errors_not_ready = models.PositiveBigIntegerField(default=0)
    errors_server = models.PositiveBigIntegerField(default=0)
    bytes_in = models.PositiveBigIntegerField(default=0)
    bytes_out = models.PositiveBigIntegerField(default=0)
    latency_ms_sum = models.FloatField(default=0.0)
    latency_ms_max = models.FloatField(default=0.0)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            # Tenant leading: also the index of a tenant's month summed per deployment.
            models.UniqueConstraint(
                fields=["tenant", "deployment", "minute"], name="usage_one_row_per_minute"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "minute"], name="usage_tenant_minute"),
            # A shared endpoint's month split across its tenants.
            models.Index(fields=["deployment", "minute"], name="usage_deployment_minute"),
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} / {self.deployment_id} @ {self.minute:%Y-%m-%d %H:%M}"


class UsageFlushBatch(models.Model):
    """A flushing batch already added to UsageMinute: written in the same transaction as its rows, so a
    batch applied before a crash (its Redis key not yet deleted) is never added twice."""

    batch = models.CharField(max_length=80, unique=True)
    rows = models.PositiveIntegerField()
    applied_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.batch


# Defined in their own modules to keep this one short; imported here so Django registers them with the app.
from deployments.models_data import DatasetFile, InputArea  # noqa: E402, F401
from deployments.models_runs import (  # noqa: E402, F401
    ACTIVE_RUN_STATUSES,
    FileStatus,
    IngestStatus,
    RunStatus,
    RunTrigger,
    TransformRun,
    TransformRunFile,
)
