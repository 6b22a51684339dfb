"""A run of the operator's isolation check (deployments/services/isolation_runs.py): progress, token."""

from __future__ import annotations

from django.conf import settings as django_settings
from django.db import models

from tenants.access import TenantScopedQuerySet
from tenants.models import AuditEvent, Tenant, TenantToken


class CheckState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


ACTIVE_CHECK_STATES = (CheckState.QUEUED, CheckState.RUNNING)


class IsolationCheck(models.Model):
    """One isolation check of a tenant, run by a background job; its evidence is an audit event.

    At most one check per tenant is queued or running (a partial unique constraint): asking again while
    one runs joins it. `attempts` holds the attempts made so far, for the tenant page's progress.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    state = models.CharField(max_length=10, choices=CheckState.choices, default=CheckState.QUEUED)
    # The operator's request's Host and scheme: the check's API calls go to the same site.
    host = models.CharField(max_length=255)
    secure = models.BooleanField(default=False)
    token = models.ForeignKey(TenantToken, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    attempts = models.JSONField(default=list, blank=True)
    total = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    event = models.ForeignKey(AuditEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant"],
                condition=models.Q(state__in=["queued", "running"]),
                name="one_isolation_check_at_a_time",
            )
        ]

    def __str__(self) -> str:
        return f"isolation check of {self.tenant_id} ({self.state})"

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_CHECK_STATES
