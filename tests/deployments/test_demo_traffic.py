"""make run's demo: the demo tenants get API tokens (kept across runs), and one round of the traffic
generator gets predictions from every invocable kind through the API, metered per tenant."""

from __future__ import annotations

import random
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.test import Client
from django.utils import timezone

from deployments import metering
from deployments.demo_traffic import Send, Traffic, traffic_round
from deployments.models import Deployment, Status, UsageMinute
from deployments.services.usage_flush import usage_flush
from tenants.demo import DEMO_TOKEN_TENANTS, demo_seed, demo_tokens, demo_tokens_seed
from tenants.models import TenantToken
from tenants.tokens import token_revoke
from tests.deployments.conftest import BUCKET, REGION


@pytest.fixture
def data_dir(settings: Any, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.fixture(autouse=True)
def _clean_usage_keys() -> None:
    client = metering.metering_redis()
    for key in client.scan_iter(f"{metering.KEY_PREFIX}:*"):
        client.delete(key)


def client_sender(client: Client) -> Send:
    """The generator's requests through the test client: the same views, middleware and metering."""

    def send(method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        content_type = headers.pop("Content-Type", "")
        if method == "POST":
            response = client.post(path, body, content_type=content_type, headers=headers)
        else:
            response = client.get(path, headers=headers)
        return response.status_code, response.content

    return send


def test_demo_tokens_are_created_once_and_replaced_when_they_stop_working(db: None, data_dir: Path) -> None:
    demo_seed()
    first = demo_tokens_seed()
    assert set(first) == set(DEMO_TOKEN_TENANTS)
    assert demo_tokens_seed() == first == demo_tokens()
    assert TenantToken.objects.count() == len(DEMO_TOKEN_TENANTS)
    assert oct((data_dir / "demo_tokens.json").stat().st_mode & 0o777) == "0o600"
    acme = TenantToken.objects.get(tenant__slug="acme")
    token_revoke(actor=None, token=acme)
    again = demo_tokens_seed()
    assert again["acme"] != first["acme"]
    assert {slug: secret for slug, secret in again.items() if slug != "acme"} == {
        slug: secret for slug, secret in first.items() if slug != "acme"
    }


def test_one_round_is_served_by_every_invocable_kind_and_metered(
    db: None, aws: Any, data_dir: Path, run_worker: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from emulator import artifacts

    artifacts.upload_demo(aws.s3, BUCKET, list(DEMO_TOKEN_TENANTS), REGION, with_images=False)
    demo_seed()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_deployments", stdout=open("/dev/null", "w"))  # noqa: SIM115
    run_worker()
    # As in `make run` for its first ten minutes: the GPU endpoint is still being created.
    Deployment.objects.filter(name="Acme GPU real-time").update(status=Status.CREATING)
    before = _invocations()  # seed_deployments seeds days of usage history too
    traffic = Traffic(demo_tokens_seed())
    send, rng = client_sender(Client()), random.Random(7)
    statuses = traffic_round(traffic, send, rng)
    # Real-time (Acme's GPU endpoint is still being created), serverless, multi-container, multi-model,
    # multi-container (scikit-learn), Pool; Cyberdyne's async endpoint accepts.
    assert statuses.pop("cyberdyne") in ([202, 202], [202, 200])  # then pending, or already done
    assert statuses == {
        "acme": [200],
        "globex": [200],
        "initech": [200],
        "umbrella": [200],
        "hooli": [200],
        "stark": [200],
    }
    deadline = time.monotonic() + 30
    while traffic.pending and time.monotonic() < deadline:
        time.sleep(0.2)
        assert traffic_round(traffic, send, rng)["cyberdyne"][-1] in (200, 202)
    assert not traffic.pending, "the async predictions completed and were fetched"
    usage_flush(now=timezone.now() + timedelta(minutes=2))
    after = _invocations()
    grown = {key for key, count in after.items() if count > before.get(key, 0)}
    assert {slug for slug, _kind in grown} == set(DEMO_TOKEN_TENANTS)
    kinds = {"realtime", "serverless", "async", "multi_model", "multi_container"}
    assert {kind for _slug, kind in grown} == kinds
    # Pool is real-time shared: Stark is served by it, and Acme by its own real-time endpoint.
    assert {("stark", "realtime"), ("acme", "realtime"), ("globex", "serverless")} <= grown


def _invocations() -> dict[tuple[str, str], int]:
    """Invocations per (tenant slug, deployment kind) in the usage table."""
    rows = UsageMinute.objects.values_list("tenant__slug", "deployment__kind").annotate(n=Sum("invocations"))
    return {(slug, kind): count for slug, kind, count in rows}
