"""The cron configuration: `manage.py run_cron` (saasadmin/queue_processes.py) runs these on schedule."""

from __future__ import annotations

from rq import cron

from deployments.tasks import deployments_reconcile, usage_flush
from insights.finance.tasks import budgets_check_job
from insights.tasks import ingest_resume
from insights.tasks_costs import capacity_sample_job, costs_daily
from tenants.tasks import tokens_last_used_flush

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
# Every minute: the API tokens' last-use times, noted in Redis per request, into the database.
cron.register(tokens_last_used_flush, "default", interval=60, job_timeout=120, name="tokens-last-used")
# Every minute: metered API usage moves from Redis into the usage table (a failed flush is retried here).
cron.register(usage_flush, "default", interval=60, job_timeout=300, name="usage-flush")
# Every minute: ingest ended batch runs whose ingestion was lost (Redis down) or killed half-way.
cron.register(ingest_resume, "default", interval=60, job_timeout=120, name="ingest-resume")
# Daily at 00:30 UTC: yesterday's S3 bytes, the cost ledger and allocation of every day since the last run,
# then Cost Explorer's figures of the last days (insights/tasks_costs.py).
cron.register(costs_daily, "default", cron="30 0 * * *", job_timeout=3600, name="costs-daily")
# Every five minutes: the async endpoints' instance counts, which the ledger bills hour by hour.
cron.register(capacity_sample_job, "default", interval=300, job_timeout=240, name="capacity-sample")
# Hourly: the running month's projection against each tenant's budget; a notice at 80 % and 100 %, once each
# per tenant and month (insights.finance.budgets), after the nightly cost run has added a day.
cron.register(budgets_check_job, "default", cron="20 * * * *", job_timeout=300, name="budgets-check")
