"""The deployment form in a real browser: a shared endpoint's tenants, each with only its own packages,
and an owner that follows the kind (issue 9 items 5 and 8)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from deployments.models import Deployment, Kind
from tests.deployments.conftest import make_package
from tests.factories import PASSWORD, make_tenant

pytestmark = pytest.mark.django_db(transaction=True)


def _offered(page: Any, name: str) -> list[str]:
    return page.eval_on_selector(
        f"select[name={name}]",
        "s => [...s.options].filter(o => o.value && !o.hidden && !o.disabled).map(o => o.value)",
    )


def test_an_operator_creates_a_multi_container_endpoint_for_two_bridge_tenants(
    page: Any, live_server: Any, world: SimpleNamespace
) -> None:
    gamma, delta = (
        make_tenant(slug="gamma", isolation="bridge"),
        make_tenant(slug="delta", isolation="bridge"),
    )
    gamma_model, delta_model, shared = make_package(gamma), make_package(delta), make_package(None)
    make_package(world.tenant_a)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "olivia")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/tenants/")
    page.goto(f"{live_server.url}/deployments/new/?tenant={gamma.pk}")
    # A Bridge tenant's step: a shared multi-model endpoint with gamma as its first tenant and gamma's model.
    assert page.input_value("select[name=kind]") == Kind.MULTI_MODEL
    assert page.is_visible("[data-members]")
    assert page.is_hidden("[data-base=model_package]")  # each tenant brings its own model instead
    assert _offered(page, "first_member_package") == [str(gamma_model.pk)]
    assert page.is_visible("text=No shared Bridge endpoint has room for it yet")
    # Switched to a tenant's own kind, gamma becomes the owner, with its model (and the shared ones).
    page.select_option("select[name=kind]", Kind.ASYNC)
    assert page.input_value("select[name=tenant]") == str(gamma.pk)
    assert page.is_hidden("[data-members]")
    assert _offered(page, "model_package") == [str(shared.pk), str(gamma_model.pk)]
    assert page.input_value("select[name=model_package]") == str(gamma_model.pk)
    # Back to shared, as a multi-container endpoint: two tenants, each with only its own model offered.
    page.select_option("select[name=kind]", Kind.MULTI_CONTAINER)
    assert page.input_value("select[name=tenant]") == ""
    assert page.input_value("select[name=first_member]") == str(gamma.pk)
    assert str(world.tenant_a.pk) not in _offered(page, "second_member")  # a Silo tenant cannot join
    page.select_option("select[name=second_member]", str(delta.pk))
    assert _offered(page, "second_member_package") == [str(delta_model.pk)]
    page.select_option("select[name=second_member_package]", str(delta_model.pk))
    page.click("button[value=plan]")
    page.wait_for_selector("h1:has-text('Plan for')")
    page.click("button[value=apply]")
    page.wait_for_selector("text=applied")
    deployment = Deployment.objects.get()
    assert deployment.kind == Kind.MULTI_CONTAINER
    assert {m.tenant_id for m in deployment.members.all()} == {gamma.pk, delta.pk}
