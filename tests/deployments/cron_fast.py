"""The end-to-end outage tests' cron: reconcile every 2 s (run_cron tests.deployments.cron_fast)."""

from __future__ import annotations

from rq import cron

from deployments.tasks import deployments_reconcile

cron.register(deployments_reconcile, "default", interval=2, job_timeout=300, name="reconcile")
