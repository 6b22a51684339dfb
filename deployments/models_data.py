"""A tenant's batch input: where its input area is in S3 and the files uploaded into it."""

from __future__ import annotations

from django.conf import settings as django_settings
from django.db import models

from tenants.access import TenantScopedQuerySet
from tenants.models import Tenant


class InputArea(models.Model):
    """Where a tenant's batch runs read their input: its own prefix in the product's bucket by default,
    or an S3 prefix an operator pointed it at (data the tenant already keeps elsewhere).

    A tenant without a row reads from the default prefix (deployments.resources.input_prefix)."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="input_area")
    prefix = models.CharField("S3 prefix", max_length=1024)
    updated_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return self.prefix


class DatasetFile(models.Model):
    """A CSV file uploaded into a tenant's input area, checked against its batch model's input first.

    Files that arrive in S3 by other ways (an operator's existing prefix) have no row: the page lists
    them from S3 with their size and time, and rows unknown."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="dataset_files")
    uri = models.CharField(max_length=1024)
    name = models.CharField(max_length=255)
    size_bytes = models.PositiveBigIntegerField(default=0)
    rows = models.PositiveBigIntegerField(default=0)
    # The header row's names when the upload had one (it is not stored: SageMaker's CSV containers
    # read every line as a record).
    columns = models.JSONField(default=list, blank=True)
    uploaded_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "uri"], name="one_dataset_file_per_uri")]

    def __str__(self) -> str:
        return self.name
