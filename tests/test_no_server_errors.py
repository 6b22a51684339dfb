"""Every URL an operator can type, with bad or out-of-range parameters, answers without a 500."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from tests.test_access_matrix import ALL_PATTERNS, _finished_job, build_kwargs

# Values a person can type into each kind of URL parameter that name nothing that exists.
BAD_VALUES: dict[str, list[Any]] = {
    "int": [1, 7, 10**30],
    "dbid": [999_999_999, 10**17],
    "uuid": ["00000000-0000-0000-0000-000000000000"],
    "str": ["nonexistent", "x" * 300, "%25", ".."],
    "path": ["no/such/job", "x" * 300],
}


def _converter_kind(pattern: URLPattern, name: str) -> str:
    converter = pattern.pattern.converters[name]
    return {
        "IntConverter": "int",
        "DatabaseIdConverter": "dbid",
        "UUIDConverter": "uuid",
        "PathConverter": "path",
    }.get(type(converter).__name__, "str")


def _bad_urls(pattern: URLPattern, name: str, world: SimpleNamespace) -> list[str]:
    """The pattern's URL with one parameter at a time replaced by each bad value."""
    good = build_kwargs(pattern, world, world.tenant_a)
    urls = []
    for param in pattern.pattern.converters:
        for value in BAD_VALUES[_converter_kind(pattern, param)]:
            urls.append(reverse(name, kwargs={**good, param: value}))
    return urls


# What the pages read from the query string, each set to what a person might paste or mistype.
QUERY_KEYS = ["page", "q", "status", "isolation", "sort", "kind", "tenant", "action", "month", "below"]
BAD_QUERY_VALUES = ["99999999999999999999999", "-1", "1e30", "nan", "\x00", "x" * 2000, "'\"<>%"]


def _bad_queries() -> list[dict[str, str]]:
    return [dict.fromkeys(QUERY_KEYS, value) for value in BAD_QUERY_VALUES]


PARAMETERISED = [(name, pattern) for name, pattern in ALL_PATTERNS if pattern.pattern.converters]


@pytest.mark.parametrize(("name", "pattern"), PARAMETERISED, ids=[name for name, _ in PARAMETERISED])
def test_bad_parameters_never_answer_500(world: SimpleNamespace, name: str, pattern: URLPattern) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(world.operator)
    world.rq_job = _finished_job()
    failures = []
    for url in _bad_urls(pattern, name, world):
        status = client.get(url).status_code
        if status >= 500:
            failures.append(f"{url[:120]} → {status}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(("name", "pattern"), ALL_PATTERNS, ids=[name for name, _ in ALL_PATTERNS])
def test_bad_query_strings_never_answer_500(world: SimpleNamespace, name: str, pattern: URLPattern) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(world.operator)
    world.rq_job = _finished_job()
    url = reverse(name, kwargs=build_kwargs(pattern, world, world.tenant_a))
    failures = []
    for query in _bad_queries():
        status = client.get(url, query).status_code
        if status >= 500:
            failures.append(f"{url}?{next(iter(query.values()))[:40]!r}… → {status}")
    assert not failures, "\n".join(failures)


def test_a_queue_that_does_not_exist_is_a_404_for_operators_and_a_403_for_others(
    client: Any, world: SimpleNamespace
) -> None:
    client.force_login(world.finance)
    assert client.get("/rq/queues/1/").status_code == 403  # the role check comes first: nothing leaks
    client.force_login(world.operator)
    response = client.get("/rq/queues/1/")
    assert response.status_code == 404
    assert "There is nothing here" in response.content.decode()
    assert client.get("/rq/queues/0/").status_code == 200
