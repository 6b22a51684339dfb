"""The tenant list as an operator reads it: an onboarding date only once onboarding is over, and long
names cut to their column with the whole name on hover."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest
from django.template import Context, Template
from django.urls import reverse

from tenants import services
from tests.factories import make_tenant


@pytest.fixture
def operator_client(client: Any, world: SimpleNamespace) -> Any:
    client.force_login(world.operator)
    return client


def _row(page: str, slug: str) -> str:
    """The table row of the tenant whose slug is `slug`."""
    rows = re.findall(r"<tr>.*?</tr>", page, flags=re.S)
    return next(row for row in rows if f">{slug}</div>" in row)


def test_the_onboarded_date_waits_for_onboarding_to_finish(
    operator_client: Any, world: SimpleNamespace
) -> None:
    tenant = make_tenant(name="Gamma Labs", slug="gamma", status="onboarding")
    row = _row(operator_client.get(reverse("tenant_list")).content.decode(), "gamma")
    assert "in progress" in row
    assert not re.search(r"\d{1,2} \w{3} \d{4}", row)  # no date while it is still onboarding

    services.tenant_transition(actor=world.operator, tenant=tenant, to="active")
    onboarded = tenant.onboarded_at
    assert onboarded is not None
    row = _row(operator_client.get(reverse("tenant_list")).content.decode(), "gamma")
    assert f"{onboarded:%-d %b %Y}" in row
    services.tenant_transition(actor=world.operator, tenant=tenant, to="suspended", reason="Unpaid")
    services.tenant_transition(actor=world.operator, tenant=tenant, to="active", reason="Paid")
    tenant.refresh_from_db()
    assert tenant.onboarded_at == onboarded  # resuming is not onboarding again

    detail = operator_client.get(reverse("tenant_detail", args=[tenant.pk])).content.decode()
    assert f"<dt>Onboarded</dt><dd>{onboarded:%-d %b %Y}" in detail


def test_the_list_sorts_by_onboarding_with_the_unfinished_last(
    operator_client: Any, world: SimpleNamespace
) -> None:
    make_tenant(name="Gamma Labs", slug="gamma", status="onboarding")
    for sort in ("onboarded", "-onboarded"):
        page = operator_client.get(reverse("tenant_list"), {"sort": sort}).content.decode()
        slugs = re.findall(r'<div class="muted small mono">([a-z-]+)</div>', page)
        assert slugs[-1] == "gamma", (sort, slugs)


def test_a_long_name_is_clipped_with_the_whole_name_on_hover(
    operator_client: Any, world: SimpleNamespace
) -> None:
    name = "L" * 120
    make_tenant(name=name, slug="long")
    row = _row(operator_client.get(reverse("tenant_list")).content.decode(), "long")
    assert f'<span class="clip" title="{name}">{name}</span>' in row


def test_the_clip_filter_escapes_what_it_shows() -> None:
    rendered = Template("{% load tenant_tags %}{{ value|clip }}").render(Context({"value": '<b>"x"</b>'}))
    expected = (
        '<span class="clip" title="&lt;b&gt;&quot;x&quot;&lt;/b&gt;">&lt;b&gt;&quot;x&quot;&lt;/b&gt;</span>'
    )
    assert rendered == expected
