"""Dated versions of the pricing catalogue: a refresh adds one, the past is never rewritten."""

from __future__ import annotations

from django.db import models


class CatalogueVersion(models.Model):
    """The whole catalogue (`catalogue/sagemaker_prices.json`) as it was from `valid_from` on.

    The cost ledger prices a day with the version valid on that day (deployments.catalogue.prices_on);
    days before the first version use the first. Two versions never share content (`sha256`).
    """

    valid_from = models.DateField()
    retrieved = models.DateField()
    source = models.CharField(max_length=300, blank=True)
    sha256 = models.CharField(max_length=64, unique=True)
    data = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-valid_from", "-id"]
        indexes = [models.Index(fields=["valid_from", "id"], name="catalogue_version_from")]

    def __str__(self) -> str:
        return f"prices from {self.valid_from:%Y-%m-%d} (retrieved {self.retrieved:%Y-%m-%d})"
