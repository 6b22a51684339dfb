"""Offboarding through the pages: a plan before confirming, "started" after it, and a tenant page that
says what holds offboarding back and offers the fix (retry the delete, or mark it removed by hand)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse

from deployments.models import Deployment, DeploymentMember, Desired, Kind, Status
from deployments.pricing import deployment_monthly
from deployments.rules import settings_normalise
from deployments.services import Draft, deployment_apply, deployments_reconcile
from tenants.models import AuditEvent, TenantStatus
from tests.deployments.faults import Faults
from tests.factories import make_tenant


@pytest.fixture
def operator_client(client: Any, world: SimpleNamespace) -> Any:
    client.force_login(world.operator)
    return client


def _offboard(client: Any, tenant: Any, capture: Any, execute: bool = True) -> str:
    """Confirm the offboarding form as an operator; returns the page it lands on."""
    data = {"reason": "Contract ended", "confirm_slug": tenant.slug}
    with capture(execute=execute):
        response = client.post(reverse("tenant_offboard", args=[tenant.pk]), data, follow=True)
    return response.content.decode()


def _own(tenant: Any, name: str, status: str = Status.IN_SERVICE, **fields: Any) -> Deployment:
    """A tenant's own real-time endpoint as saved rows (no AWS: the pages only read it)."""
    return Deployment.objects.create(
        tenant=tenant, name=name, kind=Kind.REALTIME, isolation=tenant.isolation, aws_name=f"sa-{name}",
        settings=settings_normalise(Kind.REALTIME, {}), status=status, live_model_name=f"sa-{name}-g1",
        live_config_name=f"sa-{name}-g1", model_name=f"sa-{name}-g1", config_name=f"sa-{name}-g1",
        **fields,
    )  # fmt: skip


def _shared(kind: str, name: str, tenants: list[Any]) -> Deployment:
    shared = Deployment.objects.create(
        name=name, kind=kind, isolation="bridge", aws_name=f"sa-{name}", status=Status.IN_SERVICE,
        settings=settings_normalise(kind, {}), live_model_name=f"sa-{name}-g1",
        live_config_name=f"sa-{name}-g1",
    )  # fmt: skip
    for tenant in tenants:
        DeploymentMember.objects.create(deployment=shared, tenant=tenant, target=tenant.slug, state="active")
    return shared


def test_offboarding_shows_its_plan_before_the_confirmation(operator_client: Any) -> None:
    tenant, other, third = (make_tenant(isolation="bridge") for _ in range(3))
    _own(tenant, "own-rt")
    _shared(Kind.MULTI_MODEL, "mme-left", [tenant, other])
    _shared(Kind.MULTI_MODEL, "mme-last", [tenant])
    _shared(Kind.MULTI_CONTAINER, "mce-held", [tenant, third])

    page = operator_client.get(reverse("tenant_offboard", args=[tenant.pk])).content.decode()
    assert "What offboarding does in AWS" in page
    assert page.index("What offboarding does in AWS") < page.index('name="confirm_slug"')
    for name in ("sa-own-rt", "sa-own-rt-g1", "sa-mme-last"):  # its own, and the one it is the last of
        assert f'<td class="mono">{name}</td>' in page
    assert "shared: " + tenant.name + " leaves, the others stay" in page  # mme-left
    assert "mce-held keeps " + tenant.name + " for now" in page
    assert "runs at least 2 containers" in page
    # What own-rt and mme-last cost a month, from the price catalogue.
    stops = sum(
        deployment_monthly(kind, settings_normalise(kind, {})).monthly
        for kind in (Kind.REALTIME, Kind.MULTI_MODEL)
    )
    assert f"${stops:,.2f}" in page
    assert "Monthly cost that stops" in page


def test_a_tenant_with_nothing_in_aws_is_told_so_and_offboarded_at_once(
    operator_client: Any, world: SimpleNamespace, django_capture_on_commit_callbacks: Any
) -> None:
    page = operator_client.get(reverse("tenant_offboard", args=[world.tenant_b.pk])).content.decode()
    assert "Nothing of Beta Corp runs in SageMaker" in page
    landed = _offboard(operator_client, world.tenant_b, django_capture_on_commit_callbacks)
    assert "Beta Corp is offboarded: nothing of it was left to remove." in landed


def test_the_message_after_confirming_says_offboarding_started_not_done(
    operator_client: Any, world: SimpleNamespace, django_capture_on_commit_callbacks: Any
) -> None:
    own = _own(world.tenant_a, "alpha-rt")
    landed = _offboard(operator_client, world.tenant_a, django_capture_on_commit_callbacks, execute=False)
    assert "Alpha Corp: offboarding has started." in landed
    assert "offboard done" not in landed
    assert "Removing Alpha Corp's resources: 1 left." in landed
    own.refresh_from_db()
    assert (own.status, own.desired) == (Status.DELETING, Desired.ABSENT)


def test_an_async_endpoint_whose_delete_failed_blocks_offboarding_until_the_delete_is_retried(
    operator_client: Any,
    client: Any,
    world: SimpleNamespace,
    aws: Any,
    faults: Faults,
    package: Any,
    run_worker: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    capture, tenant = django_capture_on_commit_callbacks, world.tenant_a
    draft = Draft(name="A", kind="async", isolation="silo", tenant=tenant, model_package=package(tenant))
    with capture(execute=True):
        deployment = deployment_apply(actor=world.operator, draft=draft)
    run_worker()
    faults.add("DeleteEndpoint", "denied")
    _offboard(operator_client, tenant, capture)
    run_worker()
    deployment.refresh_from_db()
    tenant.refresh_from_db()
    assert (deployment.status, tenant.status) == (Status.FAILED, TenantStatus.OFFBOARDING)

    page = operator_client.get(reverse("tenant_detail", args=[tenant.pk])).content.decode()
    assert "Offboarding cannot finish on its own." in page
    assert "Its delete failed: AccessDeniedException" in page
    assert f'action="{reverse("deployment_retry", args=[deployment.pk])}"' in page
    assert f"{reverse('deployment_mark_removed', args=[deployment.pk])}?tenant={tenant.pk}" in page
    client.force_login(world.finance)  # finance sees the tenant, not the model internals or the fixes
    assert "Retry the delete" not in client.get(reverse("tenant_detail", args=[tenant.pk])).content.decode()

    client.force_login(world.operator)
    with capture(execute=True):
        client.post(reverse("deployment_retry", args=[deployment.pk]))
    run_worker()
    deployment.refresh_from_db()
    tenant.refresh_from_db()
    assert (deployment.status, tenant.status) == (Status.DELETED, TenantStatus.OFFBOARDED)
    assert aws.sagemaker.list_endpoints(NameContains=deployment.aws_name)["Endpoints"] == []


def test_a_deployment_removed_by_hand_lets_offboarding_finish_with_the_reason_in_the_audit_log(
    operator_client: Any, world: SimpleNamespace, django_capture_on_commit_callbacks: Any
) -> None:
    tenant = world.tenant_a
    type(tenant).objects.filter(pk=tenant.pk).update(status=TenantStatus.OFFBOARDING)
    deployment = _own(
        tenant, "alpha-rt", Status.FAILED, desired=Desired.ABSENT, last_error="AccessDeniedException: no"
    )
    url = f"{reverse('deployment_mark_removed', args=[deployment.pk])}?tenant={tenant.pk}"
    page = operator_client.get(url).content.decode()
    assert '<td class="mono">sa-alpha-rt-g1</td>' in page  # what the operator confirms is gone
    refused = operator_client.post(url, {"reason": "   "}).content.decode()
    assert "This field is required." in refused
    assert "Check that the resources are gone from AWS first" in refused
    assert Deployment.objects.get(pk=deployment.pk).status == Status.FAILED

    reason = "Deleted in the console by Olivia with the admin role (ticket OPS-12)"
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(url, {"reason": reason, "confirm": "on"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("tenant_detail", args=[tenant.pk])
    assert "alpha-rt: marked removed by hand" in response.content.decode()
    deployment.refresh_from_db()
    tenant.refresh_from_db()
    assert (deployment.status, tenant.status) == (Status.DELETED, TenantStatus.OFFBOARDED)
    event = AuditEvent.objects.get(action="deployment.mark_removed")
    assert (event.actor, event.tenant, event.after["reason"]) == (world.operator, tenant, reason)
    assert "Endpoint sa-alpha-rt" in event.before["resources"]


def test_only_a_failed_delete_can_be_marked_removed_by_hand(
    operator_client: Any, world: SimpleNamespace
) -> None:
    deployment = _own(world.tenant_a, "alpha-rt")
    url = reverse("deployment_mark_removed", args=[deployment.pk])
    page = operator_client.get(url).content.decode()
    assert "alpha-rt is not being deleted. Delete it first" in page
    operator_client.post(url, {"reason": "gone", "confirm": "on"})
    assert Deployment.objects.get(pk=deployment.pk).status == Status.IN_SERVICE
    assert operator_client.get(f"{url}?tenant=not-a-tenant").status_code == 404


def test_a_tenant_held_on_a_two_container_endpoint_is_told_why_and_leaves_once_another_joins(
    operator_client: Any, world: SimpleNamespace, aws: Any, django_capture_on_commit_callbacks: Any
) -> None:
    first, second = make_tenant(isolation="bridge"), make_tenant(isolation="bridge", name="Leaving Ltd")
    shared = _shared(Kind.MULTI_CONTAINER, "mce", [first, second])
    _offboard(operator_client, second, django_capture_on_commit_callbacks, execute=False)

    page = operator_client.get(reverse("tenant_detail", args=[second.pk])).content.decode()
    assert "Offboarding cannot finish on its own." in page
    assert "Leaving Ltd cannot leave mce yet" in page
    assert reverse("member_join", args=[shared.pk]) in page
    assert reverse("deployment_delete", args=[shared.pk]) in page

    third = make_tenant(isolation="bridge")
    DeploymentMember.objects.create(deployment=shared, tenant=third, target=third.slug, state="active")
    with django_capture_on_commit_callbacks(execute=False):
        deployments_reconcile()
    assert shared.members.get(tenant=second).state == "leaving"
    page = operator_client.get(reverse("tenant_detail", args=[second.pk])).content.decode()
    assert "Offboarding cannot finish on its own." not in page
    assert "Leaving this shared endpoint." in page


def test_a_shared_endpoint_whose_delete_failed_holds_its_tenants_until_marked_removed(
    operator_client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    tenant = make_tenant(isolation="bridge", name="Last Ltd")
    others = [make_tenant(isolation="bridge") for _ in range(2)]
    shared = _shared(Kind.MULTI_CONTAINER, "mce", [tenant, *others])
    Deployment.objects.filter(pk=shared.pk).update(
        status=Status.FAILED, desired=Desired.ABSENT, last_error="AccessDeniedException: no"
    )
    landed = _offboard(operator_client, tenant, django_capture_on_commit_callbacks, execute=False)
    assert "Last Ltd: offboarding has started." in landed
    assert "Its delete failed: AccessDeniedException: no" in landed
    assert Deployment.objects.get(pk=shared.pk).status == Status.FAILED  # nothing re-created it

    url = f"{reverse('deployment_mark_removed', args=[shared.pk])}?tenant={tenant.pk}"
    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post(url, {"reason": "Deleted in the console", "confirm": "on"})
    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.OFFBOARDED
    marked = AuditEvent.objects.filter(action="deployment.mark_removed")
    assert sorted(e.tenant.pk for e in marked) == sorted(t.pk for t in (tenant, *others))  # each one's log
