"""RQ jobs: each takes ids, loads nothing itself and calls one service (which re-checks the tenant)."""

from __future__ import annotations

from deployments.services.provision import deployment_advance as _advance
from deployments.services.reconcile import deployments_reconcile as _reconcile
from deployments.services.runs import transform_run_advance as _run_advance


def deployment_advance(deployment_id: int, tenant_id: str | None) -> str:
    """Advance one deployment along its state machine (enqueued by services and by itself to poll)."""
    return _advance(deployment_id=deployment_id, tenant_id=tenant_id)


def transform_run_advance(run_id: int, tenant_id: str) -> str:
    """Create or poll one batch transform run."""
    return _run_advance(run_id=run_id, tenant_id=tenant_id)


def deployments_reconcile(deep: bool = False) -> dict[str, int]:
    """The periodic reconcile pass (saasadmin/cron.py); returns counts for the job's result."""
    report = _reconcile(deep=deep)
    return {"resumed": len(report.resumed), "drifted": len(report.drifted), "orphans": len(report.orphans)}
