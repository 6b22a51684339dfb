"""The insights app's models: the cost side lives in models_costs.py."""

from __future__ import annotations

from insights.models_costs import (  # noqa: F401
    AllocationLine,
    AllocationRun,
    AwsCostLine,
    CapacitySample,
    CostRule,
    LedgerLine,
    StorageSample,
)
from insights.models_finance import Budget, BudgetNotice, CostSharing, ExchangeRate  # noqa: F401
