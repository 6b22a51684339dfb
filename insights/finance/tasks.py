"""RQ jobs of the finance side (registered in saasadmin/cron.py)."""

from __future__ import annotations

from insights.finance.budgets import budgets_check


def budgets_check_job() -> int:
    """Raise the running month's new budget notices; idempotent (each notice once per month)."""
    return len(budgets_check())
