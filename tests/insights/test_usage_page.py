"""The usage page: each tenant's own API usage per day or hour, a chart and the numbers behind it."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from deployments.models import Deployment, UsageMinute
from insights.staticfiles import PLOTLY_JS, PlotlyFinder
from tenants.models import Tenant


def _deployment(tenant: Tenant | None, name: str, kind: str = "realtime") -> Deployment:
    return Deployment.objects.create(
        tenant=tenant, name=name, kind=kind, isolation="silo" if tenant else "pool", aws_name=f"sa-{name}"
    )


def _usage(tenant: Tenant, deployment: Deployment, minute: datetime, n: int, **kw: Any) -> None:
    values = {"bytes_in": n * 1000, "bytes_out": n * 100, "latency_ms_sum": n * 4.0, "latency_ms_max": 9.0}
    UsageMinute.objects.create(
        tenant=tenant, deployment=deployment, minute=minute, invocations=n, **{**values, **kw}
    )


@pytest.fixture
def usage(world: SimpleNamespace) -> SimpleNamespace:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    own = _deployment(world.tenant_a, "alpha-endpoint")
    shared = _deployment(None, "pool-multi-model", kind="multi_model")
    theirs = _deployment(world.tenant_b, "beta-endpoint")
    _usage(world.tenant_a, own, now - timedelta(hours=2), 120, errors_throttled=3, errors_model=2)
    _usage(world.tenant_a, own, now - timedelta(days=3), 80)
    _usage(world.tenant_a, shared, now - timedelta(hours=1), 40, latency_ms_max=31.0)
    _usage(world.tenant_b, theirs, now - timedelta(hours=1), 999_999)
    _usage(world.tenant_b, shared, now - timedelta(hours=1), 777_777)
    return SimpleNamespace(own=own, shared=shared, theirs=theirs)


def _page(client: Any, user: Any, tenant: Tenant, by: str = "") -> Any:
    client.force_login(user)
    return client.get(reverse("tenant_usage", kwargs={"tenant_id": tenant.pk}), {"by": by} if by else {})


def _figure(response: Any) -> dict[str, Any]:
    html = response.content.decode()
    start = html.index('<script id="usage-fig" type="application/json">') + len(
        '<script id="usage-fig" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def test_a_tenant_member_sees_their_own_usage_only(client: Any, world: SimpleNamespace, usage: Any) -> None:
    response = _page(client, world.viewer_a, world.tenant_a)
    assert response.status_code == 200
    html = response.content.decode()
    assert "240" in html
    assert "999,999" not in html
    assert "777,777" not in html
    # Members see how their model is served, not the vendor's deployment names.
    assert "Real-time endpoint (dedicated)" in html
    assert "(shared)" in html
    assert "alpha-endpoint" not in html
    assert "pool-multi-model" not in html
    bars = [
        trace
        for trace in _figure(response)["data"]
        if trace["type"] == "bar" and trace.get("yaxis", "y") == "y"
    ]
    assert sum(sum(trace["y"]) for trace in bars) == 240


def test_operators_and_finance_see_any_tenant(client: Any, world: SimpleNamespace, usage: Any) -> None:
    for user in (world.operator, world.finance):
        html = _page(client, user, world.tenant_b).content.decode()
        assert "1,777,776" in html
        assert "beta-endpoint" in html
        assert "alpha-endpoint" not in html


def test_per_hour_shows_the_last_two_days(client: Any, world: SimpleNamespace, usage: Any) -> None:
    response = _page(client, world.admin_a, world.tenant_a, by="hour")
    html = response.content.decode()
    assert "Per hour · last 48 hours" in html
    assert "160" in html  # 120 + 40 in the last two days; the 80 of three days ago is left out
    bars = [
        trace
        for trace in _figure(response)["data"]
        if trace["type"] == "bar" and trace.get("yaxis", "y") == "y"
    ]
    assert sum(sum(trace["y"]) for trace in bars) == 160
    assert "(4%)" in html  # 5 errors of 120 on the endpoint's hour


def test_an_unknown_grouping_falls_back_to_days(client: Any, world: SimpleNamespace, usage: Any) -> None:
    response = _page(client, world.admin_a, world.tenant_a, by="fortnight")
    assert response.status_code == 200
    assert _figure(response)["layout"]["yaxis"]["title"]["text"] == "Predictions per day"


def test_the_table_behind_the_chart(client: Any, world: SimpleNamespace, usage: Any) -> None:
    html = _page(client, world.operator, world.tenant_a).content.decode()
    assert "By deployment" in html
    assert "31.0 ms" in html  # max latency on the shared endpoint
    assert "4.0 ms" in html  # mean latency: sum / invocations


def test_an_empty_period_says_so(client: Any, world: SimpleNamespace) -> None:
    html = _page(client, world.admin_b, world.tenant_b).content.decode()
    assert "No predictions in this period" in html
    assert "usage-fig" not in html


def test_the_page_loads_plotly_locally_and_no_inline_script(
    client: Any, world: SimpleNamespace, usage: Any
) -> None:
    html = _page(client, world.admin_a, world.tenant_a).content.decode()
    assert '/static/vendor/plotly.min.js"' in html
    # Every script and stylesheet from this site (not "cdn" anywhere: the random CSRF token may hold it).
    assets = re.findall(r'<script[^>]*\bsrc="([^"]+)"', html) + re.findall(
        r'<link[^>]*\bhref="([^"]+)"', html
    )
    assert assets
    assert all(asset.startswith("/") and not asset.startswith("//") for asset in assets), assets
    scripts = html.split("<script")[1:]
    inline = [s for s in scripts if "src=" not in s.split(">", 1)[0] and 'type="application/json"' not in s]
    assert inline == []


def test_plotly_js_is_a_static_file() -> None:
    found = finders.find(PLOTLY_JS)
    assert found
    assert found.endswith("plotly.min.js")
    assert [path for path, _ in PlotlyFinder().list([])] == ["plotly.min.js"]


def test_the_page_costs_a_few_queries(
    client: Any, world: SimpleNamespace, usage: Any, django_assert_max_num_queries: Any
) -> None:
    client.force_login(world.admin_a)
    with django_assert_max_num_queries(8):
        client.get(reverse("tenant_usage", kwargs={"tenant_id": world.tenant_a.pk}))


def test_the_tenant_page_and_navigation_link_to_it(client: Any, world: SimpleNamespace, usage: Any) -> None:
    client.force_login(world.viewer_a)
    url = reverse("tenant_usage", kwargs={"tenant_id": world.tenant_a.pk})
    html = client.get(reverse("tenant_detail", kwargs={"tenant_id": world.tenant_a.pk})).content.decode()
    assert html.count(f'href="{url}"') == 2  # the navigation and the usage block
    assert "API usage · last 30 days" in html
