"""manage.py run_stack — everything `make run` starts: Redis and the emulator when embedded, migrations,
the demo, an RQ worker, RQ's scheduler, the cron (reconcile) and the web server. A child that exits is
restarted (saasadmin/supervise.py); Ctrl-C stops them all, the web and workers before Redis."""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from deployments.demo import ALWAYS_DECLARED
from insights.demo import RUNS as DEMO_HISTORY_RUNS
from saasadmin.embedded import redis_start
from saasadmin.supervise import Supervisor
from tenants.demo import DEMO_TENANTS, DEMO_USERS, demo_credentials, demo_tokens

DEMO_LAST_RUN_SECONDS_PER_FILE = 120.0


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=0.5)  # noqa: S310 - a local http URL from settings
    except urllib.error.HTTPError:
        return True  # it answered, even if with an error status
    except (urllib.error.URLError, OSError):
        return False
    return True


class Command(BaseCommand):
    help = "Start the whole local stack (used by `make run`)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument(
            "--emulator-delay", type=float, default=float(os.environ.get("EMULATOR_DELAY", "3"))
        )

    def handle(self, *args: Any, port: int, emulator_delay: float, **options: Any) -> None:
        self.supervisor = Supervisor(lambda line: self.stderr.write(f"run_stack: {line}"))
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            self._start(port, emulator_delay)
            while True:
                time.sleep(0.5)
                self.supervisor.check()
        except KeyboardInterrupt:
            pass
        finally:
            self.supervisor.stop()

    def _start(self, port: int, emulator_delay: float) -> None:
        if "REDIS_URL" not in os.environ:
            self.supervisor.add("redis", self._start_redis, infrastructure=True)
            self.stdout.write(f"Redis: embedded, {settings.REDIS_URL}")
        if settings.AWS_MODE == "emulated":
            self.supervisor.add("emulator", lambda: self._start_emulator(emulator_delay), infrastructure=True)
            self._upload_demo_artifacts()
        call_command("migrate", interactive=False, verbosity=0)
        # The worker starts before the demo is seeded so that the seeded deployments move at once.
        for name, args in (
            ("worker", ["rqworker", "default"]),
            ("scheduler", ["run_scheduler"]),
            ("cron", ["run_cron"]),
        ):
            self.supervisor.add(name, functools.partial(self._manage, *args))
        for command in ("seed_demo", "seed_deployments", "seed_insights"):
            call_command(command, stdout=self.stdout)
        self.supervisor.add(
            "web", functools.partial(self._manage, "runserver", f"127.0.0.1:{port}", "--noreload")
        )
        # A year of demo costs (computed by the ledger, half a minute the first time) while the web starts.
        call_command("seed_costs", stdout=self.stdout)
        # Then finance's settings: dated exchange rates, tier budgets and their notices (insights/finance).
        call_command("seed_finance", stdout=self.stdout)
        # The demo tenants' software: a few predictions a minute each, over HTTP (DEMO_TRAFFIC=0: none).
        if os.environ.get("DEMO_TRAFFIC", "1") != "0":
            self.supervisor.add(
                "traffic",
                functools.partial(self._manage, "demo_traffic", "--url", f"http://127.0.0.1:{port}"),
            )
        self._banner(port)

    def _manage(self, *args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, str(settings.BASE_DIR / "manage.py"), *args])  # noqa: S603

    def _start_redis(self) -> subprocess.Popen[bytes] | None:
        # Its own session: Ctrl-C in the terminal must not stop Redis before the workers are stopped.
        return redis_start(settings.EMBEDDED_REDIS_SOCKET, stop_at_exit=False, own_session=True)

    def _banner(self, port: int) -> None:
        """The URL and the demo users' passwords, last, where they are easy to find."""
        credentials = demo_credentials()
        lines = [f"  saasadmin is up: http://127.0.0.1:{port}/", "", "  Sign in as (username / password):"]
        lines += [f"    {name:<12} {credentials[name]:<24} {role}" for name, role, _ in DEMO_USERS]
        lines += ["", "  Demo API tokens (tenant / token), e.g. for the curl line on the tenant's page:"]
        lines += [f"    {slug:<12} {secret}" for slug, secret in demo_tokens().items()]
        self.stdout.write(self.style.SUCCESS("\n" + "\n".join(lines) + "\n"))

    def _upload_demo_artifacts(self) -> None:
        """Real demo models and datasets into the emulator's S3 (idempotent; kept across restarts).

        The tenants of ALWAYS_DECLARED get none: their deployment fails with SageMaker's reason.
        """
        slugs = ",".join(slug for slug, *_ in DEMO_TENANTS if slug not in ALWAYS_DECLARED)
        command = [
            sys.executable, "-m", "emulator.artifacts", "--endpoint-url", settings.EMULATOR_URL,
            "--bucket", settings.SAASADMIN_BUCKET, "--tenants", slugs, "--region", settings.AWS_REGION,
        ]  # fmt: skip
        # The emulator takes any credentials; the upload uses boto3's ordinary chain, so give it some.
        env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", **os.environ}
        subprocess.run(command, check=True, env=env)  # noqa: S603

    def _start_emulator(self, delay: float) -> subprocess.Popen[bytes] | None:
        url = settings.EMULATOR_URL
        if _answers(url):
            return None
        port = url.rsplit(":", 1)[-1].strip("/")
        data_dir = settings.DATA_DIR / "emulator"
        # GPU endpoints take 200 x the delay (ten minutes at 3 s): the demo keeps one provisioning to watch.
        # The demo history's last run (job "<deployment>-r10") works two minutes on each of its input
        # files, so it stays in progress for minutes; every other job runs at once.
        command = [
            sys.executable, "-m", "emulator", "--port", port, "--data-dir", str(data_dir),
            "--delay", str(delay), "--accelerated-delay-factor", "200",
            "--transform-seconds-per-object", str(DEMO_LAST_RUN_SECONDS_PER_FILE),
            "--transform-paced-jobs", f"*-r{DEMO_HISTORY_RUNS}",
        ]  # fmt: skip
        # Its own session, like Redis: stopped after the workers that call it.
        process = subprocess.Popen(command, start_new_session=True)  # noqa: S603
        deadline = time.monotonic() + 60
        while not _answers(url):
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError(f"the emulator did not start on {url}")
            time.sleep(0.2)
        self.stdout.write(f"AWS: emulated at {url} (delays {delay}s)")
        return process
