"""Provision 200 Silo real-time tenants through RQ (2 worker processes) against the emulator, and make
the same create calls in a plain boto3 loop; print both wall times, their ratio and AWS calls per tenant.

    DEBUG=0 SECURE_HTTPS=0 STATIC_MANIFEST=0 SECRET_KEY=x .venv/bin/python bench/provision.py [--tenants 200]

It uses a throwaway SQLite file (WAL) and its own embedded Redis, so it never touches real data; the
emulator runs with zero delays. Last line:
`provision_vs_boto3_ratio=<value>`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORKERS = 2
BUCKET = "saasadmin-bench"
INSTANCE = "ml.m5.large"


def _environment(scratch: Path, emulator_url: str) -> dict[str, str]:
    """The settings every process of the bench shares (set before Django starts)."""
    env = {
        "DATA_DIR": str(scratch),
        "AWS_MODE": "emulated",
        "EMULATOR_URL": emulator_url,
        "AWS_REGION": "us-east-1",
        "SAASADMIN_BUCKET": BUCKET,
        "DEPLOYMENT_POLL_BASE_SECONDS": "0",  # zero emulator delays: poll again at once
        "DEPLOYMENT_MAX_POLLS": "100000",
        "DJANGO_SETTINGS_MODULE": "bench_settings",
        "PYTHONPATH": os.pathsep.join([str(scratch), str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": f"sqlite:///{scratch / 'bench.sqlite3'}",
        "REDIS_URL": f"unix://{scratch / 'redis.sock'}",
    }
    # Three processes write one SQLite file: take the write lock when a transaction starts, and wait for it.
    (scratch / "bench_settings.py").write_text(
        "from saasadmin.settings import *  # noqa\n"
        "DATABASES['default']['OPTIONS'] = {'transaction_mode': 'IMMEDIATE', 'timeout': 60,\n"
        "                                   'init_command': 'PRAGMA synchronous=NORMAL'}\n"
    )
    sys.path.insert(0, str(scratch))
    os.environ.update(env)
    return {**os.environ}


def _start_emulator(tenants: int, delays: float = 0.0) -> tuple[subprocess.Popen[bytes], str]:
    """An emulator process (zero delays by default) with quotas large enough for both runs; returns it and
    its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = (
        "import emulator, signal, threading; done = threading.Event(); "
        "signal.signal(signal.SIGTERM, lambda *_: done.set()); "
        f"h = emulator.start(port={port}, delays={delays}, max_endpoints={10 * tenants}, "
        f"instances_per_type={10 * tenants}); done.wait(); h.stop()"
    )
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process, url
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the emulator did not start") from None
            time.sleep(0.1)


def _boto3_loop(url: str, image: str, model_url: str, tenants: int) -> tuple[float, int]:
    """The reference: the same three creates per tenant, then describe until every endpoint is InService."""
    import boto3

    sagemaker = boto3.client(
        "sagemaker",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - the emulator's dummy credentials
    )
    role = "arn:aws:iam::123456789012:role/saasadmin-sagemaker"
    calls = 0
    started = time.perf_counter()
    for n in range(tenants):
        name = f"plain-{n}"
        sagemaker.create_model(
            ModelName=name,
            ExecutionRoleArn=role,
            PrimaryContainer={"Image": image, "ModelDataUrl": model_url},
        )
        sagemaker.create_endpoint_config(
            EndpointConfigName=name,
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": name,
                    "InstanceType": INSTANCE,
                    "InitialInstanceCount": 1,
                }
            ],
        )
        sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
        calls += 3
    waiting = [f"plain-{n}" for n in range(tenants)]
    while waiting:
        calls += len(waiting)
        waiting = [
            n for n in waiting if sagemaker.describe_endpoint(EndpointName=n)["EndpointStatus"] != "InService"
        ]
    return time.perf_counter() - started, calls


def _start_workers(env: dict[str, str], worker_class: str) -> list[subprocess.Popen[bytes]]:
    import django_rq
    from rq import Worker

    command = [
        sys.executable,
        str(ROOT / "manage.py"),
        "rqworker",
        "default",
        "-v",
        "0",
        "--worker-class",
        "rq.SimpleWorker",
    ]
    workers = [
        subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL) for _ in range(WORKERS)
    ]
    queue = django_rq.get_queue("default")
    deadline = time.monotonic() + 60
    while len(Worker.all(queue=queue)) < WORKERS:
        if time.monotonic() > deadline:
            raise RuntimeError("the workers did not start")
        time.sleep(0.1)
    return workers


def _provision(tenants: int, package: Any) -> tuple[float, list[int], float]:
    """Apply one Silo real-time deployment per tenant and wait until all are in service."""
    from deployments.models import Deployment, Status
    from deployments.services import Draft, deployment_apply
    from tests.factories import make_tenant

    rows = [make_tenant(slug=f"bench-{n}", isolation="silo") for n in range(tenants)]
    started = time.perf_counter()
    ids = []
    for tenant in rows:
        draft = Draft(
            name=f"bench {tenant.slug}",
            kind="realtime",
            isolation="silo",
            tenant=tenant,
            model_package=package,
            settings={"instance_type": INSTANCE},
        )
        ids.append(deployment_apply(actor=None, draft=draft).pk)
    applied = time.perf_counter() - started
    deadline = time.monotonic() + 300
    while (
        Deployment.objects.filter(pk__in=ids).exclude(status__in=[Status.IN_SERVICE, Status.FAILED]).exists()
    ):
        if time.monotonic() > deadline:
            raise RuntimeError("provisioning did not finish in 5 minutes")
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    failed = Deployment.objects.filter(pk__in=ids, status=Status.FAILED).count()
    if failed:
        raise RuntimeError(
            f"{failed} deployments failed: {Deployment.objects.filter(status='failed').first().last_error}"
        )
    return elapsed, ids, applied


def _calls(ids: list[int]) -> dict[str, int]:
    from django.db.models import Count

    from deployments.models import DeploymentEvent

    rows = DeploymentEvent.objects.filter(deployment_id__in=ids).exclude(action="Status")
    return dict(rows.values_list("action").annotate(n=Count("pk")).order_by())


def _prepare(scratch: Path, url: str) -> Any:
    """Database, Redis, the artifact in the emulator's S3 and its model package; returns the package."""
    import boto3
    import django

    from emulator import artifacts

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from deployments.services import model_package_register
    from saasadmin.embedded import redis_start

    redis_start(scratch / "redis.sock")
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode=WAL")  # two worker processes write at once
    s3 = boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - the emulator's dummy credentials
    )
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="models/shared/model.tar.gz", Body=artifacts.xgboost_artifact("shared"))
    model_url = f"s3://{BUCKET}/models/shared/model.tar.gz"
    return model_package_register(
        actor=None, tenant=None, framework="xgboost", version="3.0-5", model_data_url=model_url
    )


def _report(
    tenants: int, worker_class: str, plain: tuple[float, int], ours: tuple[float, list[int], float]
) -> None:
    (plain_seconds, plain_calls), (ours_seconds, ids, applied) = plain, ours
    calls = _calls(ids)
    creates = sum(n for action, n in calls.items() if action.startswith("Create"))
    print(f"tenants={tenants} workers={WORKERS} ({worker_class})")
    print(f"boto3_loop_seconds={plain_seconds:.2f} boto3_calls_per_tenant={plain_calls / tenants:.2f}")
    print(
        f"provision_seconds={ours_seconds:.2f} (all applied after {applied:.2f}) "
        f"aws_calls_per_tenant={sum(calls.values()) / tenants:.2f}"
    )
    print("aws_calls=" + ",".join(f"{k}:{v}" for k, v in sorted(calls.items())))
    print(f"create_calls_per_tenant={creates / tenants:.2f} (minimum 3)")
    print(f"provision_vs_boto3_ratio={ours_seconds / plain_seconds:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument(
        "--worker-class", default="rq.SimpleWorker", help="rq.Worker forks a work horse per job (slower)"
    )
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-provision-"))
    # The emulator runs in its own process, as AWS is elsewhere: neither side shares its interpreter.
    emulator_process, url = _start_emulator(args.tenants)
    workers: list[subprocess.Popen[bytes]] = []
    try:
        env = _environment(scratch, url)
        package = _prepare(scratch, url)
        plain = _boto3_loop(url, package.image_uri, package.model_data_url, args.tenants)
        workers = _start_workers(env, args.worker_class)
        ours = _provision(args.tenants, package)
    finally:
        for process in [*workers, emulator_process]:
            process.send_signal(signal.SIGTERM)
        for process in [*workers, emulator_process]:
            process.wait(timeout=30)
    _report(args.tenants, args.worker_class, plain, ours)
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
