"""Every invalid combination of the rules table is refused by the form and by the service, saying why."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from deployments.forms import DeploymentForm, MemberChangeForm, MemberJoinForm
from deployments.models import ModelPackage
from deployments.rules import KIND_RULES
from deployments.services import (
    Draft,
    deployment_apply,
    deployment_member_change,
    deployment_member_join,
)
from tests.deployments.conftest import make_package
from tests.factories import make_tenant


def _package(tenant: Any, framework: str = "xgboost") -> ModelPackage:
    return make_package(tenant, framework, key=tenant.slug if tenant else None)


# (case id, kind, tenant isolation or None for shared, settings, model: own/shared/other/none, message part)
INVALID = [
    ("serverless-in-bridge", "serverless", "bridge", {}, "own", "runs only in Silo"),
    ("serverless-in-pool", "serverless", "pool", {}, "own", "choose batch transform"),
    ("multi-model-in-silo", "multi_model", "silo", {}, "none", "runs only in Bridge or Pool"),
    ("multi-container-in-silo", "multi_container", "silo", {}, "none", "runs only in Bridge or Pool"),
    ("multi-model-without-a-tenant", "multi_model", "bridge", {}, "none", "at least one tenant's model"),
    ("realtime-in-bridge", "realtime", "bridge", {}, "own", "multi-model endpoint"),
    (
        "realtime-payload-too-large",
        "realtime",
        "silo",
        {"payload_mb": 10},
        "own",
        "use an asynchronous endpoint",
    ),
    ("serverless-payload-too-large", "serverless", "silo", {"payload_mb": 5}, "own", "exceed the 4 MB limit"),
    ("async-payload-too-large", "async", "silo", {"payload_mb": 1024 + 1}, "own", "batch transform"),
    (
        "batch-product-above-100",
        "batch",
        "silo",
        {"max_payload_mb": 20, "max_concurrent_transforms": 6},
        "own",
        "lower MaxConcurrentTransforms to 5",
    ),
    ("batch-payload-above-100", "batch", "silo", {"max_payload_mb": 101}, "own", "between 0 and 100"),
    (
        "batch-join-source-protobuf",
        "batch",
        "silo",
        {"join_source": "Input", "content_type": "application/x-recordio-protobuf"},
        "own",
        "only for CSV and JSON",
    ),
    ("batch-bad-split-type", "batch", "silo", {"split_type": "RecordIO"}, "own", "must be one of Line, None"),
    (
        "serverless-memory-off-step",
        "serverless",
        "silo",
        {"memory_mb": 1500},
        "own",
        "one of 1024, 2048, 3072, 4096, 5120, 6144",
    ),
    ("serverless-memory-too-big", "serverless", "silo", {"memory_mb": 8192}, "own", "between 1024 and 6144"),
    ("serverless-concurrency-0", "serverless", "silo", {"max_concurrency": 0}, "own", "between 1 and 200"),
    (
        "serverless-concurrency-201",
        "serverless",
        "silo",
        {"max_concurrency": 201},
        "own",
        "between 1 and 200",
    ),
    (
        "async-timeout-above-3600",
        "async",
        "silo",
        {"invocation_timeout_seconds": 3601},
        "own",
        "between 1 and 3600",
    ),
    (
        "async-min-above-max",
        "async",
        "silo",
        {"min_capacity": 3, "max_capacity": 2},
        "own",
        "cannot exceed the maximum",
    ),
    (
        "unknown-instance-type",
        "realtime",
        "silo",
        {"instance_type": "ml.z9.huge"},
        "own",
        "not offered in this region",
    ),
    ("no-model", "realtime", "silo", {}, "none", "needs a model package"),
    ("another-tenants-model", "realtime", "silo", {}, "other", "belongs to another tenant"),
    ("pool-realtime-own-model", "realtime", "pool", {}, "own-shared-deployment", "one shared model"),
    (
        "multi-model-unknown-version",
        "multi_model",
        "bridge",
        {"framework_version": "9.9"},
        "none",
        "Unknown xgboost version",
    ),
]


def _draft(kind: str, isolation: str, settings: dict[str, Any], model: str) -> Draft:
    tenant = make_tenant(isolation=isolation)
    shared = (
        KIND_RULES[kind].shared_in and isolation in KIND_RULES[kind].shared_in
    ) or model == "own-shared-deployment"
    package = {
        "own": lambda: _package(tenant),
        "own-shared-deployment": lambda: _package(tenant),
        "shared": lambda: _package(None),
        "other": lambda: _package(make_tenant()),
        "none": lambda: None,
    }[model]()
    return Draft(
        name="x",
        kind=kind,
        isolation=isolation,
        tenant=None if shared else tenant,
        model_package=package,
        settings=settings,
    )


def _form_data(draft: Draft) -> dict[str, Any]:
    data = {
        "uid": str(draft.uid),
        "name": draft.name,
        "kind": draft.kind,
        "isolation": draft.isolation,
        "tenant": draft.tenant.pk if draft.tenant else "",
        "model_package": draft.model_package.pk if draft.model_package else "",
    }
    return {**data, **draft.settings}


def _messages(errors: Any) -> str:
    return " ".join(str(m) for messages in errors.values() for m in messages)


@pytest.mark.parametrize(
    ("kind", "isolation", "settings", "model", "message"),
    [c[1:] for c in INVALID],
    ids=[c[0] for c in INVALID],
)
def test_the_service_refuses_it_and_says_why(
    db: None, kind: str, isolation: str, settings: dict[str, Any], model: str, message: str
) -> None:
    draft = _draft(kind, isolation, settings, model)
    with pytest.raises(ValidationError) as refused:
        deployment_apply(actor=None, draft=draft)
    assert message in _messages(refused.value.message_dict)


@pytest.mark.parametrize(
    ("kind", "isolation", "settings", "model", "message"),
    [c[1:] for c in INVALID],
    ids=[c[0] for c in INVALID],
)
def test_the_form_refuses_it_and_says_why(
    db: None, kind: str, isolation: str, settings: dict[str, Any], model: str, message: str
) -> None:
    form = DeploymentForm(data=_form_data(_draft(kind, isolation, settings, model)))
    assert not form.is_valid()
    assert message in _messages(form.errors)


def test_a_valid_draft_passes_the_form_and_gives_the_draft(db: None) -> None:
    tenant = make_tenant(isolation="silo")
    draft = Draft(
        name="ok",
        kind="serverless",
        isolation="silo",
        tenant=tenant,
        model_package=_package(tenant),
        settings={"memory_mb": 4096, "max_concurrency": 20},
    )
    form = DeploymentForm(data=_form_data(draft))
    assert form.is_valid(), form.errors
    assert form.draft().settings["memory_mb"] == 4096


def _shared(kind: str, members: list[Any], framework: str = "xgboost") -> Any:
    return deployment_apply(
        actor=None,
        draft=Draft(
            name="shared",
            kind=kind,
            isolation="bridge",
            members=tuple((t, _package(t, framework)) for t in members),
        ),
    )


def _join_refusals(deployment: Any, tenant: Any, package: Any) -> tuple[str, str]:
    form = MemberJoinForm(
        data={"tenant": tenant.pk, "model_package": package.pk if package else ""}, deployment=deployment
    )
    assert not form.is_valid()
    with pytest.raises(ValidationError) as refused:
        deployment_member_join(actor=None, deployment=deployment, tenant=tenant, model_package=package)
    return _messages(form.errors), _messages(refused.value.message_dict)


def test_a_multi_model_endpoint_refuses_a_second_image(db: None) -> None:
    deployment = _shared("multi_model", [make_tenant(isolation="bridge")])
    newcomer = make_tenant(isolation="bridge")
    for text in _join_refusals(deployment, newcomer, _package(newcomer, "sklearn")):
        assert "one container image for all its models" in text
        assert "multi-container" in text


def test_a_multi_container_endpoint_refuses_a_sixteenth_container(db: None) -> None:
    deployment = _shared("multi_container", [make_tenant(isolation="bridge") for _ in range(15)])
    newcomer = make_tenant(isolation="bridge")
    for text in _join_refusals(deployment, newcomer, _package(newcomer)):
        assert "at most 15 containers" in text


def test_a_silo_tenant_cannot_join_a_shared_endpoint(db: None, world: SimpleNamespace) -> None:
    deployment = _shared("multi_model", [make_tenant(isolation="bridge")])
    with pytest.raises(ValidationError, match="can join only Silo"):
        deployment_member_join(
            actor=None, deployment=deployment, tenant=world.tenant_a, model_package=_package(world.tenant_a)
        )


def test_a_multi_model_member_brings_its_own_model(db: None) -> None:
    deployment = _shared("multi_model", [make_tenant(isolation="bridge")])
    with pytest.raises(ValidationError, match="brings its own model"):
        deployment_member_join(
            actor=None,
            deployment=deployment,
            tenant=make_tenant(isolation="bridge"),
            model_package=_package(None),
        )


def test_the_form_creates_a_multi_container_endpoint_with_its_first_tenant(db: None) -> None:
    tenant = make_tenant(isolation="bridge")
    data = {
        "uid": "6a3f0e0c-1d8e-4c55-9d35-2d0b6a2c1f00",
        "name": "mce",
        "kind": "multi_container",
        "isolation": "bridge",
        "tenant": "",
        "model_package": "",
        "instance_type": "ml.m5.large",
    }
    refused = DeploymentForm(data=data)
    assert not refused.is_valid()
    assert "needs at least one tenant" in str(refused.errors["first_member"])
    package = _package(tenant)
    form = DeploymentForm(data={**data, "first_member": tenant.pk, "first_member_package": package.pk})
    assert form.is_valid(), form.errors
    deployment = deployment_apply(actor=None, draft=form.draft())
    assert list(deployment.members.values_list("target", flat=True)) == [tenant.slug]
    silo = make_tenant(isolation="silo")
    wrong = DeploymentForm(data={**data, "first_member": silo.pk, "first_member_package": _package(silo).pk})
    assert not wrong.is_valid()
    assert "can join only Silo" in str(wrong.errors["first_member"])


@pytest.mark.parametrize("kind", ["multi_model", "multi_container"])
def test_a_shared_endpoint_changes_its_settings_without_naming_a_first_tenant_again(
    db: None, kind: str
) -> None:
    deployment = _shared(kind, [make_tenant(isolation="bridge")])
    data = {**_form_data(Draft.of(deployment)), "instance_count": 2}
    form = DeploymentForm(data=data, deployment=deployment)
    assert form.is_valid(), form.errors
    deployment_apply(actor=None, draft=form.draft(), deployment=deployment)
    deployment.refresh_from_db()
    assert deployment.settings["instance_count"] == 2
    assert deployment.generation == 2


def test_a_multi_model_member_changes_only_to_a_model_of_the_endpoints_image(db: None) -> None:
    tenant = make_tenant(isolation="bridge")
    deployment = _shared("multi_model", [tenant])  # the endpoint runs the XGBoost image
    sklearn = _package(tenant, "sklearn")
    form = MemberChangeForm(
        data={"model_package": sklearn.pk}, deployment=deployment, member=deployment.members.get()
    )
    assert not form.is_valid()
    with pytest.raises(ValidationError) as refused:
        deployment_member_change(actor=None, deployment=deployment, tenant=tenant, model_package=sklearn)
    for text in (_messages(form.errors), _messages(refused.value.message_dict)):
        assert "one container image for all its models" in text
    assert deployment.members.get().pending_target == ""


def test_a_multi_model_endpoint_refuses_a_first_tenant_of_another_image(db: None) -> None:
    with pytest.raises(ValidationError, match="one container image for all its models"):
        _shared("multi_model", [make_tenant(isolation="bridge")], framework="sklearn")


def test_a_member_change_says_why_it_cannot_be_made(db: None) -> None:
    tenant = make_tenant(isolation="bridge")
    deployment = _shared("multi_model", [tenant])
    same = deployment.members.get().model_package
    with pytest.raises(ValidationError, match="already served with this model package"):
        deployment_member_change(actor=None, deployment=deployment, tenant=tenant, model_package=same)
    pool_tenant = make_tenant(isolation="pool")
    pool = deployment_apply(
        actor=None,
        draft=Draft(
            name="pool",
            kind="realtime",
            isolation="pool",
            model_package=_package(None),
            members=((pool_tenant, None),),
        ),
    )
    with pytest.raises(ValidationError, match="share its model"):
        deployment_member_change(
            actor=None, deployment=pool, tenant=pool_tenant, model_package=_package(pool_tenant)
        )
