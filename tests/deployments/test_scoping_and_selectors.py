"""Tenant scoping of the selectors and jobs; constant query counts; progress and plans."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.http import Http404

from deployments import selectors
from deployments.models import Deployment, DeploymentEvent, ModelPackage, Status
from deployments.services import (
    Draft,
    deletion_plan,
    deployment_advance,
    deployment_apply,
    deployment_plan,
    member_plan,
)
from tests.deployments.conftest import make_package
from tests.factories import make_tenant


def _package(tenant: Any, framework: str = "xgboost") -> ModelPackage:
    return make_package(tenant, framework, key=tenant.slug if tenant else None)


def _deploy(tenant: Any, kind: str = "realtime", **settings: Any) -> Deployment:
    return deployment_apply(
        actor=None,
        draft=Draft(
            name=f"{tenant.slug} {kind}",
            kind=kind,
            isolation=tenant.isolation,
            tenant=tenant,
            model_package=_package(tenant),
            settings=settings,
        ),
    )


def _shared_pool(*members: Any) -> Deployment:
    return deployment_apply(
        actor=None,
        draft=Draft(
            name="pool",
            kind="realtime",
            isolation="pool",
            model_package=_package(None),
            members=tuple((m, None) for m in members),
        ),
    )


def test_a_tenant_sees_only_its_own_deployments(world: SimpleNamespace) -> None:
    ours, theirs = _deploy(world.tenant_a), _deploy(world.tenant_b)
    shared = _shared_pool(make_tenant(isolation="pool"))
    for user in (world.admin_a, world.viewer_a):
        assert list(selectors.deployment_list(user=user)) == [ours]
        assert selectors.deployment_status_counts(user=user)["pending"] == 1
        with pytest.raises(Http404):
            selectors.deployment_get(user=user, deployment_id=theirs.pk)
        with pytest.raises(Http404):
            selectors.deployment_get(user=user, deployment_id=shared.pk)
        assert selectors.deployment_get(user=user, deployment_id=ours.pk) == ours
        assert {e.deployment_id for e in DeploymentEvent.objects.visible_to(user)} <= {ours.pk}
    assert set(selectors.deployment_list(user=world.operator)) == {ours, theirs, shared}


def test_the_fleet_list_takes_a_constant_number_of_queries(
    world: SimpleNamespace, django_assert_num_queries: Any
) -> None:
    for _ in range(3):
        _deploy(make_tenant(isolation="silo"))
    _shared_pool(make_tenant(isolation="pool"), make_tenant(isolation="pool"))

    def render() -> None:
        for deployment in selectors.deployment_list(user=world.operator, status="pending"):
            _ = (deployment.tenant, deployment.model_package, deployment.member_count)
        selectors.deployment_status_counts(user=world.operator)

    with django_assert_num_queries(3):  # membership, list, counts
        render()
    _deploy(make_tenant(isolation="silo"))
    world.operator.__dict__.pop("_saasadmin_membership", None)
    with django_assert_num_queries(3):
        render()


def test_the_fleet_list_filters_by_kind_status_and_tenant(world: SimpleNamespace) -> None:
    realtime, batch = _deploy(world.tenant_a), _deploy(world.tenant_a, "batch")
    member = make_tenant(isolation="pool")
    pool = _shared_pool(member)
    assert list(selectors.deployment_list(user=world.operator, kind="batch")) == [batch]
    assert set(selectors.deployment_list(user=world.operator, tenant=world.tenant_a)) == {realtime, batch}
    assert list(selectors.deployment_list(user=world.operator, tenant=member)) == [pool]
    assert list(selectors.deployment_list(user=world.operator, status="in_service")) == []


def test_a_job_for_a_tenant_that_no_longer_owns_the_row_stops(world: SimpleNamespace) -> None:
    deployment = _deploy(world.tenant_a)
    assert deployment_advance(deployment_id=deployment.pk, tenant_id=world.tenant_b.pk) == Status.PENDING
    event = DeploymentEvent.objects.filter(deployment=deployment).last()
    assert (event.action, event.outcome) == ("Job", "stopped")
    assert not DeploymentEvent.objects.filter(deployment=deployment, action__startswith="Create").exists()


def test_a_job_for_an_offboarded_tenant_stops(world: SimpleNamespace) -> None:
    deployment = _deploy(world.tenant_a)
    world.tenant_a.__class__.objects.filter(pk=world.tenant_a.pk).update(status="offboarded")
    assert deployment_advance(deployment_id=deployment.pk, tenant_id=world.tenant_a.pk) == Status.PENDING
    assert DeploymentEvent.objects.filter(deployment=deployment).last().error == "The tenant is offboarded."


def test_progress_says_where_the_deployment_is(world: SimpleNamespace) -> None:
    deployment = _deploy(world.tenant_a)
    progress = selectors.deployment_progress(deployment=deployment)
    assert (progress.percent, progress.phrase, progress.moving) == (5, "Waiting for a worker", True)
    deployment.status, deployment.last_error = Status.FAILED, "Quota"
    assert selectors.deployment_progress(deployment=deployment).phrase == "Failed: Quota"


def test_the_plan_lists_resources_by_their_real_names_and_the_cost(world: SimpleNamespace) -> None:
    tenant = world.tenant_a
    draft = Draft(
        name="A",
        kind="realtime",
        isolation="silo",
        tenant=tenant,
        model_package=_package(tenant),
        settings={"instance_type": "ml.m5.large", "instance_count": 2},
    )
    plan = deployment_plan(draft=draft)
    base = f"sa-alpha-rt-{draft.uid.hex[:8]}"
    assert [(a.verb, a.type, a.name) for a in plan.actions] == [
        ("create", "Model", f"{base}-g1"),
        ("create", "EndpointConfig", f"{base}-g1"),
        ("create", "Endpoint", base),
    ]
    assert plan.actions[1].detail == "2 × ml.m5.large"
    assert plan.monthly_delta == Decimal("167.90")  # 2 × $0.115 × 730 h
    deployment = deployment_apply(actor=world.operator, draft=draft)
    assert deployment.aws_name == base
    bigger = deployment_plan(
        draft=Draft.of(deployment, settings={**deployment.settings, "instance_count": 3}),
        deployment=deployment,
    )
    assert bigger.monthly_delta == Decimal("83.95")
    assert ("update", "Endpoint", base) in [(a.verb, a.type, a.name) for a in bigger.actions]
    assert deletion_plan(deployment=deployment).monthly_delta == Decimal("-167.90")


def test_a_multi_model_join_plans_one_s3_copy_at_no_cost(db: None) -> None:
    gamma, delta = make_tenant(isolation="bridge"), make_tenant(isolation="bridge")
    deployment = deployment_apply(
        actor=None,
        draft=Draft(name="m", kind="multi_model", isolation="bridge", members=((gamma, _package(gamma)),)),
    )
    plan = member_plan(deployment=deployment, tenant=delta, model_package=_package(delta))
    assert [(a.verb, a.type) for a in plan.actions] == [("copy", "S3Object")]
    assert plan.actions[0].name.endswith(f"/{delta.slug}-v1-g2.tar.gz")  # the generation the join brings
    assert plan.monthly_delta == 0


def test_offboarding_a_tenant_tears_its_deployments_down(world: SimpleNamespace) -> None:
    from tenants import extensions
    from tenants.services import tenant_transition

    deployment = _deploy(world.tenant_a)
    tenant_transition(actor=world.operator, tenant=world.tenant_a, to="offboarding")
    extensions.offboarding_continue(actor=world.operator, tenant=world.tenant_a)
    deployment.refresh_from_db()
    world.tenant_a.refresh_from_db()
    assert deployment.status == Status.DELETING
    assert world.tenant_a.status == "offboarding"  # offboarded once the worker has deleted everything
    world.tenant_b.refresh_from_db()
    tenant_transition(actor=world.operator, tenant=world.tenant_b, to="offboarding")
    extensions.offboarding_continue(actor=world.operator, tenant=world.tenant_b)
    world.tenant_b.refresh_from_db()
    assert world.tenant_b.status == "offboarded"  # nothing in SageMaker: offboarded at once


def test_a_new_multi_model_plan_copies_the_first_models_before_creating_the_model(db: None) -> None:
    gamma = make_tenant(isolation="bridge")
    draft = Draft(name="m", kind="multi_model", isolation="bridge", members=((gamma, _package(gamma)),))
    plan = deployment_plan(draft=draft)
    base = f"sa-shared-mm-{draft.uid.hex[:8]}"
    assert [(a.verb, a.type, a.name.rsplit("/", 1)[-1]) for a in plan.actions] == [
        ("copy", "S3Object", f"{gamma.slug}-v1-g1.tar.gz"),
        ("create", "Model", f"{base}-g1"),
        ("create", "EndpointConfig", f"{base}-g1"),
        ("create", "Endpoint", base),
    ]
