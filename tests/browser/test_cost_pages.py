"""The cost pages in a real browser: the charts draw under the Content-Security-Policy, the overview's
search narrows the table in place, and a shared endpoint's day-by-day split loads when opened."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_journeys import _sign_in
from tests.insights.cost_factories import cost_world

pytestmark = pytest.mark.django_db(transaction=True)


def test_finance_reads_the_overview_and_a_tenants_split(
    page: Any, live_server: Any, world: SimpleNamespace, screenshot: Any
) -> None:
    costs = cost_world(world)
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    _sign_in(page, live_server.url, "fred")
    page.click("nav >> text=Costs")
    page.goto(f"{live_server.url}/costs/?month={costs.previous.key}")
    page.wait_for_selector("[data-figure=kinds-fig] .main-svg")
    assert page.locator("#cost-table tbody tr").count() == 2
    screenshot("cost-overview")
    page.fill("input[name=q]", "beta")
    expect(page.locator("#cost-table tbody tr")).to_have_count(1)  # htmx swapped the table in place
    page.click("#cost-table >> text=Beta Corp")
    page.wait_for_selector("[data-figure=daily-fig] .main-svg")
    page.wait_for_selector("[data-figure=months-fig] .main-svg")
    page.click("details.share-days summary")
    page.wait_for_selector("details.share-days table")
    assert "25.00 %" in page.inner_text("details.share-days")
    screenshot("cost-tenant")
    assert problems == []


def test_a_budget_crossing_rings_finances_bell(
    page: Any, live_server: Any, world: SimpleNamespace, screenshot: Any
) -> None:
    from datetime import date
    from decimal import Decimal

    from insights.finance.budgets import budgets_check
    from insights.finance.services import budget_set

    today = date(2026, 10, 11)
    costs = cost_world(world, today=today)
    budget_set(actor=costs.finance, tenant=costs.tenant_a, monthly=Decimal("150.00"))  # 104 % projected
    budgets_check(today=today)
    _sign_in(page, live_server.url, "fred")
    expect(page.locator("a.bell .bell-count")).to_have_text("2")
    page.click("a.bell")
    expect(page.locator(".notice-list li.unread")).to_have_count(2)
    expect(page.locator(".notice-list")).to_contain_text("Alpha Corp is heading past 100 % of its budget")
    screenshot("notices-budget")
    page.click("text=Mark all read")
    expect(page.locator("a.bell .bell-count")).to_have_count(0)
    page.click("text=Alpha Corp is heading past 100 % of its budget in October 2026")
    expect(page.locator("h1")).to_contain_text("Alpha Corp")
