"""Onboarding, editing and the tenant list as an operator uses them."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tenants.models import AuditEvent, Invitation, Tenant
from tests.factories import make_tenant

VALID = {
    "name": "Cyberdyne Systems",
    "slug": "cyberdyne",
    "isolation": "bridge",
    "tier": "premium",
    "plan_price": "1200.00",
    "currency": "USD",
    "contact_email": "ops@cyberdyne.example.com",
    "admin_email": "",
}


@pytest.fixture
def operator_client(client: Any, world: SimpleNamespace) -> Any:
    client.force_login(world.operator)
    return client


def test_it_onboards_a_tenant_and_records_it(operator_client: Any, world: SimpleNamespace) -> None:
    response = operator_client.post(reverse("tenant_onboard"), VALID)
    tenant = Tenant.objects.get(slug="cyberdyne")
    assert response.status_code == 302
    assert response["Location"] == reverse("tenant_detail", args=[tenant.pk])
    assert tenant.status == "onboarding"
    event = AuditEvent.objects.get(action="tenant.onboard")
    assert event.actor == world.operator
    assert event.after["slug"] == "cyberdyne"
    assert event.tenant == tenant


def test_it_invites_the_first_admin_when_asked(operator_client: Any) -> None:
    operator_client.post(reverse("tenant_onboard"), {**VALID, "admin_email": "Boss@Cyberdyne.example.com"})
    invitation = Invitation.objects.get()
    assert invitation.email == "boss@cyberdyne.example.com"
    assert invitation.role == "tenant_admin"


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("Upper", "lowercase"),
        ("has space", "lowercase"),
        ("-leading", "lowercase"),
        ("trailing-", "lowercase"),
        ("under_score", "lowercase"),
        ("a" * 41, "at most 40"),
        ("shared", "reserved"),
        ("", "required"),
    ],
)
def test_it_refuses_bad_slugs_and_keeps_what_was_typed(operator_client: Any, slug: str, message: str) -> None:
    response = operator_client.post(reverse("tenant_onboard"), {**VALID, "slug": slug})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "Cyberdyne Systems" in response.content.decode()  # the other fields are kept
    assert not Tenant.objects.filter(name="Cyberdyne Systems").exists()


def test_it_refuses_a_duplicate_slug(operator_client: Any, world: SimpleNamespace) -> None:
    response = operator_client.post(reverse("tenant_onboard"), {**VALID, "slug": world.tenant_a.slug})
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Tenant.objects.filter(slug=world.tenant_a.slug).count() == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "x" * 121, "at most 120"),
        ("contact_email", "not-an-email", "valid email"),
        ("plan_price", "-5", "greater than or equal to 0"),
        ("plan_price", "1" * 30, "no more than 12 digits"),
        ("isolation", "mesh", "not one of the available choices"),
        ("currency", "XYZ", "not one of the available choices"),
    ],
)
def test_it_refuses_invalid_values(operator_client: Any, field: str, value: str, message: str) -> None:
    response = operator_client.post(reverse("tenant_onboard"), {**VALID, field: value})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Tenant.objects.filter(slug="cyberdyne").exists()


def test_it_escapes_markup_in_names(operator_client: Any) -> None:
    operator_client.post(reverse("tenant_onboard"), {**VALID, "name": "<script>alert(1)</script>"})
    tenant = Tenant.objects.get(slug="cyberdyne")
    for url in (reverse("tenant_list"), reverse("tenant_detail", args=[tenant.pk]), reverse("audit_log")):
        body = operator_client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_it_edits_a_tenant_and_audits_the_change(operator_client: Any, world: SimpleNamespace) -> None:
    tenant = world.tenant_a
    data = {**VALID, "slug": tenant.slug, "name": "Alpha Renamed", "plan_price": "150.00"}
    response = operator_client.post(reverse("tenant_edit", args=[tenant.pk]), data)
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="tenant.update")
    assert event.before["name"] == "Alpha Corp"
    assert event.after["name"] == "Alpha Renamed"
    assert ("plan_price", "100.00", "150.00") in event.changes()


def test_the_list_searches_filters_and_sorts(operator_client: Any, world: SimpleNamespace) -> None:
    make_tenant(name="Zeta Pool", slug="zeta", isolation="pool", status="suspended")
    body = operator_client.get(reverse("tenant_list"), {"q": "zeta"}).content.decode()
    assert "Zeta Pool" in body
    assert "Alpha Corp" not in body
    body = operator_client.get(reverse("tenant_list"), {"status": "suspended"}).content.decode()
    assert "Zeta Pool" in body
    assert "Beta Corp" not in body
    body = operator_client.get(
        reverse("tenant_list"), {"isolation": "silo", "sort": "-name"}
    ).content.decode()
    assert body.index("Beta Corp") < body.index("Alpha Corp")
    assert "Zeta Pool" not in body


def test_the_list_ignores_unknown_filter_values(operator_client: Any, world: SimpleNamespace) -> None:
    response = operator_client.get(
        reverse("tenant_list"), {"status": "bogus", "sort": "drop table", "page": "9999"}
    )
    assert response.status_code == 200
    assert "Alpha Corp" in response.content.decode()


def test_the_list_answers_htmx_with_the_table_only(operator_client: Any, world: SimpleNamespace) -> None:
    response = operator_client.get(reverse("tenant_list"), {"q": "alpha"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "Alpha Corp" in body
    assert "<html" not in body


def _list_queries(client: Any) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("tenant_list")).status_code == 200
    return len(ctx)


def test_the_list_query_count_does_not_grow_with_tenants(
    operator_client: Any, world: SimpleNamespace
) -> None:
    Tenant.objects.bulk_create(
        Tenant(name=f"Bulk {i}", slug=f"bulk-{i}", contact_email="x@example.com") for i in range(8)
    )
    with_ten = _list_queries(operator_client)
    Tenant.objects.bulk_create(
        Tenant(name=f"More {i}", slug=f"more-{i}", contact_email="x@example.com") for i in range(490)
    )
    assert Tenant.objects.count() == 500
    assert _list_queries(operator_client) == with_ten
