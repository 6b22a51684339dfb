"""Batch transform runs and their files: what each run read, how its job and each file ended."""

from __future__ import annotations

from django.conf import settings as django_settings
from django.db import models

from tenants.access import TenantScopedQuerySet
from tenants.models import Tenant


class RunStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    IN_PROGRESS = "in_progress", "In progress"
    STOPPING = "stopping", "Stopping"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    STOPPED = "stopped", "Stopped"
    SKIPPED = "skipped", "Skipped"


# A run in one of these has, or may still get, a transform job: a deployment has at most one of them.
ACTIVE_RUN_STATUSES = (RunStatus.PENDING, RunStatus.IN_PROGRESS, RunStatus.STOPPING)


class RunTrigger(models.TextChoices):
    SCHEDULE = "schedule", "On schedule"
    MANUAL = "manual", "Run now"
    RETRY = "retry", "Retry of failed files"


class TransformRun(models.Model):
    """One batch transform job for one tenant: where it read, where it wrote, how it ended."""

    deployment = models.ForeignKey("deployments.Deployment", on_delete=models.CASCADE, related_name="runs")
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="transform_runs")
    sequence = models.PositiveIntegerField()
    job_name = models.CharField(max_length=63, unique=True)
    input_prefix = models.CharField(max_length=1024)
    output_prefix = models.CharField(max_length=1024)
    # The job reads exactly the files recorded for it, listed in this manifest (S3DataType=ManifestFile).
    manifest_uri = models.CharField(max_length=1024, blank=True)
    trigger = models.CharField(max_length=10, choices=RunTrigger.choices, default=RunTrigger.SCHEDULE)
    # A retry runs the failed files of this run again, in a job of its own.
    retry_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="retries"
    )
    started_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=12, choices=RunStatus.choices, default=RunStatus.PENDING)
    failure_reason = models.TextField(blank=True)
    polls = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # What its job was created on (TransformResources): its cost, whatever the deployment runs on later.
    instance_type = models.CharField(max_length=40, blank=True)
    instance_count = models.PositiveSmallIntegerField(null=True, blank=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["deployment", "sequence"], name="one_run_per_sequence"),
            # Never two runs of one deployment at once, whoever starts them (schedule, run now, retry).
            models.UniqueConstraint(
                fields=["deployment"],
                condition=models.Q(status__in=["pending", "in_progress", "stopping"]),
                name="one_active_run_per_deployment",
            ),
        ]

    def __str__(self) -> str:
        return self.job_name

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_RUN_STATUSES

    @property
    def label(self) -> str:
        """How people name the run: "Run 3" (the job's name is for AWS)."""
        return f"Run {self.sequence}"


class FileStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the job"
    SUCCEEDED = "succeeded", "Transformed"
    FAILED = "failed", "Failed"


class IngestStatus(models.TextChoices):
    WAITING = "waiting", "Not ingested yet"
    LOADING = "loading", "Loading"
    LOADED = "loaded", "Loaded"
    QUARANTINED = "quarantined", "Quarantined"


class TransformRunFile(models.Model):
    """One input object of a transform run and what became of it: transformed into `<key>.out` or failed
    (with the job's reason), then ingested into the tenant's results or quarantined (with the reason).

    `deployments` fills in the transform half when the run ends; `insights` fills in the ingestion half
    (`rows_out`, `rows_malformed`, `ingest_*`) when it loads the `.out` file.

    `input_key` and `output_key` are full `s3://bucket/key` URIs. Rows are recorded when the run's job is
    created (status pending); a file whose `.out` appears is `succeeded` (also while the job still runs:
    the run page's progress), and when the run ends every other file is `failed` with a reason. A retry
    is a new run (`retry_of`) holding only the files that failed.
    """

    run = models.ForeignKey(TransformRun, on_delete=models.CASCADE, related_name="files")
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    input_key = models.CharField(max_length=1024)
    output_key = models.CharField(max_length=1024)
    size_bytes = models.PositiveBigIntegerField(default=0)
    status = models.CharField(max_length=10, choices=FileStatus.choices, default=FileStatus.PENDING)
    reason = models.TextField(blank=True)
    rows_in = models.PositiveBigIntegerField(null=True, blank=True)
    rows_out = models.PositiveBigIntegerField(null=True, blank=True)
    rows_malformed = models.PositiveBigIntegerField(default=0)
    ingest_status = models.CharField(
        max_length=12, choices=IngestStatus.choices, default=IngestStatus.WAITING
    )
    ingest_reason = models.TextField(blank=True)
    ingested_at = models.DateTimeField(null=True, blank=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["run", "input_key"]
        constraints = [models.UniqueConstraint(fields=["run", "input_key"], name="one_file_per_run_key")]
        indexes = [models.Index(fields=["tenant", "run"], name="runfile_tenant_run")]

    def __str__(self) -> str:
        return self.input_key
