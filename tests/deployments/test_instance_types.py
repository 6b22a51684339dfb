"""Instance types per use: botocore's enum ∩ the catalogue, read alike by forms, rules, advisor, pricing."""

from __future__ import annotations

import functools
import json
import re

import botocore.session
import pytest

from deployments import catalogue, pricing
from deployments.advisor import Needs, advise
from deployments.demo import DEMO_DEPLOYMENTS
from deployments.forms import DeploymentForm
from deployments.rules import INSTANCE_USES, KIND_RULES, settings_normalise, settings_problems

# The botocore shape that carries the instance type of each priced use (CreateEndpointConfig's
# ProductionVariants[].InstanceType, CreateTransformJob's TransformResources.InstanceType).
SHAPE_OF_PRICE = {
    "realtime": "ProductionVariantInstanceType",
    "async": "ProductionVariantInstanceType",
    "transform": "TransformInstanceType",
}
NOT_FOR_TRANSFORM = [
    "ml.t2.medium",
    "ml.t2.large",
    "ml.t2.xlarge",
    "ml.c5.large",
    "ml.r5.large",
    "ml.r5.xlarge",
]


@functools.cache
def _aws_enum(shape: str) -> frozenset[str]:
    model = botocore.session.get_session().get_service_model("sagemaker")
    return frozenset(model.shape_for(shape).enum)


def test_the_catalogue_prices_each_use_only_on_types_aws_accepts_for_it() -> None:
    data = json.loads(catalogue.CATALOGUE_PATH.read_text())
    for region, body in data["regions"].items():
        for instance_type, entry in body["instances"].items():
            for price, shape in SHAPE_OF_PRICE.items():
                if f"{price}_per_hour" in entry:
                    assert instance_type in _aws_enum(shape), f"{region}: {instance_type} {price}"


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "us-west-2"])
def test_offered_types_are_the_enum_intersected_with_the_priced_types(region: str) -> None:
    transform = catalogue.offered("transform", region)
    assert transform <= _aws_enum("TransformInstanceType")
    assert transform.isdisjoint(NOT_FOR_TRANSFORM)
    assert {"ml.m5.large", "ml.c5.xlarge", "ml.g5.xlarge"} <= transform
    realtime = catalogue.offered("realtime", region)
    assert realtime <= _aws_enum("ProductionVariantInstanceType")
    assert {"ml.t2.medium", "ml.c5.large", "ml.g5.xlarge", "ml.inf2.xlarge"} <= realtime


def test_multi_model_is_offered_on_cpu_instances_only() -> None:
    multi_model = catalogue.offered("multi_model")
    assert "ml.m5.xlarge" in multi_model
    assert not {t for t in multi_model if re.match(r"ml\.(g|p|inf|trn)\d", t)}
    accelerated = catalogue.offered("realtime") - multi_model
    assert accelerated == {
        "ml.g4dn.xlarge",
        "ml.g5.xlarge",
        "ml.g5.2xlarge",
        "ml.p3.2xlarge",
        "ml.inf2.xlarge",
    }


def test_pricing_refuses_a_use_aws_does_not_offer() -> None:
    assert pricing.hourly("ml.t2.medium", "realtime") > 0
    with pytest.raises(pricing.NotOffered, match="not offered for batch transform"):
        pricing.hourly("ml.t2.medium", "transform")


def test_a_stored_deployment_on_a_type_no_longer_offered_costs_nothing_and_says_why() -> None:
    values = {"schedule": "daily", "run_minutes": 15, "instance_type": "ml.t2.medium", "instance_count": 1}
    estimate = pricing.deployment_monthly("batch", values)
    assert estimate.monthly == 0
    assert "not offered for batch transform" in estimate.basis


def _options(form: DeploymentForm) -> dict[str, bool]:
    """instance type → whether the form offers it (an enabled option)."""
    offered = {}
    for tag in re.findall(r"<option[^>]*>", str(form["instance_type"])):
        value = re.search(r'value="([^"]*)"', tag)
        if value:
            offered[value.group(1)] = " disabled" not in tag
    return offered


def test_the_form_offers_each_kind_only_its_types() -> None:
    batch = _options(DeploymentForm(initial={"kind": "batch"}))
    assert batch["ml.m5.large"]
    assert not batch["ml.t2.medium"]
    realtime = _options(DeploymentForm(initial={"kind": "realtime"}))
    assert realtime["ml.t2.medium"]
    assert realtime["ml.g5.xlarge"]
    multi_model = _options(DeploymentForm(initial={"kind": "multi_model"}))
    assert multi_model["ml.m5.xlarge"]
    assert not multi_model["ml.g5.xlarge"]
    assert not multi_model["ml.inf2.xlarge"]
    offered = {t for t, enabled in multi_model.items() if enabled}
    assert offered == set(catalogue.offered("multi_model"))


def test_the_advisor_never_proposes_a_gpu_multi_model_endpoint() -> None:
    needs = Needs(
        tenants=500,
        own_model=True,
        cold_starts_ok=True,
        peak_rps=0.2,
        isolation="bridge",
        instance_type="ml.g5.xlarge",
    )
    by_kind = {a.kind: a for a in advise(needs)}
    assert not by_kind["multi_model"].valid
    assert "CPU instances only" in by_kind["multi_model"].reasons[0]
    assert "Triton" in by_kind["multi_model"].reasons[0]
    assert by_kind["multi_container"].valid  # GPU containers may share an endpoint


def test_the_rules_table_and_the_uses_name_the_same_instance_based_kinds() -> None:
    assert {kind for kind, rule in KIND_RULES.items() if rule.instance_based} == set(INSTANCE_USES)
    assert set(INSTANCE_USES.values()) <= set(catalogue.USES)


def test_the_advisor_refuses_batch_on_a_type_transform_jobs_do_not_run_on() -> None:
    by_kind = {a.kind: a for a in advise(Needs(latency="periodic", instance_type="ml.t2.medium"))}
    assert not by_kind["batch"].valid
    assert "not offered for batch transform" in by_kind["batch"].reasons[0]


def test_the_demo_fleet_uses_only_offered_types() -> None:
    for name, kind, *_, settings, _members in DEMO_DEPLOYMENTS:
        if kind in INSTANCE_USES:
            values = settings_normalise(kind, settings)
            assert "instance_type" not in settings_problems(kind, values), name
