"""The pages tell the truth about the queue: an Apply while Redis is down says the work is saved and
waits for the queue (and reconcile does pick it up); the fleet page says when the queue, the workers,
the scheduler or reconcile are not answering, and shows the last reconcile; /rq/ answers a clear 503."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse
from rq import Queue, SimpleWorker
from rq.scheduler import RQScheduler

from deployments.health import QUEUE_DOWN
from deployments.models import Deployment, Status
from deployments.queueing import ADVANCE, rows_with_live_jobs
from deployments.services import deployments_reconcile
from deployments.services.reconcile import _alert_store
from tests.deployments.test_pages import _form, alpha_package, operator_client  # noqa: F401 - fixtures
from tests.outage import PrivateRedis


@pytest.fixture
def queue_redis(private_redis: PrivateRedis, settings: Any) -> PrivateRedis:
    """The product's queue on a Redis of the test's own, which it may stop (an outage)."""
    settings.RQ_QUEUES = {"default": {"URL": private_redis.url, "DEFAULT_TIMEOUT": 600}}
    return private_redis


def _messages(response: Any) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# The enqueue runs when the apply's transaction commits, inside the request: a real commit is needed.
@pytest.mark.django_db(transaction=True)
def test_apply_with_the_queue_down_says_the_work_is_saved_and_waits(
    operator_client: Any,  # noqa: F811
    world: SimpleNamespace,
    alpha_package: Any,  # noqa: F811
    queue_redis: PrivateRedis,
    settings: Any,
) -> None:
    queue_redis.stop()
    data = {**_form(world, alpha_package), "action": "apply"}
    response = operator_client.post(reverse("deployment_new"), data, follow=True)

    (message,) = _messages(response)
    assert "applied. The work is saved, but the job queue is not answering" in message
    assert "starts when the queue is back" in message
    assert "Workers are taking it from here" not in message
    deployment = Deployment.objects.get()
    assert deployment.status == Status.PENDING

    # The promise holds: once Redis is back, reconcile enqueues the saved work.
    queue_redis.start()
    settings.DEPLOYMENT_PENDING_GRACE_SECONDS = 0
    assert deployments_reconcile().resumed == [deployment.pk]
    assert str(deployment.pk) in rows_with_live_jobs(ADVANCE)


@pytest.mark.django_db(transaction=True)
def test_apply_with_the_queue_up_says_workers_have_it(
    operator_client: Any,  # noqa: F811
    world: SimpleNamespace,
    alpha_package: Any,  # noqa: F811
    queue_redis: PrivateRedis,
) -> None:
    data = {**_form(world, alpha_package), "action": "apply"}
    response = operator_client.post(reverse("deployment_new"), data, follow=True)
    assert _messages(response) == ["alpha-realtime: applied. Workers are taking it from here."]


def test_the_fleet_page_says_when_the_queue_is_not_answering(
    operator_client: Any,  # noqa: F811
    queue_redis: PrivateRedis,
) -> None:
    queue_redis.stop()
    body = operator_client.get(reverse("deployment_fleet")).content.decode()
    assert QUEUE_DOWN in body


def test_the_fleet_page_says_what_is_not_running(
    operator_client: Any,  # noqa: F811
    queue_redis: PrivateRedis,
) -> None:
    body = operator_client.get(reverse("deployment_fleet")).content.decode()
    assert "No worker is answering" in body
    assert "RQ&#x27;s scheduler is not running" in body
    assert "Reconcile has not run in the last day" in body
    assert QUEUE_DOWN not in body


def test_the_fleet_page_shows_the_last_reconcile_and_no_banner_when_all_answer(
    operator_client: Any,  # noqa: F811
    queue_redis: PrivateRedis,
    aws: Any,
    world: SimpleNamespace,
) -> None:
    connection = queue_redis.connection()
    queue = Queue("default", connection=connection)
    SimpleWorker([queue], connection=connection).register_birth()
    RQScheduler([queue], connection=connection).acquire_locks()
    report = deployments_reconcile()

    body = operator_client.get(reverse("deployment_fleet")).content.decode()
    assert "Deployments may not move right now" not in body
    assert "Last reconcile" in body
    assert f"resumed {len(report.resumed)}, drift {len(report.drifted)}" in body


def test_the_fleet_page_shows_reconciles_alert_for_a_person(
    operator_client: Any,  # noqa: F811
    queue_redis: PrivateRedis,
) -> None:
    message = "ListEndpoints does not show 3500 of the 3500 in-service endpoints: nothing was repaired."
    _alert_store(message)  # what a pass that saw most of the fleet missing leaves for the fleet page
    body = operator_client.get(reverse("deployment_fleet")).content.decode()
    assert "Reconcile is waiting for a person" in body
    assert message in body


@pytest.mark.parametrize("name", ["home", "jobs", "workers", "scheduled_jobs"])
def test_the_queue_dashboard_says_the_queue_is_not_reachable(
    operator_client: Any,  # noqa: F811
    queue_redis: PrivateRedis,
    name: str,
) -> None:
    queue_redis.stop()
    args = [] if name == "home" else [0]
    response = operator_client.get(reverse(f"django_rq:{name}", args=args))
    assert response.status_code == 503
    assert "The queue is not reachable" in response.content.decode()
    assert response["Retry-After"] == "30"
