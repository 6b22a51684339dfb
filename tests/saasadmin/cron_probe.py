"""The outage tests' cron configuration: a probe job every second (run_cron tests.saasadmin.cron_probe)."""

from __future__ import annotations

from rq import cron

from tests.saasadmin.probe_jobs import touch_probe

cron.register(touch_probe, "default", interval=1, name="probe")
