"""The cron configuration: `manage.py run_cron` (saasadmin/queue_processes.py) runs these on schedule."""

from __future__ import annotations

from rq import cron

from deployments.tasks import deployments_reconcile, usage_flush

# Every minute: resume lost jobs, repair endpoints deleted or failed out of band, start due batch runs,
# finish offboardings. Hourly, the deep pass also checks each endpoint's config and lists orphans.
cron.register(deployments_reconcile, "default", interval=60, job_timeout=300, name="reconcile")
cron.register(
    deployments_reconcile,
    "default",
    kwargs={"deep": True},
    cron="7 * * * *",
    job_timeout=1800,
    name="reconcile-deep",
)
# Every minute: metered API usage moves from Redis into the usage table (a failed flush is retried here).
cron.register(usage_flush, "default", interval=60, job_timeout=300, name="usage-flush")
