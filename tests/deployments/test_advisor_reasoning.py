"""The advisor reasons consistently, bounds every number it is given, says what to relax when nothing
fits, and prints prices as people read them (issue 9, item 9)."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest

from deployments.advisor import NEED_BOUNDS, Needs, NeedsError, advise, relaxations
from deployments.forms_catalogue import AdvisorForm
from tenants.formatting import money_text

FORM = {
    "latency": "milliseconds",
    "payload_mb": "0.1",
    "requests_per_day": "10000",
    "peak_rps": "1",
    "traffic": "steady",
    "tenants": "1",
    "own_model": "on",
    "same_container": "on",
    "inference_ms": "100",
    "isolation": "",
}


def _page(client: Any, world: SimpleNamespace, **changes: Any) -> Any:
    client.force_login(world.operator)
    data = {k: v for k, v in {**FORM, **changes}.items() if v is not None}
    response = client.get("/advisor/", data)
    assert response.status_code == 200
    return response


def _by_kind(needs: Needs) -> dict[str, Any]:
    return {advice.kind: advice for advice in advise(needs)}


def test_async_without_cold_starts_keeps_one_instance_warm_instead_of_being_refused() -> None:
    warm = _by_kind(Needs(latency="minutes", cold_starts_ok=False, traffic="spiky"))["async"]
    assert warm.valid
    assert "autoscaling minimum 1 keeps one instance warm, so no cold starts" in warm.reasons[0]
    assert not any("cold starts, which" in reason for reason in warm.reasons)
    cold = _by_kind(Needs(latency="minutes", cold_starts_ok=True, traffic="spiky"))["async"]
    assert "scales to 0 between bursts" in cold.reasons[0]
    assert "cold starts after it scales to zero (autoscaling minimum 0)" in cold.reasons
    assert cold.monthly < warm.monthly  # scaling to zero is what saves money, and what brings cold starts


def test_kinds_with_inherent_cold_starts_are_still_refused_when_they_are_not_accepted() -> None:
    by_kind = _by_kind(Needs(tenants=10, cold_starts_ok=False, isolation="bridge"))
    assert not by_kind["multi_model"].valid
    assert "loaded from S3 on its first request" in by_kind["multi_model"].reasons[0]
    assert not _by_kind(Needs(cold_starts_ok=False))["serverless"].valid


def test_with_any_isolation_no_reason_speaks_of_an_isolation_nobody_chose(
    client: Any, world: SimpleNamespace
) -> None:
    page = _page(client, world, tenants="1", own_model=None).content.decode()
    assert not re.search(r"(Silo|Bridge|Pool) tenant", page)
    shared = _by_kind(Needs(tenants=1, own_model=False, cold_starts_ok=True))
    assert shared["multi_model"].reasons == [
        "Each tenant of a multi-model endpoint brings its own model; these tenants share one."
    ]


def test_a_chosen_isolation_is_named_in_the_refusal() -> None:
    by_kind = _by_kind(Needs(isolation="silo"))
    assert "For a Silo tenant choose" in by_kind["multi_model"].reasons[0]


def test_a_refused_kind_lists_everything_that_stops_it() -> None:
    realtime = _by_kind(Needs(payload_mb=50, inference_ms=90_000, peak_rps=0.5))["realtime"]
    assert not realtime.valid
    assert any("exceed the 6 MB limit" in reason for reason in realtime.reasons)
    assert any("Inferences of 90 s exceed the 60 s per request" in reason for reason in realtime.reasons)


def test_serverless_is_refused_beyond_its_max_concurrency() -> None:
    serverless = _by_kind(
        Needs(peak_rps=500, requests_per_day=1_000_000, inference_ms=1000, cold_starts_ok=True)
    )
    assert not serverless["serverless"].valid
    assert "500 requests in flight" in serverless["serverless"].reasons[0]
    assert "at most 200 at once (MaxConcurrency)" in serverless["serverless"].reasons[0]


def test_when_nothing_fits_the_page_says_which_change_would(client: Any, world: SimpleNamespace) -> None:
    response = _page(client, world, payload_mb="50", isolation="silo")
    assert not any(advice.valid for advice in response.context["results"])
    page = response.content.decode()
    assert "Nothing fits these needs" in page
    changes = {r["change"]: r for r in response.context["relaxations"]}
    assert [a.kind for a in changes["Accept answers within minutes"]["fits"]] == ["async"]
    assert "realtime" in [a.kind for a in changes["Keep payloads to 6 MB or less"]["fits"]]
    assert "Leave the isolation model open (Any)" not in changes  # no other isolation takes 50 MB in ms
    followed = client.get("/advisor/?" + changes["Accept answers within minutes"]["query"])
    assert [a.kind for a in followed.context["results"] if a.valid] == ["async"]


def test_relaxations_name_the_isolation_when_only_it_stands_in_the_way() -> None:
    needs = Needs(isolation="bridge", own_model=False, latency="milliseconds", tenants=5)
    assert not any(advice.valid for advice in advise(needs))
    changes = {r.change: r for r in relaxations(needs)}
    assert [a.kind for a in changes["Leave the isolation model open (Any)"].fits] == ["realtime"]
    assert [a.kind for a in changes["Give each tenant its own model"].fits] == ["multi_container"]
    assert [a.kind for a in changes["Accept answers within minutes"].fits] == ["async"]


def test_a_peak_below_the_days_average_is_refused(client: Any, world: SimpleNamespace) -> None:
    response = _page(client, world, requests_per_day="864000", peak_rps="1")
    assert response.context["results"] is None
    assert response.context["form"].errors["peak_rps"] == [
        "A peak of 1 requests per second is below the day's average (864,000 requests a day is 10 per "
        "second): raise the peak or lower the requests per day."
    ]
    with pytest.raises(NeedsError, match="below the day's average"):
        Needs(requests_per_day=864_000, peak_rps=1)
    assert Needs(requests_per_day=864_000, peak_rps=10).peak_rps == 10


@pytest.mark.parametrize("name", ["peak_rps", "inference_ms", "payload_mb", "requests_per_day", "tenants"])
@pytest.mark.parametrize("value", ["1e30", "-1", "inf", "nan", "99999999999999999999999999999"])
def test_numbers_out_of_bounds_are_refused_on_the_page_not_a_500(
    client: Any, world: SimpleNamespace, name: str, value: str
) -> None:
    response = _page(client, world, **{name: value})
    assert response.context["results"] is None
    assert response.context["form"].errors[name]


@pytest.mark.parametrize("name", ["peak_rps", "inference_ms", "payload_mb", "tenants", "run_minutes"])
def test_needs_refuse_numbers_out_of_bounds(name: str) -> None:
    bound = NEED_BOUNDS[name]
    with pytest.raises(NeedsError, match=re.escape(bound.text())):
        Needs(**{name: bound.maximum * 10})
    with pytest.raises(NeedsError):
        Needs(**{name: float("nan")})


def test_every_need_at_its_bound_is_advised_on(client: Any, world: SimpleNamespace) -> None:
    at_most = {name: f"{bound.maximum:.0f}" for name, bound in NEED_BOUNDS.items() if name in FORM}
    for latency in ("periodic", "minutes", "milliseconds"):
        response = _page(client, world, latency=latency, cold_starts_ok="on", **at_most)
        assert response.context["results"], response.context["form"].errors
        assert "e+" not in response.content.decode()
    assert _page(client, world, payload_mb="0", requests_per_day="0", peak_rps="0").context["results"]


def test_prices_never_print_in_exponent_notation(client: Any, world: SimpleNamespace) -> None:
    page = _page(client, world, cold_starts_ok="on").content.decode()
    assert "pay per use" in page
    assert "at $0.00002/GB-s" in page
    assert not re.search(r"\$[0-9.]+e-?[0-9]", page)
    assert "at $0.115/h" in page


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (2e-05, True, "$0.00002"),
        (0.0000166667, True, "$0.0000166667"),
        (0.115, True, "$0.115"),
        (3, True, "$3.00"),
        (2e-05, False, "$0.00"),
        (1234.5, False, "$1,234.50"),
        (1e30, False, "$1,000,000,000,000,000,000,000,000,000,000.00"),
        (None, False, "—"),
        (float("nan"), False, "—"),
    ],
)
def test_money_text_never_uses_an_exponent(value: Any, unit: bool, text: str) -> None:
    assert money_text(value, unit=unit) == text


def test_the_form_offers_links_that_keep_the_other_needs() -> None:
    form = AdvisorForm(data={**FORM, "payload_mb": "50", "isolation": "silo"})
    assert form.is_valid()
    query = form.query_with({"cold_starts_ok": True, "own_model": False, "isolation": None})
    assert "cold_starts_ok=on" in query
    assert "own_model" not in query
    assert "isolation=&" in query or query.endswith("isolation=")
    assert "payload_mb=50" in query
