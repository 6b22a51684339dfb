"""404, 400 and 500 answers are pages of the product, in its layout, also with DEBUG on for 404."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client


@pytest.fixture
def debug(settings: Any) -> Any:
    settings.DEBUG = True  # as `make run` runs
    return settings


def test_an_unknown_address_shows_the_products_404_page_with_debug_on(
    client: Any, world: SimpleNamespace, debug: Any
) -> None:
    client.force_login(world.operator)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert next(t.name for t in response.templates) == "404.html"
    page = response.content.decode()
    assert "There is nothing here" in page
    assert 'class="sidebar"' in page  # the signed-in layout, with the operator's navigation
    assert "URLconf" not in page  # not Django's technical page listing every pattern


def test_a_missing_object_shows_the_products_404_page_with_debug_on(
    client: Any, world: SimpleNamespace, debug: Any
) -> None:
    client.force_login(world.operator)
    response = client.get("/tenants/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404
    assert "There is nothing here" in response.content.decode()


def test_a_signed_out_visitor_gets_the_404_page_in_the_sign_in_layout(
    client: Any, db: None, debug: Any
) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Sign in" in response.content.decode()


def test_a_missing_trailing_slash_still_redirects_with_debug_on(
    client: Any, world: SimpleNamespace, debug: Any
) -> None:
    client.force_login(world.operator)
    response = client.get("/tenants")
    assert response.status_code == 301
    assert response["Location"] == "/tenants/"


def test_the_404_page_is_the_products_with_debug_off(client: Any, world: SimpleNamespace) -> None:
    client.force_login(world.operator)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert 'class="sidebar"' in response.content.decode()


def test_a_nul_in_the_query_string_is_a_bad_request(client: Any, world: SimpleNamespace) -> None:
    client.force_login(world.operator)
    response = client.get("/tenants/", {"q": "acme\x00"})
    assert response.status_code == 400
    assert "Bad request" in response.content.decode()


def test_a_server_error_shows_the_products_500_page(world: SimpleNamespace, monkeypatch: Any) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the advisor broke")

    monkeypatch.setattr("deployments.views_catalogue.advise", broken)
    client = Client(raise_request_exception=False)
    client.force_login(world.operator)
    response = client.get("/advisor/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page
    assert "css/app.css" in page  # the product's stylesheet and layout
    assert 'class="auth-page"' in page
    assert "the advisor broke" not in page
