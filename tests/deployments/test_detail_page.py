"""The deployment page follows the deployment: what htmx polls re-renders every part that changes with
its state (actions, desired state, AWS resources, cost), and figures say what runs, not what was asked."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse

from deployments.models import Deployment, Kind, Status
from deployments.rules import settings_normalise
from deployments.services import Draft, deployment_apply
from tenants.models import Tenant
from tests.deployments.conftest import make_package

CANCEL = ">Cancel</button>"


@pytest.fixture
def operator_client(client: Any, world: SimpleNamespace) -> Any:
    client.force_login(world.operator)
    return client


def _live(client: Any, deployment: Deployment) -> str:
    response = client.get(reverse("deployment_live", args=[deployment.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


def _card(page: str, title: str) -> str:
    """One card of the page, from its heading to its end."""
    return page.split(f"<h2>{title}</h2>", 1)[1].split("</section>", 1)[0]


def _apply(actor: Any, capture: Any, draft: Draft, deployment: Deployment | None = None) -> Deployment:
    with capture(execute=True):
        return deployment_apply(actor=actor, draft=draft, deployment=deployment)


def _realtime(tenant: Tenant, package: Any, count: int = 1) -> Draft:
    return Draft(
        name="alpha-realtime",
        kind=Kind.REALTIME,
        isolation="silo",
        tenant=tenant,
        model_package=package,
        settings={"instance_type": "ml.m5.large", "instance_count": count},
    )


def test_the_polled_part_carries_the_actions_resources_and_cost_as_the_state_moves(
    operator_client: Any,
    world: SimpleNamespace,
    package: Any,
    run_worker: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    capture = django_capture_on_commit_callbacks
    deployment = _apply(world.operator, capture, _realtime(world.tenant_a, package(world.tenant_a)))
    page = operator_client.get(reverse("deployment_detail", args=[deployment.pk])).content.decode()
    assert CANCEL in page  # pending: nothing reached AWS yet
    assert "0 of 1 rolled out" in page
    assert 'hx-trigger="every 2s"' in page

    run_worker()
    live = _live(operator_client, deployment)
    assert "In service" in live
    assert CANCEL not in live  # the actions follow the state, not the page load
    assert ">Change</a>" in live
    assert ">Delete</a>" in live
    assert "1 of 1 rolled out" in live
    resources = _card(live, "AWS resources")
    assert f"{deployment.aws_name}-g1" in resources  # created meanwhile
    assert "$83.95" in resources  # what now runs: 730 h × $0.115
    assert "hx-trigger" not in live  # settled: the page stops polling
    assert "<html" not in live  # the page body alone, for htmx to swap in

    deployment.refresh_from_db()
    draft = Draft.of(deployment, settings={**deployment.settings, "instance_count": 2})
    _apply(world.operator, capture, draft, deployment)
    live = _live(operator_client, deployment)
    assert "1 of 2 rolled out" in live
    assert 'hx-trigger="every 2s"' in live  # moving again: the polled part polls on

    run_worker()
    live = _live(operator_client, deployment)
    assert "2 of 2 rolled out" in live
    resources = _card(live, "AWS resources")
    assert f"{deployment.aws_name}-g2" in resources
    assert f"{deployment.aws_name}-g1" not in resources  # the replaced config and model are gone
    assert "$167.90" in resources


def _failed_before_aws(world: SimpleNamespace, kind: str = Kind.REALTIME, **settings: Any) -> Deployment:
    """A deployment that failed on its way to service: no endpoint or model ever went live."""
    return Deployment.objects.create(
        tenant=world.tenant_a,
        model_package=make_package(world.tenant_a),
        name="alpha-rt",
        kind=kind,
        isolation="silo",
        aws_name="sa-alpha-rt-0a1b2c3d",
        settings=settings_normalise(kind, settings),
        status=Status.FAILED,
        model_name="sa-alpha-rt-0a1b2c3d-g1",
        config_name="sa-alpha-rt-0a1b2c3d-g1",
        last_error="Could not find model data at s3://saasadmin-tests/models/alpha/model.tar.gz",
    )


def test_a_deployment_that_never_ran_costs_nothing_now(operator_client: Any, world: SimpleNamespace) -> None:
    deployment = _failed_before_aws(world, instance_type="ml.m5.large")
    page = operator_client.get(reverse("deployment_detail", args=[deployment.pk])).content.decode()
    assert "<dt>Monthly now</dt><dd><strong>$0.00</strong>" in page
    assert "nothing runs in AWS yet" in page
    assert "$83.95" in page  # the desired state still says what it will cost once in service

    delete = operator_client.get(reverse("deployment_delete", args=[deployment.pk])).content.decode()
    assert "$83.95" not in delete  # deleting saves nothing: nothing runs

    form = {
        "uid": str(deployment.uid),
        "name": deployment.name,
        "kind": deployment.kind,
        "isolation": "silo",
        "tenant": str(world.tenant_a.pk),
        "model_package": str(deployment.model_package_id),
        "instance_type": "ml.m5.large",
        "instance_count": "1",
        "payload_mb": "1",
        "action": "plan",
    }
    body = operator_client.post(reverse("deployment_edit", args=[deployment.pk]), form).content.decode()
    assert "Plan for alpha-rt" in body
    now = body.split("Monthly now", 1)[1].split("Monthly after", 1)[0]
    assert "$0.00" in now
    assert "$83.95" not in now
    assert '<td>EndpointConfig</td><td class="mono"></td>' not in body  # no nameless resource to delete


def test_a_minimum_of_zero_instances_shows_as_zero(operator_client: Any, world: SimpleNamespace) -> None:
    deployment = _failed_before_aws(world, Kind.ASYNC, min_capacity=0, max_capacity=2)
    page = operator_client.get(reverse("deployment_detail", args=[deployment.pk])).content.decode()
    assert '<dt>Autoscaling minimum instances</dt><dd class="mono">0</dd>' in page
    assert '<dt>S3 output path</dt><dd class="mono">—</dd>' in page  # a setting left empty is a dash
