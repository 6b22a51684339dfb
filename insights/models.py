"""What ingestion keeps of batch runs' outputs: the scored rows, per-file and per-run figures, and each
tenant's dashboard settings (the threshold that flags rows, the names of its input columns).

`ResultRow` is the one large table. On PostgreSQL it is partitioned by month (`run_month`, the month the
run was created in) with the tenant leading every index, and created by the migration's own SQL
(insights/partitions.py); on SQLite it is a plain table. Its foreign keys carry no database constraint:
a per-row check on a table of millions of rows would cost more than the load itself, and the rows of a
file are only ever written and removed by ingestion, per file (insights/ingestion.py).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from deployments.models import TransformRun, TransformRunFile
from tenants.access import TenantScopedQuerySet
from tenants.models import Tenant

# The widest model input a result row holds: x1 … x24 (the demo models read six columns).
MAX_INPUT_COLUMNS = 24
INPUT_COLUMNS = tuple(f"x{n}" for n in range(1, MAX_INPUT_COLUMNS + 1))
# Scores are probabilities (binary classifiers): the histogram has fixed bins over [0, 1], so that
# per-file histograms add up to the run's; a score outside [0, 1] is counted in the first or last bin.
HISTOGRAM_BINS = 20
DEFAULT_THRESHOLD = 0.5


class InsightSettings(models.Model):
    """A tenant's dashboard settings: the score above which a row is flagged, its input columns' names."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="insight_settings")
    threshold = models.FloatField(default=DEFAULT_THRESHOLD)
    column_names = models.CharField(max_length=1000, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = TenantScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"insight settings of {self.tenant}"

    def names(self, count: int) -> list[str]:
        """Display names of the first `count` input columns ("Column 3" where none is set)."""
        given = [name.strip() for name in self.column_names.split(",")] if self.column_names else []
        return [given[i] if i < len(given) and given[i] else f"Column {i + 1}" for i in range(count)]


class ResultRow(models.Model):
    """One scored row of a `.out` file: the input columns the model read and the score it gave."""

    pk = models.CompositePrimaryKey("tenant", "run_month", "file", "line")
    tenant = models.ForeignKey(Tenant, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    run_month = models.DateField()
    run = models.ForeignKey(TransformRun, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    file = models.ForeignKey(
        TransformRunFile, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    line = models.PositiveIntegerField()
    score = models.FloatField()
    # The input columns (x1 … x24), as many as the model reads; the others stay empty.
    x1 = models.FloatField(null=True)
    x2 = models.FloatField(null=True)
    x3 = models.FloatField(null=True)
    x4 = models.FloatField(null=True)
    x5 = models.FloatField(null=True)
    x6 = models.FloatField(null=True)
    x7 = models.FloatField(null=True)
    x8 = models.FloatField(null=True)
    x9 = models.FloatField(null=True)
    x10 = models.FloatField(null=True)
    x11 = models.FloatField(null=True)
    x12 = models.FloatField(null=True)
    x13 = models.FloatField(null=True)
    x14 = models.FloatField(null=True)
    x15 = models.FloatField(null=True)
    x16 = models.FloatField(null=True)
    x17 = models.FloatField(null=True)
    x18 = models.FloatField(null=True)
    x19 = models.FloatField(null=True)
    x20 = models.FloatField(null=True)
    x21 = models.FloatField(null=True)
    x22 = models.FloatField(null=True)
    x23 = models.FloatField(null=True)
    x24 = models.FloatField(null=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["tenant", "run", "score"], name="result_tenant_run_score")]

    def __str__(self) -> str:
        return f"line {self.line} of file {self.file_id}"

    def inputs(self, count: int) -> list[float | None]:
        return [getattr(self, name) for name in INPUT_COLUMNS[:count]]


class FileResult(models.Model):
    """The figures of one loaded file, computed once when it is loaded: a segment of its run."""

    file = models.OneToOneField(TransformRunFile, on_delete=models.CASCADE, related_name="result")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(TransformRun, on_delete=models.CASCADE, related_name="file_results")
    columns = models.PositiveSmallIntegerField(default=0)
    rows = models.PositiveBigIntegerField(default=0)
    score_sum = models.FloatField(default=0.0)
    score_min = models.FloatField(null=True)
    score_max = models.FloatField(null=True)
    rows_above = models.PositiveBigIntegerField(default=0)
    histogram = models.JSONField(default=list)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["tenant", "run"], name="fileresult_tenant_run")]

    def __str__(self) -> str:
        return f"figures of {self.file_id}"

    @property
    def score_mean(self) -> float | None:
        return self.score_sum / self.rows if self.rows else None


class RunSummary(models.Model):
    """A run's figures for the dashboard, summed from its files' when ingestion finishes."""

    run = models.OneToOneField(TransformRun, on_delete=models.CASCADE, related_name="summary")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    columns = models.PositiveSmallIntegerField(default=0)
    rows = models.PositiveBigIntegerField(default=0)
    rows_malformed = models.PositiveBigIntegerField(default=0)
    rows_above = models.PositiveBigIntegerField(default=0)
    threshold = models.FloatField(default=DEFAULT_THRESHOLD)
    score_mean = models.FloatField(null=True)
    score_min = models.FloatField(null=True)
    score_max = models.FloatField(null=True)
    histogram = models.JSONField(default=list)
    files_loaded = models.PositiveIntegerField(default=0)
    files_quarantined = models.PositiveIntegerField(default=0)
    files_failed = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(auto_now=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["tenant", "run"], name="runsummary_tenant_run")]

    def __str__(self) -> str:
        return f"summary of {self.run_id}"

    @property
    def above_share(self) -> float:
        return self.rows_above / self.rows if self.rows else 0.0


# The cost side's models, in their own module; imported here so Django registers them with the app.
from insights.models_costs import (  # noqa: E402, F401
    AllocationLine,
    AllocationRun,
    AwsCostLine,
    CapacitySample,
    CostRule,
    LedgerLine,
    StorageSample,
)
from insights.models_finance import Budget, BudgetNotice, CostSharing, ExchangeRate  # noqa: E402, F401
