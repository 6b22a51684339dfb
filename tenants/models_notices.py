"""In-app notices: what a user should know happened (a batch run finished or failed), until read."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tenants.models import Tenant


class Notice(models.Model):
    """One message to one user. `key` names the event (e.g. "run:42:completed"), so an event told twice
    (a job's completion delivered again) is one notice."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    key = models.CharField(max_length=120)
    level = models.CharField(max_length=10, default="info")  # info, success, error
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="one_notice_per_event")]
        indexes = [models.Index(fields=["user", "read_at"], name="notice_user_unread")]

    def __str__(self) -> str:
        return self.title
