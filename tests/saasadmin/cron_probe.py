"""The outage tests' cron configuration: a probe job every PROBE_INTERVAL seconds (1 by default):
`run_cron tests.saasadmin.cron_probe`."""

from __future__ import annotations

import os

from rq import cron

from tests.saasadmin.probe_jobs import touch_probe

cron.register(touch_probe, "default", interval=int(os.environ.get("PROBE_INTERVAL", "1")), name="probe")
