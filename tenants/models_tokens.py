"""Tenant API tokens: what a tenant's own software presents to `/api/v1` (secrets are never stored)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from tenants.access import TenantScopedQuerySet
from tenants.models import Tenant


class TenantToken(models.Model):
    """One named API token of a tenant. The secret is shown once; only its keyed hash is kept.

    `prefix` is the visible part of the secret (`sa_<prefix>_…`): it names the token on pages and in logs,
    and it is the indexed lookup key of every API call.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Written by the periodic flush from Redis, not by each request (tenants.token_usage).
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"
