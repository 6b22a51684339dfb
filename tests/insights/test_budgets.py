"""Budgets per tenant or tier, the notices at 80 % and 100 % of the running month's projection, and the
exchange rates plan prices are converted at."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse

from insights.finance.budgets import budgets_check, notices_tell
from insights.finance.months import Month
from insights.finance.services import budget_set
from insights.models_finance import Budget, BudgetNotice, ExchangeRate
from tenants.models import AuditEvent, Notice
from tenants.roles import Role
from tests.factories import make_user
from tests.insights.cost_factories import cost_world

# The 11th: ten days counted. Alpha costs $5.01 a day ($50.10 so far, $155.31 projected over 31 days).
TODAY = date(2026, 10, 11)


@pytest.fixture
def costs(world: SimpleNamespace) -> SimpleNamespace:
    return cost_world(world, today=TODAY)


def _notices() -> list[tuple[str, int]]:
    return sorted(BudgetNotice.objects.values_list("tenant__slug", "threshold"))


def test_notices_at_80_and_100_percent_of_the_projection_once_each(costs: SimpleNamespace) -> None:
    budget_set(actor=costs.finance, tenant=costs.tenant_a, monthly=Decimal("180.00"))  # 86 % projected
    assert [(n.tenant.slug, n.threshold) for n in budgets_check(today=TODAY)] == [("alpha", 80)]
    notice = BudgetNotice.objects.get()
    assert notice.projected == Decimal("155.31")
    assert notice.spent == Decimal("50.10")
    assert notice.days_counted == 10
    assert notice.month == date(2026, 10, 1)
    assert budgets_check(today=TODAY) == []  # run again: nothing new
    budget_set(actor=costs.finance, tenant=costs.tenant_a, monthly=Decimal("150.00"))  # 104 %
    assert [n.threshold for n in budgets_check(today=TODAY)] == [100]
    assert budgets_check(today=TODAY) == []
    assert _notices() == [("alpha", 80), ("alpha", 100)]


def test_a_crossing_reaches_each_finance_and_operator_user_once_through_the_notices(
    costs: SimpleNamespace, mailoutbox: list[Any], client: Any
) -> None:
    second_finance = make_user(Role.FINANCE, username="fiona")
    make_user(Role.OPERATOR, username="gone", is_active=False)  # a former operator hears nothing
    staff = {costs.operator.username, costs.finance.username, second_finance.username}
    budget_set(actor=costs.finance, tenant=costs.tenant_a, monthly=Decimal("150.00"))  # 104 % projected
    budgets_check(today=TODAY)
    budgets_check(today=TODAY)  # the cron again: nobody is told twice
    told = sorted(Notice.objects.values_list("user__username", "key", "level"))
    key = f"budget:{costs.tenant_a.pk}:2026-10"
    assert told == sorted(
        (name, f"{key}:{threshold}", level)
        for name in staff
        for threshold, level in ((80, "info"), (100, "error"))
    )
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        f"{name}@example.com" for name in staff for _ in "ab"
    )
    notice = Notice.objects.get(user=costs.finance, key=f"{key}:100")
    assert notice.title == "Alpha Corp is heading past 100 % of its budget in October 2026"
    assert "$155.31 projected over the month" in notice.body
    assert "a monthly budget of $150.00 (its own)" in notice.body
    assert notice.url == f"/costs/tenants/{costs.tenant_a.pk}/?month=2026-10"
    assert not BudgetNotice.objects.filter(notified_at=None).exists()
    # The bell counts them until read.
    client.force_login(costs.finance)
    assert 'aria-label="Notices: 2 unread"' in client.get(reverse("notices")).content.decode()


def test_a_check_killed_before_telling_anyone_tells_them_on_its_next_run(costs: SimpleNamespace) -> None:
    budget_set(actor=costs.finance, tenant=costs.tenant_a, monthly=Decimal("180.00"))  # 86 % projected
    budgets_check(today=TODAY)
    Notice.objects.all().delete()
    BudgetNotice.objects.update(notified_at=None)  # as if killed between the two steps
    assert budgets_check(today=TODAY) == []  # no new budget notice…
    assert Notice.objects.filter(key__endswith=":80").count() == 2  # …but operator and finance told
    assert notices_tell(Month(date(2026, 10, 1))) == 0
    assert not Notice.objects.filter(user__in=[costs.admin_a, costs.viewer_a]).exists()


def test_a_tier_budget_applies_unless_the_tenant_has_its_own(costs: SimpleNamespace) -> None:
    budget_set(actor=costs.finance, tier="standard", monthly=Decimal("20.00"))  # both tenants are standard
    budget_set(actor=costs.finance, tenant=costs.tenant_a, monthly=Decimal("1000.00"))
    budgets_check(today=TODAY)
    # Beta: $0.75 a day → $23.25 projected, past 100 % of its tier's $20; Alpha's own budget is far off.
    assert _notices() == [("beta", 80), ("beta", 100)]
    assert BudgetNotice.objects.filter(budget_source="standard").count() == 2


def test_a_new_month_raises_its_notices_again(costs: SimpleNamespace) -> None:
    budget_set(actor=costs.finance, tenant=costs.tenant_b, monthly=Decimal("10.00"))
    budgets_check(today=TODAY)
    cost_world_next = Month(date(2026, 11, 1))
    from tests.insights.cost_factories import cost_day

    cost_day(costs, cost_world_next.start)
    budgets_check(today=cost_world_next.start + timedelta(days=1))
    assert BudgetNotice.objects.filter(tenant=costs.tenant_b).count() == 4


def test_budgets_are_audited_vendor_wide_not_in_the_tenants_log(costs: SimpleNamespace) -> None:
    budget_set(actor=costs.finance, tenant=costs.tenant_a, monthly=Decimal("99"))
    event = AuditEvent.objects.get(action="budget.set")
    assert event.tenant is None
    assert event.after == {"monthly": "99.00"}
    budget_set(actor=costs.finance, tenant=costs.tenant_a, monthly=None)
    assert not Budget.objects.exists()
    assert AuditEvent.objects.filter(action="budget.remove").exists()


def test_the_budget_pages_save_and_refuse_with_reasons(client: Any, costs: SimpleNamespace) -> None:
    client.force_login(costs.finance)
    response = client.post(reverse("cost_budgets"), {"free": "", "standard": "250", "premium": "-3"})
    assert response.status_code == 200  # the form again, with the error next to the field
    assert response.context["form"].errors["premium"]
    assert 'value="250"' in response.content.decode()
    client.post(reverse("cost_budgets"), {"standard": "250"})
    assert Budget.objects.get(tier="standard").monthly == Decimal("250.00")
    url = reverse("cost_tenant_budget", args=[costs.tenant_a.pk])
    assert client.post(url, {"monthly": "75.5"}).status_code == 302
    assert Budget.objects.get(tenant=costs.tenant_a).monthly == Decimal("75.50")
    assert client.post(url, {"monthly": "lots"}).status_code == 302  # refused with a message, nothing saved
    assert Budget.objects.get(tenant=costs.tenant_a).monthly == Decimal("75.50")
    client.force_login(costs.admin_a)
    assert client.post(url, {"monthly": "1"}).status_code == 403


def test_rates_are_dated_history(client: Any, costs: SimpleNamespace) -> None:
    client.force_login(costs.finance)
    data = {"currency": "EUR", "valid_from": "2026-01-01", "usd": "1.0812", "source": "ECB"}
    assert client.post(reverse("cost_rates"), data).status_code == 302
    again = client.post(reverse("cost_rates"), {**data, "usd": "1.2"})
    assert again.status_code == 200
    assert "rates are kept as history" in again.content.decode()
    assert ExchangeRate.objects.get().usd == Decimal("1.081200")
    usd = client.post(reverse("cost_rates"), {**data, "currency": "USD"})
    assert usd.context["form"].errors["currency"]


def test_the_overview_lists_the_months_notices(client: Any, costs: SimpleNamespace) -> None:
    budget_set(actor=costs.finance, tenant=costs.tenant_a, monthly=Decimal("100"))
    BudgetNotice.objects.create(
        tenant=costs.tenant_a, month=costs.previous.start, threshold=100, budget=Decimal("100"),
        budget_source="tenant", spent=Decimal("155.31"), projected=Decimal("155.31"), days_counted=31,
    )  # fmt: skip
    client.force_login(costs.operator)
    body = client.get(reverse("cost_overview"), {"month": costs.previous.key}).content.decode()
    assert "Budget notices" in body
    assert "$155.31" in body
    assert client.get(reverse("cost_notices")).status_code == 200


def test_the_demo_seed_gives_rates_budgets_and_acmes_sharing_once(costs: SimpleNamespace) -> None:
    from insights.finance.demo import demo_finance_seed
    from insights.models_finance import CostSharing
    from tests.factories import make_tenant

    acme = make_tenant(name="Acme", slug="acme")
    first = demo_finance_seed()
    assert first["rates"] == 4
    assert demo_finance_seed() == {"rates": 0, "notices": 0}
    assert CostSharing.objects.get(tenant=acme).visible
    assert Budget.objects.filter(tenant=None).count() == 2


def test_a_free_plan_that_costs_something_is_flagged(client: Any, costs: SimpleNamespace) -> None:
    costs.tenant_b.plan_price = Decimal("0.00")
    costs.tenant_b.save()
    client.force_login(costs.finance)
    response = client.get(reverse("cost_overview"), {"month": costs.previous.key, "below": "-100"})
    beta = next(row for row in response.context["page"].object_list if row.slug == "beta")
    assert beta.margin_pct is None
    assert beta.low
