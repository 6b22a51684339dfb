"""What the tenant inference API adds to a prediction: POST /api/v1/predict through gunicorn vs boto3's
InvokeEndpoint straight to the emulator, on one small XGBoost real-time endpoint.

    DEBUG=0 SECURE_HTTPS=0 STATIC_MANIFEST=0 SECRET_KEY=x .venv/bin/python bench/gateway.py [--requests 3000]

p50/p99 of each over sequential warm requests (taken in turns, one of each), then requests/s of each with 8
concurrent clients (in alternating rounds), so that the machine's changing load weighs on both alike. A
throwaway SQLite file and embedded Redis; the emulator in its own process. Last line:
`gateway_added_p50_ms=<value>`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.append(str(Path(__file__).resolve().parent))
import provision
from _ports import free_port

ROOT = provision.ROOT
BODY = b"12,70,1,3,12,0"
CLIENTS = 8
GUNICORN_WORKERS = 2


def _endpoint(url: str, package: Any) -> tuple[str, str]:
    """A real-time endpoint made straight through boto3, its Deployment row, a token; (endpoint, secret)."""
    from deployments.models import Deployment, Status
    from tenants.rate_limits import RateLimit, rate_limits_set
    from tenants.tokens import token_create
    from tests.factories import make_tenant

    sagemaker = _client(url, "sagemaker")
    name = "bench-gateway"
    role = "arn:aws:iam::123456789012:role/saasadmin-sagemaker"
    container = {"Image": package.image_uri, "ModelDataUrl": package.model_data_url}
    sagemaker.create_model(ModelName=name, ExecutionRoleArn=role, PrimaryContainer=container)
    variant = {"VariantName": "AllTraffic", "ModelName": name, "InstanceType": provision.INSTANCE}
    sagemaker.create_endpoint_config(
        EndpointConfigName=name, ProductionVariants=[{**variant, "InitialInstanceCount": 1}]
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
    while sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"] != "InService":
        time.sleep(0.05)
    tenant = make_tenant(slug="bench-gateway", isolation="silo", tier="enterprise")
    # The rate limit stays on (its Redis call is part of the cost measured), far above the bench's pace.
    rate_limits_set(actor=None, limits={"enterprise": RateLimit(Decimal(100_000), 100_000)})
    Deployment.objects.create(
        tenant=tenant,
        name="bench",
        kind="realtime",
        isolation="silo",
        aws_name=name,
        status=Status.IN_SERVICE,
    )
    _token, secret = token_create(actor=None, tenant=tenant, name="bench")
    return name, secret


def _client(url: str, service: str) -> Any:
    import boto3

    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - the emulator's dummy credentials
    )


def _start_gunicorn(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    # gthread workers keep connections alive (sync workers close each one), as a production setup would.
    command = [
        *(sys.executable, "-m", "gunicorn", "saasadmin.wsgi", "-w", str(GUNICORN_WORKERS)),
        *("-k", "gthread", "--threads", "4", "--keep-alive", "30"),
        *("-b", f"127.0.0.1:{port}", "--log-level", "warning"),
    ]
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("gunicorn did not start") from None
            time.sleep(0.1)


def _gateway_call(port: int, secret: str) -> Callable[[], None]:
    import urllib3

    pool = urllib3.HTTPConnectionPool("127.0.0.1", port, maxsize=CLIENTS)
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "text/csv", "Host": "localhost"}

    def call() -> None:
        answer = pool.request("POST", "/api/v1/predict", body=BODY, headers=headers)
        if answer.status != 200:
            raise RuntimeError(f"the gateway answered {answer.status}: {answer.data[:300]!r}")

    return call


def _direct_call(url: str, endpoint: str) -> Callable[[], None]:
    import boto3
    from botocore.config import Config

    runtime = boto3.client(
        "sagemaker-runtime",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106
        config=Config(max_pool_connections=CLIENTS),
    )

    def call() -> None:
        runtime.invoke_endpoint(EndpointName=endpoint, Body=BODY, ContentType="text/csv")["Body"].read()

    return call


def _latencies(calls: list[Callable[[], None]], requests: int) -> list[tuple[float, float]]:
    """(p50, p99) in ms of each call, taken in turns (one of each, again and again), so that a machine
    whose load changes during the run weighs on each alike."""
    for _ in range(50):  # warm: connections, caches, the model
        for call in calls:
            call()
    timings: list[list[float]] = [[] for _ in calls]
    for _ in range(requests):
        for call, kept in zip(calls, timings, strict=True):
            started = time.perf_counter()
            call()
            kept.append((time.perf_counter() - started) * 1000)
    return [(statistics.median(kept), statistics.quantiles(kept, n=100)[98]) for kept in timings]


def _throughput(calls: list[Callable[[], None]], requests: int, rounds: int = 4) -> list[float]:
    """Requests per second of each call with CLIENTS concurrent clients, in alternating rounds."""
    per_client = max(requests // CLIENTS // rounds, 1)
    elapsed = [0.0 for _ in calls]
    for _ in range(rounds):
        for index, call in enumerate(calls):
            elapsed[index] += _burst(call, per_client)
    return [per_client * CLIENTS * rounds / seconds for seconds in elapsed]


def _burst(call: Callable[[], None], per_client: int) -> float:
    def client() -> None:
        for _ in range(per_client):
            call()

    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        for future in [pool.submit(client) for _ in range(CLIENTS)]:
            future.result()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-gateway-"))
    emulator_process, url = provision._start_emulator(1)
    server: subprocess.Popen[bytes] | None = None
    try:
        env = provision._environment(scratch, url)
        env.update({"ALLOWED_HOSTS": "localhost", "DEBUG": "0"})
        package = provision._prepare(scratch, url)
        endpoint, secret = _endpoint(url, package)
        port = free_port()
        server = _start_gunicorn(env, port)
        direct, gateway = _direct_call(url, endpoint), _gateway_call(port, secret)
        (direct_p50, direct_p99), (gateway_p50, gateway_p99) = _latencies([direct, gateway], args.requests)
        direct_rps, gateway_rps = _throughput([direct, gateway], args.requests)
    finally:
        for process in [p for p in (server, emulator_process) if p is not None]:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
        os.environ.pop("DJANGO_SETTINGS_MODULE", None)
    print(f"requests={args.requests} clients={CLIENTS} gunicorn_workers={GUNICORN_WORKERS}")
    print(f"direct_p50_ms={direct_p50:.2f} direct_p99_ms={direct_p99:.2f} direct_rps={direct_rps:.0f}")
    print(f"gateway_p50_ms={gateway_p50:.2f} gateway_p99_ms={gateway_p99:.2f} gateway_rps={gateway_rps:.0f}")
    print(f"gateway_vs_direct_throughput={gateway_rps / direct_rps:.2f}")
    print(f"gateway_added_p50_ms={gateway_p50 - direct_p50:.2f}")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
