"""Time from a queue fault to a deployment In service, with the production processes and defaults: an RQ
worker, `run_scheduler`, `run_cron` (reconcile every minute), polls 2, 4, 8 … s apart, an emulator whose
endpoints take 3 s to create (as under `make run`).

    DEBUG=0 SECURE_HTTPS=0 STATIC_MANIFEST=0 SECRET_KEY=x .venv/bin/python bench/queue_outage.py [--outage 90]

1. Redis outage: a deployment is creating, its next poll scheduled; Redis stops for `--outage` seconds
   and comes back empty (no persistence: the poll is lost). Measured: Redis back → In service.
2. Worker SIGKILL: a deployment is creating, its next poll scheduled; the worker (and any work horse) is
   SIGKILLed and a new one started. Measured: new worker started → In service.
The reference is the same deployment undisturbed (apply → In service). It uses a throwaway SQLite file
and its own embedded Redis. Last line: `queue_fault_to_in_service_worst_s=<value>`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.provision import _start_emulator  # noqa: E402 - after the path is set

BUCKET = "saasadmin-bench"


def _environment(scratch: Path, emulator_url: str) -> dict[str, str]:
    env = {
        "DATA_DIR": str(scratch),
        "AWS_MODE": "emulated",
        "EMULATOR_URL": emulator_url,
        "AWS_REGION": "us-east-1",
        "SAASADMIN_BUCKET": BUCKET,
        "DATABASE_URL": f"sqlite:///{scratch / 'bench.sqlite3'}",
        "REDIS_URL": f"unix://{scratch / 'redis.sock'}",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "saasadmin.settings",
    }
    os.environ.update(env)
    return {**os.environ}


def _wait(check: Callable[[], Any], timeout: float, what: str) -> float:
    """Poll `check` every 50 ms; return the seconds it took, or fail after `timeout`."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"{what}: not after {timeout:g} s")
        time.sleep(0.05)
    return time.monotonic() - started


class Stack:
    """Redis and the queue's processes, each a process group the bench may stop or kill."""

    def __init__(self, scratch: Path, env: dict[str, str]) -> None:
        self.scratch, self.env = scratch, env
        self.redis: subprocess.Popen[bytes] | None = None
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def redis_start(self) -> None:
        from saasadmin.embedded import redis_start

        self.redis = redis_start(self.scratch / "redis.sock", stop_at_exit=False)

    def redis_stop(self) -> None:
        assert self.redis is not None
        self.redis.terminate()
        self.redis.wait(timeout=10)

    def start(self, name: str, *args: str) -> None:
        log = (self.scratch / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), *args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self, name: str) -> None:
        os.killpg(self.processes[name].pid, signal.SIGKILL)
        self.processes[name].wait(timeout=10)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            process.wait(timeout=30)
        if self.redis is not None and self.redis.poll() is None:
            self.redis_stop()


def _prepare(url: str) -> Any:
    """Database, the demo artifact in the emulator's S3 and its model package; returns the package."""
    import boto3
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from deployments.services import model_package_register
    from emulator import artifacts

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode=WAL")  # the bench and three processes write the file
    s3 = boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - the emulator's dummy credentials
    )
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="models/shared/model.tar.gz", Body=artifacts.xgboost_artifact("shared"))
    return model_package_register(
        actor=None,
        tenant=None,
        framework="xgboost",
        version="3.0-5",
        model_data_url=f"s3://{BUCKET}/models/shared/model.tar.gz",
    )


def _apply(package: Any, slug: str) -> int:
    from deployments.services import Draft, deployment_apply
    from tests.factories import make_tenant

    tenant = make_tenant(slug=slug, isolation="silo")
    draft = Draft(name=slug, kind="realtime", isolation="silo", tenant=tenant, model_package=package)
    return deployment_apply(actor=None, draft=draft).pk


def _status(pk: int) -> str:
    from deployments.models import Deployment

    return Deployment.objects.get(pk=pk).status


def _poll_waits(stack: Stack, pk: int) -> bool:
    """Creating, nothing queued or running, its next poll in the scheduler at least a second ahead."""
    import redis

    connection = redis.Redis.from_url(stack.env["REDIS_URL"])
    ahead = connection.zrangebyscore("rq:scheduled:default", time.time() + 1, "+inf")
    idle = not connection.zcard("rq:wip:default") and not connection.llen("rq:queue:default")
    return bool(ahead) and idle and _status(pk) == "creating"


def _in_service(pk: int) -> Callable[[], bool]:
    return lambda: _status(pk) == "in_service"


def _redis_outage(stack: Stack, package: Any, outage: float) -> float:
    pk = _apply(package, "outage")
    _wait(lambda: _poll_waits(stack, pk), 60, "a poll waits in the scheduler")
    stack.redis_stop()
    time.sleep(outage)  # the outage itself; SageMaker finishes meanwhile
    stack.redis_start()
    return _wait(_in_service(pk), 600, "in service after the Redis outage")


def _worker_kill(stack: Stack, package: Any) -> float:
    pk = _apply(package, "killed")
    _wait(lambda: _poll_waits(stack, pk), 60, "a poll waits in the scheduler")
    stack.kill("worker")
    stack.start("worker", "rqworker", "default")
    return _wait(_in_service(pk), 600, "in service after the worker was killed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--outage", type=float, default=90.0, help="seconds Redis stays down")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-outage-", dir="/tmp"))  # a short unix socket path
    emulator, url = _start_emulator(tenants=10, delays=3.0)
    stack = Stack(scratch, _environment(scratch, url))
    try:
        stack.redis_start()
        package = _prepare(url)
        stack.start("worker", "rqworker", "default")
        stack.start("scheduler", "run_scheduler")
        stack.start("cron", "run_cron")
        reference = _wait(_in_service(_apply(package, "undisturbed")), 120, "undisturbed in service")
        after_outage = _redis_outage(stack, package, args.outage)
        after_kill = _worker_kill(stack, package)
    finally:
        stack.stop()
        emulator.send_signal(signal.SIGTERM)
        emulator.wait(timeout=30)
    print(f"undisturbed_apply_to_in_service_s={reference:.1f} (emulator: endpoints take 3 s)")
    print(f"redis_back_to_in_service_s={after_outage:.1f} (Redis down {args.outage:g} s, back empty)")
    print(f"worker_restarted_to_in_service_s={after_kill:.1f} (worker SIGKILLed, poll waiting)")
    print(f"worst_vs_undisturbed_ratio={max(after_outage, after_kill) / reference:.2f}")
    print(f"queue_fault_to_in_service_worst_s={max(after_outage, after_kill):.1f}")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
