"""The operator's cost-split page of a shared deployment: the rule, its effect, the form."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from insights.models_costs import AllocationLine, CostRule
from tenants.models import AuditEvent
from tenants.roles import Role
from tests.factories import make_user, sign_in
from tests.insights.costs.world import endpoint, member, tenants

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared() -> SimpleNamespace:
    a, b = tenants("a", "b")
    deployment = endpoint("multi_model", isolation="bridge", name="Bridge MME")
    member(deployment, a, timezone.now() - timedelta(days=40))
    member(deployment, b, timezone.now() - timedelta(days=40))
    yesterday = timezone.now().date() - timedelta(days=1)
    for tenant, used in ((a, "6.00"), (b, "2.00"), (None, "4.00")):
        AllocationLine.objects.create(
            day=yesterday, tenant=tenant, deployment=deployment, resource_id="arn", kind="multi_model",
            isolation="bridge", usage_type="USE1-Host:ml.m5.large",
            basis="idle" if tenant is None else "invocations",
            share_numerator=1, share_denominator=1, is_idle=tenant is None, cost=D(used), billed_cost=D(used),
        )  # fmt: skip
    return SimpleNamespace(deployment=deployment, a=a, b=b, operator=make_user(Role.OPERATOR, username="op"))


def _url(deployment: Any) -> str:
    return reverse("deployment_cost_rule", args=[deployment.pk])


def test_the_page_shows_the_idle_and_what_spreading_it_would_do(client: Any, shared: SimpleNamespace) -> None:
    """$12 in all, $4 idle (33.3 %); spread 3 : 1 → a $6 + $3 = $9, b $2 + $1 = $3."""
    assert sign_in(client, "op")
    page = client.get(_url(shared.deployment)).content.decode()
    assert "$4.00" in page
    assert "33.3 %" in page
    assert "$9.00" in page
    assert "$3.00" in page


def test_an_operator_sets_weights_and_spread(client: Any, shared: SimpleNamespace) -> None:
    assert sign_in(client, "op")
    form = {
        "basis": "weights",
        "idle_policy": "spread",
        f"weight_{shared.a.pk}": "3",
        f"weight_{shared.b.pk}": "",
    }
    response = client.post(_url(shared.deployment), form)
    assert response.status_code == 302
    rule = CostRule.objects.get()
    assert (rule.basis, rule.idle_policy) == ("weights", "spread")
    assert rule.weights == {str(shared.a.pk): 3.0, str(shared.b.pk): 1.0}
    event = AuditEvent.objects.get(action="deployment.cost_rule")
    assert event.after["basis"] == "weights"


def test_a_bad_weight_is_shown_next_to_its_field_and_kept(client: Any, shared: SimpleNamespace) -> None:
    assert sign_in(client, "op")
    form = {"basis": "weights", "idle_policy": "overhead", f"weight_{shared.a.pk}": "-2"}
    response = client.post(_url(shared.deployment), form)
    assert response.status_code == 200
    page = response.content.decode()
    assert "greater than or equal to 0.001" in page
    assert 'value="-2"' in page
    assert not CostRule.objects.exists()


def test_a_tenants_own_deployment_has_no_split(client: Any, shared: SimpleNamespace) -> None:
    (acme,) = tenants("acme")
    own = endpoint(tenant=acme)
    assert sign_in(client, "op")
    assert client.get(_url(own)).status_code == 404
