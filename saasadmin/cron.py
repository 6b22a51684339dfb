"""RQ cron configuration: `manage.py rqcron saasadmin.cron` runs these on schedule."""

from __future__ import annotations

from rq import cron

from deployments.tasks import deployments_reconcile

# Resume lost jobs, repair drift, list orphans, start due batch runs, finish offboardings.
cron.register(deployments_reconcile, "default", interval=60, job_timeout=300)
