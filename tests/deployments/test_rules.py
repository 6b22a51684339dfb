"""Every invalid combination of the rules table is refused by the form and by the service, saying why."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from deployments.advisor import Needs, advise
from deployments.forms import DeploymentForm, MemberChangeForm, MemberJoinForm
from deployments.models import ModelPackage
from deployments.rules import KIND_RULES, settings_normalise, settings_problems, timeout_text
from deployments.services import (
    Draft,
    deployment_apply,
    deployment_member_change,
    deployment_member_join,
    deployment_member_leave,
    tenant_teardown,
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
    ("batch-payload-above-100", "batch", "silo", {"max_payload_mb": 101}, "own", "between 1 and 100"),
    # 0 asks for HTTP chunked encoding, which SageMaker's own containers do not support.
    ("batch-payload-zero", "batch", "silo", {"max_payload_mb": 0}, "own", "between 1 and 100"),
    (
        "batch-invocation-timeout-above-3600",
        "batch",
        "silo",
        {"invocations_timeout_seconds": 3601},
        "own",
        "between 1 and 3600",
    ),
    ("batch-retries-above-3", "batch", "silo", {"invocations_max_retries": 4}, "own", "between 0 and 3"),
    (
        "batch-recordio-split-of-csv",
        "batch",
        "silo",
        {"split_type": "RecordIO", "content_type": "text/csv"},
        "own",
        "choose SplitType Line or None",
    ),
    (
        "batch-recordio-protobuf-split-by-line",
        "batch",
        "silo",
        {"split_type": "Line", "content_type": "application/x-recordio-protobuf"},
        "own",
        "choose SplitType RecordIO",
    ),
    (
        "batch-join-source-protobuf",
        "batch",
        "silo",
        {"join_source": "Input", "content_type": "application/x-recordio-protobuf"},
        "own",
        "only for CSV and JSON",
    ),
    (
        "batch-bad-split-type",
        "batch",
        "silo",
        {"split_type": "TFRecord"},
        "own",
        "must be one of Line, None, RecordIO",
    ),
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
    (
        "batch-on-a-type-transform-jobs-do-not-run-on",
        "batch",
        "silo",
        {"instance_type": "ml.t2.medium"},
        "own",
        "ml.t2.medium is not offered for batch transform",
    ),
    (
        "multi-model-on-gpu",
        "multi_model",
        "bridge",
        {"instance_type": "ml.g5.xlarge"},
        "none",
        "CPU instances only",
    ),
    (
        "multi-model-on-inferentia",
        "multi_model",
        "bridge",
        {"instance_type": "ml.inf2.xlarge"},
        "none",
        "needs NVIDIA Triton",
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


def test_a_multi_container_endpoint_keeps_two_containers_when_tenants_leave(db: None) -> None:
    first, second, third = (make_tenant(isolation="bridge") for _ in range(3))
    deployment = _shared("multi_container", [first, second, third])
    deployment_member_leave(actor=None, deployment=deployment, tenant=third)  # three to two: fine
    with pytest.raises(ValidationError) as refused:
        deployment_member_leave(actor=None, deployment=deployment, tenant=second)
    assert refused.value.messages == [
        f"{second} cannot leave shared yet: a multi-container endpoint runs at least 2 containers and only "
        f"{first}'s would remain. Let another tenant join first, or move {first} to another deployment "
        "and delete this one."
    ]
    assert deployment.members.exclude(state="leaving").count() == 2


def test_offboarding_holds_a_tenant_on_a_two_container_endpoint(db: None) -> None:
    first, second = make_tenant(isolation="bridge"), make_tenant(isolation="bridge")
    deployment = _shared("multi_container", [first, second])
    counts = tenant_teardown(actor=None, tenant=second)
    assert counts == {"deleting": 0, "leaving": 0, "held": 1}
    second.refresh_from_db()
    assert second.status == "offboarding"  # offboarded once the operator deletes the endpoint
    event = deployment.events.get(action="MemberLeave")
    assert event.outcome == "refused"
    assert "Let another tenant join first" in event.error


def test_the_advisor_offers_a_multi_container_endpoint_for_two_tenants_or_more(db: None) -> None:
    one = {a.kind: a for a in advise(Needs(tenants=1, same_container=False, isolation="bridge"))}
    assert not one["multi_container"].valid
    assert "runs 2 to 15 containers" in one["multi_container"].reasons[0]
    two = {a.kind: a for a in advise(Needs(tenants=2, same_container=False, isolation="bridge"))}
    assert two["multi_container"].valid


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


def test_the_form_creates_a_multi_container_endpoint_with_two_tenants(db: None) -> None:
    # AWS documents a multi-container model as more than one container (multi-container-create.html):
    # the product never sends a one-container Direct model, which the emulator refuses too.
    tenant, other = make_tenant(isolation="bridge"), make_tenant(isolation="bridge")
    data = {
        "uid": "6a3f0e0c-1d8e-4c55-9d35-2d0b6a2c1f00",
        "name": "mce",
        "kind": "multi_container",
        "isolation": "bridge",
        "tenant": "",
        "model_package": "",
        "instance_type": "ml.m5.large",
    }
    first = {"first_member": tenant.pk, "first_member_package": _package(tenant).pk}
    for refused_data in (data, {**data, **first}):
        refused = DeploymentForm(data=refused_data)
        assert not refused.is_valid()
        assert "runs 2 to 15 containers, one per tenant" in str(refused.errors["first_member"])
    twice = DeploymentForm(
        data={
            **data,
            **first,
            "second_member": tenant.pk,
            "second_member_package": first["first_member_package"],
        }
    )
    assert not twice.is_valid()
    assert "A tenant joins once" in str(twice.errors["first_member"])
    second = {"second_member": other.pk, "second_member_package": _package(other).pk}
    form = DeploymentForm(data={**data, **first, **second})
    assert form.is_valid(), form.errors
    deployment = deployment_apply(actor=None, draft=form.draft())
    assert sorted(deployment.members.values_list("target", flat=True)) == sorted([tenant.slug, other.slug])
    silo = make_tenant(isolation="silo")
    wrong = DeploymentForm(
        data={**data, **second, "first_member": silo.pk, "first_member_package": _package(silo).pk}
    )
    assert not wrong.is_valid()
    assert "can join only Silo" in str(wrong.errors["first_member"])


def test_recordio_protobuf_split_by_recordio_records_is_valid() -> None:
    recordio = {"content_type": "application/x-recordio-protobuf"}
    for split in ("RecordIO", "None"):
        settings = settings_normalise("batch", {**recordio, "split_type": split})
        assert settings_problems("batch", settings) == {}


def test_the_payload_help_says_why_zero_is_refused() -> None:
    payload = next(s for s in KIND_RULES["batch"].settings if s.name == "max_payload_mb")
    assert payload.minimum == 1
    assert "chunked encoding" in payload.help


def test_an_async_endpoint_has_no_invocation_timeout_setting() -> None:
    # InvocationTimeoutSeconds belongs to each InvokeEndpointAsync request, not to the endpoint config.
    assert "invocation_timeout_seconds" not in DeploymentForm.fields_for_kind("async")
    assert "invocation_timeout_seconds" not in settings_normalise(
        "async", {"invocation_timeout_seconds": 1800}
    )
    assert KIND_RULES["async"].timeout_default == 900


def test_the_timeout_is_stated_as_aws_applies_it() -> None:
    assert timeout_text(KIND_RULES["realtime"]) == "60 s per request"
    batch = timeout_text(KIND_RULES["batch"])
    assert batch.startswith("up to 3600 s per request")
    assert "InvocationsTimeoutInSeconds" in batch
    assert "600 s by default" in batch
    assert "per InvokeEndpointAsync request" in timeout_text(KIND_RULES["async"])


def test_the_migration_drops_the_invocation_timeout_from_existing_async_rows(db: None) -> None:
    import importlib

    from django.apps import apps

    from deployments.models import Deployment

    tenant = make_tenant(isolation="silo")
    draft = Draft(name="old", kind="async", isolation="silo", tenant=tenant, model_package=_package(tenant))
    deployment = deployment_apply(actor=None, draft=draft)
    stale = {**deployment.settings, "invocation_timeout_seconds": 1800}
    Deployment.objects.filter(pk=deployment.pk).update(settings=stale)
    migration = importlib.import_module(
        "deployments.migrations.0002_async_settings_without_invocation_timeout"
    )
    migration.drop_invocation_timeout(apps, None)
    deployment.refresh_from_db()
    assert deployment.settings == {k: v for k, v in stale.items() if k != "invocation_timeout_seconds"}


@pytest.mark.parametrize("kind", ["multi_model", "multi_container"])
def test_a_shared_endpoint_changes_its_settings_without_naming_a_first_tenant_again(
    db: None, kind: str
) -> None:
    tenants = [
        make_tenant(isolation="bridge") for _ in range(2)
    ]  # a multi-container endpoint starts with two
    deployment = _shared(kind, tenants)
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
