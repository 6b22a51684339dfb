"""A tenant's slug and isolation are its identity in AWS: they stay put once anything carries them."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from deployments.models import Deployment, DeploymentMember, Kind, ModelPackage, Status
from deployments.rules import settings_normalise
from tenants import services
from tenants.models import AuditEvent, Tenant
from tests.factories import make_tenant


@pytest.fixture
def operator_client(client: Any, world: SimpleNamespace) -> Any:
    client.force_login(world.operator)
    return client


def _edit_data(tenant: Tenant, **changes: str) -> dict[str, str]:
    data = {
        "name": tenant.name,
        "slug": tenant.slug,
        "isolation": tenant.isolation,
        "tier": tenant.tier,
        "plan_price": str(tenant.plan_price),
        "currency": tenant.currency,
        "contact_email": tenant.contact_email,
    }
    return {**data, **changes}


def _live_deployment(tenant: Tenant, status: str = Status.IN_SERVICE) -> Deployment:
    return Deployment.objects.create(
        tenant=tenant,
        name=f"{tenant.slug} real-time",
        kind=Kind.REALTIME,
        isolation=tenant.isolation,
        settings=settings_normalise(Kind.REALTIME, {}),
        aws_name=f"sa-{tenant.slug}-rt-1a2b3c4d",
        status=status,
    )


def _package(tenant: Tenant) -> ModelPackage:
    return ModelPackage.objects.create(
        tenant=tenant,
        framework="xgboost",
        framework_version="1.7-1",
        image_uri="683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
        model_data_url=f"s3://saasadmin-tests/models/{tenant.slug}/xgboost/v1/model.tar.gz",
        version=1,
    )


def test_the_edit_page_keeps_a_live_tenants_slug_and_isolation(
    operator_client: Any, world: SimpleNamespace
) -> None:
    tenant = world.tenant_a
    _live_deployment(tenant)
    url = reverse("tenant_edit", args=[tenant.pk])
    page = operator_client.get(url).content.decode()
    assert re.search(r'<input[^>]*name="slug"[^>]*disabled', page)
    assert re.search(r'<select[^>]*name="isolation"[^>]*disabled', page)
    assert "carry “alpha”" in page  # the disabled field says why
    assert "planned move" in page

    response = operator_client.post(url, _edit_data(tenant, slug="alpha2", isolation="pool", name="Alpha 2"))
    assert response.status_code == 302
    tenant.refresh_from_db()
    assert (tenant.slug, tenant.isolation, tenant.name) == ("alpha", "silo", "Alpha 2")
    event = AuditEvent.objects.get(action="tenant.update")
    assert [field for field, _, _ in event.changes()] == ["name"]


@pytest.mark.parametrize(
    ("holder", "locked"),
    [
        ("deployment", {"slug", "isolation"}),
        ("deleted deployment", {"slug"}),
        ("membership", {"slug", "isolation"}),
        ("model package", {"slug"}),
    ],
)
def test_the_service_refuses_what_a_holder_pins(
    world: SimpleNamespace, holder: str, locked: set[str]
) -> None:
    tenant = make_tenant(name="Gamma", slug="gamma", isolation="bridge")
    if holder == "deployment":
        _live_deployment(tenant)
    elif holder == "deleted deployment":
        _live_deployment(tenant, Status.DELETED)
    elif holder == "model package":
        _package(tenant)
    else:
        shared = Deployment.objects.create(
            tenant=None, name="bridge-mme", kind=Kind.MULTI_MODEL, isolation="bridge", aws_name="sa-shared-mm"
        )
        DeploymentMember.objects.create(deployment=shared, tenant=tenant, target="gamma/v1.tar.gz")
    for field, value in (("slug", "gamma2"), ("isolation", "pool")):
        fresh = Tenant.objects.get(pk=tenant.pk)
        if field in locked:
            with pytest.raises(ValidationError) as refused:
                services.tenant_update(actor=world.operator, tenant=fresh, **{field: value})
            assert field in refused.value.message_dict
            assert getattr(Tenant.objects.get(pk=tenant.pk), field) != value
        else:
            services.tenant_update(actor=world.operator, tenant=fresh, **{field: value})
            assert getattr(Tenant.objects.get(pk=tenant.pk), field) == value


def test_a_tenant_with_nothing_deployed_can_still_be_corrected(
    operator_client: Any, world: SimpleNamespace
) -> None:
    tenant = world.tenant_a
    url = reverse("tenant_edit", args=[tenant.pk])
    page = operator_client.get(url).content.decode()
    assert not re.search(r'<input[^>]*name="slug"[^>]*disabled', page)
    operator_client.post(url, _edit_data(tenant, slug="alpha-corp", isolation="pool"))
    tenant.refresh_from_db()
    assert (tenant.slug, tenant.isolation) == ("alpha-corp", "pool")
