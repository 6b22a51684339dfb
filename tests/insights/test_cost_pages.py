"""The finance pages: the month overview, a tenant's cost page, the exports, and who sees what."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from insights.finance.services import cost_sharing_set
from tenants.tokens import token_create
from tests.factories import make_tenant
from tests.insights.cost_factories import cost_world, lines_of


@pytest.fixture
def costs(world: SimpleNamespace) -> SimpleNamespace:
    return cost_world(world)


def _get(client: Any, user: Any, name: str, *args: Any, **query: str) -> Any:
    client.force_login(user)
    return client.get(reverse(name, args=args), query)


def test_the_overview_adds_up_per_tenant_with_idle_shown(client: Any, costs: SimpleNamespace) -> None:
    previous = costs.previous
    response = _get(client, costs.finance, "cost_overview", month=previous.key)
    assert response.status_code == 200
    data = response.context["data"]
    days = previous.days
    by_tenant = {row.slug: row.cost for row in data.rows}
    assert str(by_tenant["alpha"]) == f"{(276 + 225) * days / 100:.2f}"
    assert str(by_tenant["beta"]) == f"{75 * days / 100:.2f}"
    assert str(data.idle) == f"{days:.2f}"
    assert data.totals["total"] == sum(by_tenant.values()) + data.idle  # to the cent
    body = response.content.decode()
    assert "Idle, kept as vendor overhead" in body
    assert "Alpha Corp" in body


def test_margin_converts_the_plan_price_at_the_dated_rate(client: Any, costs: SimpleNamespace) -> None:
    from datetime import date
    from decimal import Decimal

    from insights.models_finance import ExchangeRate

    costs.tenant_b.currency, costs.tenant_b.plan_price = "EUR", Decimal("100.00")
    costs.tenant_b.save()
    month = costs.previous
    ExchangeRate.objects.create(currency="EUR", valid_from=date(2000, 1, 1), usd=Decimal("1.10"))
    ExchangeRate.objects.create(currency="EUR", valid_from=month.end, usd=Decimal("9.99"))  # too late for it
    data = _get(client, costs.finance, "cost_overview", month=month.key).context["data"]
    beta = next(row for row in data.rows if row.slug == "beta")
    assert beta.price_usd == Decimal("110.00")
    assert beta.margin == Decimal("110.00") - beta.cost


def test_tenants_below_the_threshold_are_highlighted(client: Any, costs: SimpleNamespace) -> None:
    response = _get(client, costs.finance, "cost_overview", month=costs.previous.key, below="50")
    body = response.content.decode()
    # Alpha pays $100 a month and costs ~$155: a negative margin, below any threshold.
    assert "below-threshold" in body
    assert response.context["below_count"] >= 1


def test_the_overview_sorts_searches_and_pages(client: Any, costs: SimpleNamespace) -> None:
    for n in range(30):
        make_tenant(name=f"Zeta {n:02}", slug=f"zeta-{n}")
    response = _get(client, costs.finance, "cost_overview", sort="-cost")
    names = [row.name for row in response.context["page"].object_list]
    assert names[0] == "Alpha Corp"
    assert len(names) == 25
    response = _get(client, costs.finance, "cost_overview", q="zeta-1", sort="name")
    rows = response.context["page"].object_list
    assert [r.name for r in rows] == sorted(r.name for r in rows)
    assert {r.slug for r in rows} == {"zeta-1", *(f"zeta-{n}" for n in range(10, 20))}
    assert _get(client, costs.finance, "cost_overview", page="2").context["page"].number == 2


@pytest.mark.parametrize("month", ["2026-13", "abc", "10-2026", "1999-12", "'\"<>", "2026-1"])
def test_a_bad_month_is_a_400(client: Any, costs: SimpleNamespace, month: str) -> None:
    for name, args in [("cost_overview", ()), ("cost_tenant", (costs.tenant_a.pk,)), ("cost_export", ())]:
        response = _get(client, costs.finance, name, *args, month=month)
        assert response.status_code == 400, (name, month)


def test_a_month_not_started_is_a_404(client: Any, costs: SimpleNamespace) -> None:
    future = costs.month.next().key
    assert _get(client, costs.finance, "cost_overview", month=future).status_code == 404
    assert (
        _get(client, costs.finance, "cost_tenant_export", costs.tenant_a.pk, month=future).status_code == 404
    )


def test_the_tenant_page_explains_the_shared_split(client: Any, costs: SimpleNamespace) -> None:
    response = _get(client, costs.finance, "cost_tenant", costs.tenant_a.pk, month=costs.previous.key)
    assert response.status_code == 200
    cost = response.context["cost"]
    endpoint = cost.shared[0]
    assert endpoint.invocations == 300 * costs.previous.days
    assert endpoint.endpoint_invocations == 400 * costs.previous.days
    assert endpoint.days[0].share_pct == 75
    body = response.content.decode()
    assert "bridge-mme" in body
    assert "300" in body
    assert "400" in body
    assert "What it would cost in Silo" in body
    assert response.context["silo"][0].silo_monthly > 0
    assert sum(line.cost for line in cost.invoice) == cost.total


def test_finance_sees_costs_but_no_model_internals_or_tokens(client: Any, costs: SimpleNamespace) -> None:
    from deployments.models import ModelPackage

    _secret_token, secret = token_create(actor=None, tenant=costs.tenant_a, name="ci")
    ModelPackage.objects.create(
        tenant=costs.tenant_a, framework="xgboost", framework_version="1.7-1", version=1,
        image_uri="123.dkr.ecr.us-east-1.amazonaws.com/xgb:1.7-1", model_data_url="s3://bucket/alpha/model.tar.gz",
    )  # fmt: skip
    pages = [
        _get(client, costs.finance, "cost_overview", month=costs.previous.key),
        _get(client, costs.finance, "cost_tenant", costs.tenant_a.pk, month=costs.previous.key),
    ]
    export = _get(client, costs.finance, "cost_export", month=costs.previous.key)
    texts = [p.content.decode() for p in pages] + ["\n".join(lines_of(export))]
    for text in texts:
        assert secret not in text
        assert "sa_" not in text.replace("sa-", "")
        assert "model.tar.gz" not in text
        assert "dkr.ecr" not in text
        assert "s3://bucket/alpha" not in text
    assert "Alpha Corp" in texts[0]
    assert "Beta Corp" in texts[0]


def test_the_csv_uses_focus_columns_and_adds_up(client: Any, costs: SimpleNamespace) -> None:
    import csv
    from decimal import Decimal

    response = _get(client, costs.finance, "cost_export", month=costs.previous.key)
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(lines_of(response)))
    for column in ("BilledCost", "EffectiveCost", "ChargePeriodStart", "ChargePeriodEnd", "ResourceId",
                   "ServiceName", "Tags"):  # fmt: skip
        assert column in rows[0]
    assert len(rows) == 4 * costs.previous.days
    assert sum(Decimal(r["BilledCost"]) for r in rows) == Decimal("6.76") * costs.previous.days
    assert rows[0]["ChargePeriodStart"] == f"{costs.previous.start}T00:00:00Z"
    assert rows[0]["ServiceName"] == "Amazon SageMaker"


def test_a_tenant_sees_its_own_cost_only_when_shared(client: Any, costs: SimpleNamespace) -> None:
    month = costs.previous.key
    assert _get(client, costs.admin_a, "tenant_costs", costs.tenant_a.pk, month=month).status_code == 404
    cost_sharing_set(actor=costs.operator, tenant=costs.tenant_a, visible=True)
    response = _get(client, costs.admin_a, "tenant_costs", costs.tenant_a.pk, month=month)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Margin" not in body
    assert "Plan price" not in body
    assert "budget" not in body.lower()
    assert "Beta" not in body
    assert "bridge-mme" not in body
    assert "sa-alpha-rt" not in body
    assert "0.75" not in body
    # Another tenant's page and export stay 404, shared or not.
    cost_sharing_set(actor=costs.operator, tenant=costs.tenant_b, visible=True)
    assert _get(client, costs.admin_a, "tenant_costs", costs.tenant_b.pk, month=month).status_code == 404
    assert (
        _get(client, costs.admin_a, "tenant_costs_export", costs.tenant_b.pk, month=month).status_code == 404
    )
    assert _get(client, costs.admin_a, "cost_export", month=month).status_code == 403


def test_a_tenants_csv_holds_its_lines_only(client: Any, costs: SimpleNamespace) -> None:
    cost_sharing_set(actor=costs.operator, tenant=costs.tenant_a, visible=True)
    response = _get(client, costs.admin_a, "tenant_costs_export", costs.tenant_a.pk, month=costs.previous.key)
    text = "\n".join(lines_of(response))
    assert "alpha" in text
    assert "beta" not in text.lower()
    assert "arn:aws" not in text
    assert "bridge-mme" not in text
    assert "/ 400" not in text
    assert len(text.splitlines()) == 1 + 2 * costs.previous.days


def test_the_overview_query_count_does_not_grow_with_tenants(client: Any, costs: SimpleNamespace) -> None:
    from tests.factories import make_fleet

    client.force_login(costs.finance)
    client.get(reverse("cost_overview"))  # warm the session
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("cost_overview"), {"month": costs.previous.key})
    make_fleet(10, 2000)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("cost_overview"), {"month": costs.previous.key})
    assert len(many) == len(few)


def test_operators_share_and_stop_sharing_a_tenants_cost(client: Any, costs: SimpleNamespace) -> None:
    from insights.models_finance import CostSharing

    client.force_login(costs.operator)
    url = reverse("cost_sharing", args=[costs.tenant_a.pk])
    assert client.post(url, {"visible": "on"}).status_code == 302
    assert CostSharing.objects.get(tenant=costs.tenant_a).visible
    client.post(url, {})
    assert not CostSharing.objects.get(tenant=costs.tenant_a).visible
    client.force_login(costs.finance)
    assert client.post(url, {"visible": "on"}).status_code == 403


def test_the_day_by_day_split_shows_the_numbers_that_made_it(client: Any, costs: SimpleNamespace) -> None:
    month = costs.previous.key
    url = reverse("cost_tenant_shared", args=[costs.tenant_a.pk, costs.shared_mm.pk])
    client.force_login(costs.finance)
    body = client.get(url, {"month": month}, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in body
    assert "75.00 %" in body
    assert ">400<" in body
    assert "$2.25" in body
    cost_sharing_set(actor=costs.operator, tenant=costs.tenant_a, visible=True)
    client.force_login(costs.admin_a)
    own = client.get(
        reverse("tenant_costs_shared", args=[costs.tenant_a.pk, costs.shared_mm.pk]), {"month": month}
    )
    text = own.content.decode()
    assert own.status_code == 200
    assert "$2.25" in text
    assert ">400<" not in text
    assert "bridge-mme" not in text
    other = reverse("tenant_costs_shared", args=[costs.tenant_b.pk, costs.shared_mm.pk])
    assert client.get(other, {"month": month}).status_code == 404


def test_the_ledger_is_compared_with_aws_per_tag_and_day(client: Any, costs: SimpleNamespace) -> None:
    from decimal import Decimal

    from insights.models_costs import AwsCostLine

    day = costs.previous.start
    # AWS billed Alpha's own endpoint a cent more on the first day, the shared endpoint as the ledger did.
    AwsCostLine.objects.create(
        day=day, tag_value="alpha", tenant=costs.tenant_a, usage_type="u", cost=Decimal("2.77")
    )
    AwsCostLine.objects.create(day=day, tag_value="shared", usage_type="u", cost=Decimal("4.00"))
    client.force_login(costs.finance)
    response = client.get(reverse("cost_compare"), {"month": costs.previous.key})
    assert response.status_code == 200
    data = response.context["data"]
    alpha = next(t for t in data.tags if t.tag == "alpha")
    assert alpha.ledger == Decimal("2.76")  # the one day AWS has billed; the others are pending
    assert alpha.aws == Decimal("2.77")
    assert data.pending == Decimal("6.76") * (costs.previous.days - 1)
    first = next(r for r in data.days if r.tag_value == "alpha" and r.day == day)
    assert first.difference == Decimal("0.01")
    assert "Alpha Corp" in response.content.decode()
    client.force_login(costs.admin_a)
    assert client.get(reverse("cost_compare")).status_code == 403


def test_vendor_staff_s_prepared_facts_read_as_the_scoped_orm_reads_them(costs: SimpleNamespace) -> None:
    """Vendor staff's facts come from a prepared read; a tenant member's from the scoped ORM queryset.
    For the same tenant and day they agree, budget, rate, sharing and lines version included."""
    from datetime import date
    from decimal import Decimal

    from django.http import Http404

    from insights.finance.facts import tenant_facts_or_404
    from insights.models_finance import Budget, ExchangeRate

    tenant = costs.tenant_a
    tenant.currency = "EUR"
    tenant.save()
    ExchangeRate.objects.create(currency="EUR", valid_from=date(2000, 1, 1), usd=Decimal("1.10"))
    Budget.objects.create(tenant=tenant, monthly=Decimal("250.00"))
    cost_sharing_set(actor=costs.operator, tenant=tenant, visible=True)
    day = date(2024, 5, 1)
    vendor = tenant_facts_or_404(costs.finance, tenant.pk, rate_day=day)
    member = tenant_facts_or_404(costs.admin_a, tenant.pk, rate_day=day)
    assert vendor == member
    assert (vendor.budget, vendor.budget_own, vendor.rate.usd, vendor.shared_with_tenant) == (
        Decimal("250.00"), True, Decimal("1.10"), True,
    )  # fmt: skip
    for user, tenant_id in ((costs.finance, "not-a-uuid"), (costs.admin_a, costs.tenant_b.pk)):
        with pytest.raises(Http404):
            tenant_facts_or_404(user, tenant_id, rate_day=day)


def test_the_kept_body_follows_the_tenant_its_budget_and_rate(client: Any, costs: SimpleNamespace) -> None:
    """The page's body is rendered once per digest of what it shows: a renamed tenant, a new budget or
    a new rate shows on the next view although the cost lines did not change (each on its own)."""
    from datetime import date
    from decimal import Decimal

    from insights.models_finance import Budget, ExchangeRate

    def page() -> str:
        return _get(
            client, costs.finance, "cost_tenant", tenant.pk, month=costs.previous.key
        ).content.decode()

    tenant = costs.tenant_b
    tenant.currency, tenant.plan_price = "EUR", Decimal(100)
    tenant.save()
    budget = Budget.objects.create(tenant=tenant, monthly=Decimal("41.00"))
    first = page()
    assert "Beta Corp" in first
    assert "$41.00 monthly budget" in first
    assert "no EUR rate yet" in first
    tenant.name = "Beta Renamed"
    tenant.save()
    assert "Beta Renamed" in page()
    budget.monthly = Decimal("42.00")
    budget.save()
    assert "$42.00 monthly budget" in page()
    ExchangeRate.objects.create(currency="EUR", valid_from=date(2000, 1, 1), usd=Decimal("1.25"))
    assert "$125.00" in page()  # the plan price at the rate
