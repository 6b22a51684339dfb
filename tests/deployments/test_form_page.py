"""The deployment form as an operator meets it: every kind can be created from the page, every refusal
shows, and the deployment step of onboarding offers what the tenant may use (issue 9 items 5 and 8)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django import forms
from django.urls import reverse

from deployments.models import Deployment, DeploymentMember, Kind, ModelPackage, Status
from deployments.rules import settings_normalise
from saasadmin.forms import EveryErrorShown
from tests.deployments.conftest import make_package
from tests.deployments.page_forms import offered, read_form
from tests.factories import make_tenant

FORM = "deployment-form"


@pytest.fixture
def operator_client(client: Any, world: SimpleNamespace) -> Any:
    client.force_login(world.operator)
    return client


def _bridge_tenants() -> tuple[Any, Any]:
    first, second = (
        make_tenant(slug="gamma", isolation="bridge"),
        make_tenant(slug="delta", isolation="bridge"),
    )
    make_package(first)
    make_package(second)
    return first, second


def _create_through_the_page(
    client: Any, query: dict[str, Any], changes: dict[str, Any], capture: Any
) -> Deployment:
    """Open the form, change what a person would (fields the page renders only), plan, then apply."""
    page = read_form(client.get(reverse("deployment_new"), query).content.decode(), FORM)
    assert set(changes) <= set(page.fields), f"not on the page: {set(changes) - set(page.fields)}"
    plan = client.post(reverse("deployment_new"), {**page.fields, **changes, "action": "plan"})
    body = plan.content.decode()
    assert "Plan for" in body, body[body.find("flash-error") :][:800]
    submitted = read_form(body).fields  # the plan page carries the form in hidden inputs
    with capture(execute=False):
        applied = client.post(reverse("deployment_new"), {**submitted, "action": "apply"})
    assert applied.status_code == 302
    return Deployment.objects.get()


@pytest.mark.parametrize("kind", [Kind.BATCH, Kind.REALTIME, Kind.ASYNC, Kind.SERVERLESS])
def test_a_tenants_own_deployment_of_each_kind_is_created_through_the_page(
    operator_client: Any, world: SimpleNamespace, django_capture_on_commit_callbacks: Any, kind: str
) -> None:
    make_package(world.tenant_a)
    query = {"tenant": world.tenant_a.pk, "kind": kind}
    deployment = _create_through_the_page(operator_client, query, {}, django_capture_on_commit_callbacks)
    assert (deployment.kind, deployment.tenant, deployment.status) == (kind, world.tenant_a, Status.PENDING)
    assert deployment.model_package == ModelPackage.objects.get(tenant=world.tenant_a)


def test_a_multi_model_endpoint_is_created_through_the_page_with_its_first_tenant(
    operator_client: Any, world: SimpleNamespace, django_capture_on_commit_callbacks: Any
) -> None:
    gamma, _ = _bridge_tenants()
    query = {"tenant": gamma.pk}  # a Bridge tenant's deployment step: a shared multi-model endpoint
    deployment = _create_through_the_page(operator_client, query, {}, django_capture_on_commit_callbacks)
    assert (deployment.kind, deployment.tenant, deployment.isolation) == (Kind.MULTI_MODEL, None, "bridge")
    assert [m.tenant for m in deployment.members.all()] == [gamma]


def test_a_multi_container_endpoint_is_created_through_the_page_with_two_tenants(
    operator_client: Any, world: SimpleNamespace, django_capture_on_commit_callbacks: Any
) -> None:
    gamma, delta = _bridge_tenants()
    query = {"tenant": gamma.pk, "kind": Kind.MULTI_CONTAINER}
    second = {"second_member": delta.pk, "second_member_package": ModelPackage.objects.get(tenant=delta).pk}
    deployment = _create_through_the_page(operator_client, query, second, django_capture_on_commit_callbacks)
    assert deployment.kind == Kind.MULTI_CONTAINER
    assert {m.tenant for m in deployment.members.all()} == {gamma, delta}


def test_a_shared_pool_endpoint_is_created_through_the_page_with_a_shared_model(
    operator_client: Any, world: SimpleNamespace, django_capture_on_commit_callbacks: Any
) -> None:
    wayne = make_tenant(slug="wayne", isolation="pool")
    shared = make_package(None)
    query = {"tenant": wayne.pk}
    deployment = _create_through_the_page(operator_client, query, {}, django_capture_on_commit_callbacks)
    assert (deployment.kind, deployment.isolation, deployment.model_package) == (
        Kind.REALTIME,
        "pool",
        shared,
    )
    assert [m.tenant for m in deployment.members.all()] == [wayne]


def test_a_multi_container_endpoint_with_one_tenant_says_why_beside_the_tenant(
    operator_client: Any, world: SimpleNamespace
) -> None:
    gamma, _ = _bridge_tenants()
    query = {"tenant": gamma.pk, "kind": Kind.MULTI_CONTAINER}
    page = read_form(operator_client.get(reverse("deployment_new"), query).content.decode(), FORM)
    body = operator_client.post(reverse("deployment_new"), {**page.fields, "action": "plan"}).content.decode()
    assert "choose at least two tenants" in body
    assert not Deployment.objects.exists()


def test_an_error_on_a_field_the_page_does_not_show_is_shown_with_the_forms_errors(
    operator_client: Any, world: SimpleNamespace
) -> None:
    make_package(world.tenant_a)
    page = read_form(
        operator_client.get(reverse("deployment_new"), {"tenant": world.tenant_a.pk}).content.decode()
    )
    data = {**page.fields, "uid": "not-a-uuid", "action": "plan"}  # a hidden input: no place of its own
    body = operator_client.post(reverse("deployment_new"), data).content.decode()
    assert "Deployment id: Enter a valid UUID." in body
    assert not Deployment.objects.exists()


def test_every_error_of_a_field_left_off_the_page_joins_the_non_field_errors() -> None:
    class Partial(EveryErrorShown):
        shown = forms.CharField()
        left_out = forms.IntegerField(label="Left out")
        secret = forms.CharField(widget=forms.HiddenInput)

        def shown_fields(self) -> list[str]:
            return ["shown", "secret"]

    form = Partial(data={"shown": "", "left_out": "x", "secret": ""})
    assert not form.is_valid()
    assert list(form.non_field_errors()) == [
        "Left out: Enter a whole number.",
        "Secret: This field is required.",
    ]
    assert form["shown"].errors == ["This field is required."]  # shown beside its field, not twice
    # A service's refusal keyed by its own names (not fields of the form) is shown too, not a 500.
    form.add_error(None, forms.ValidationError({"members": ["Choose two tenants."], "shown": ["Too short."]}))
    form.add_error("members", "Choose different tenants.")
    assert "Choose two tenants." in form.non_field_errors()
    assert "Choose different tenants." in form.non_field_errors()
    assert "Too short." in form["shown"].errors


def test_the_edit_page_does_not_offer_member_fields_and_any_error_there_still_shows(
    operator_client: Any, world: SimpleNamespace
) -> None:
    package = make_package(world.tenant_a)
    deployment = Deployment.objects.create(
        tenant=world.tenant_a, name="alpha-rt", kind=Kind.REALTIME, isolation="silo", aws_name="sa-alpha-rt",
        model_package=package, settings=settings_normalise(Kind.REALTIME, {}), status=Status.IN_SERVICE,
    )  # fmt: skip
    page = read_form(
        operator_client.get(reverse("deployment_edit", args=[deployment.pk])).content.decode(), FORM
    )
    assert "first_member" not in page.fields
    assert not DeploymentMember.objects.exists()


# The deployment step of onboarding (issue 9 item 8).


def test_the_deployment_step_offers_only_the_tenants_own_and_shared_packages_with_an_upload_link(
    operator_client: Any, world: SimpleNamespace
) -> None:
    own, theirs, shared = make_package(world.tenant_a), make_package(world.tenant_b), make_package(None)
    step = operator_client.get(reverse("deployment_new"), {"tenant": world.tenant_a.pk}).content.decode()
    page = read_form(step, FORM)
    assert offered(page, "model_package") == [str(shared.pk), str(own.pk)]
    assert str(theirs.pk) not in offered(page, "model_package")
    assert page.fields["model_package"] == str(own.pk)  # the tenant's newest model, ready to plan
    upload = f"{reverse('model_package_upload')}?next=%2Fdeployments%2Fnew%2F%3Ftenant%3D{world.tenant_a.pk}"
    assert f'href="{upload}&amp;tenant={world.tenant_a.pk}"' in step


def test_an_upload_from_the_deployment_step_comes_back_to_it(
    operator_client: Any, world: SimpleNamespace, aws: Any
) -> None:
    import io

    from tests.deployments.conftest import BUCKET

    step = f"{reverse('deployment_new')}?tenant={world.tenant_a.pk}"
    query = {"tenant": world.tenant_a.pk, "next": step}
    upload_page = operator_client.get(reverse("model_package_upload"), query).content.decode()
    form = read_form(upload_page, action=reverse("model_package_upload"))
    assert form.fields["tenant"] == str(world.tenant_a.pk)  # preselected
    assert form.fields["next"] == step
    archive = io.BytesIO(aws.s3.get_object(Bucket=BUCKET, Key="models/alpha/model.tar.gz")["Body"].read())
    archive.name = "model.tar.gz"
    data = {**form.fields, "framework": "xgboost", "version": "3.0-5", "archive": archive}
    response = operator_client.post(reverse("model_package_upload"), data)
    assert response.status_code == 302
    assert response["Location"] == step
    back = read_form(operator_client.get(step).content.decode(), FORM)
    assert back.fields["model_package"] == str(ModelPackage.objects.get(tenant=world.tenant_a).pk)


def test_an_upload_never_sends_the_operator_off_site(operator_client: Any, world: SimpleNamespace) -> None:
    body = operator_client.get(reverse("model_package_upload"), {"next": "https://evil.example/"}).content
    assert b"evil.example" not in body


def _shared(name: str, kind: str, isolation: str, members: list[Any], **fields: Any) -> Deployment:
    deployment = Deployment.objects.create(
        name=name, kind=kind, isolation=isolation, aws_name=f"sa-shared-{name}",
        settings=settings_normalise(kind, {}), status=fields.pop("status", Status.IN_SERVICE), **fields,
    )  # fmt: skip
    for tenant in members:
        DeploymentMember.objects.create(
            deployment=deployment, tenant=tenant, target=tenant.slug, state="active"
        )
    return deployment


def test_a_bridge_tenant_refused_a_dedicated_kind_is_offered_the_shared_endpoints_it_can_join(
    operator_client: Any, world: SimpleNamespace
) -> None:
    gamma, delta = _bridge_tenants()
    others = [make_tenant(isolation="bridge") for _ in range(15)]
    open_mme = _shared("bridge-mme", Kind.MULTI_MODEL, "bridge", [delta])
    full_mce = _shared("full-mce", Kind.MULTI_CONTAINER, "bridge", others)
    gone = _shared("gone-mme", Kind.MULTI_MODEL, "bridge", [delta], status=Status.DELETED)
    pool = _shared("pool-rt", Kind.REALTIME, "pool", [])
    serving = _shared("serving-mme", Kind.MULTI_MODEL, "bridge", [gamma])
    page = read_form(
        operator_client.get(reverse("deployment_new"), {"tenant": gamma.pk}).content.decode(), FORM
    )
    data = {**page.fields, "tenant": gamma.pk, "kind": Kind.REALTIME, "action": "plan"}  # dedicated: refused
    body = operator_client.post(f"{reverse('deployment_new')}?tenant={gamma.pk}", data).content.decode()
    assert "A real-time endpoint runs only in Pool or Silo" in body
    assert f'href="{reverse("member_join", args=[open_mme.pk])}?tenant={gamma.pk}"' in body
    for unjoinable in (full_mce, gone, pool, serving):
        assert reverse("member_join", args=[unjoinable.pk]) not in body
    join = operator_client.get(
        reverse("member_join", args=[open_mme.pk]), {"tenant": gamma.pk}
    ).content.decode()
    form = read_form(join)
    assert form.fields["tenant"] == str(gamma.pk)  # the link arrives with the tenant chosen
    assert offered(form, "model_package") == [str(ModelPackage.objects.get(tenant=gamma).pk)]


@pytest.mark.parametrize("isolation", ["silo", "bridge", "pool", None])
def test_the_forms_defaults_agree_with_each_other_and_the_tenant(
    operator_client: Any, world: SimpleNamespace, isolation: str | None
) -> None:
    tenant = make_tenant(slug="omega", isolation=isolation) if isolation else None
    if tenant:
        make_package(tenant)
    make_package(None)
    query = {"tenant": tenant.pk} if tenant else {}
    page = read_form(operator_client.get(reverse("deployment_new"), query).content.decode(), FORM)
    kind, chosen = page.fields["kind"], page.fields["isolation"]
    assert chosen == (isolation or "bridge")
    body = operator_client.post(reverse("deployment_new"), {**page.fields, "action": "plan"}).content.decode()
    if tenant:
        assert "Plan for" in body  # kind, isolation, owner or first tenant and model: a valid whole
    else:  # a shared endpoint, whose first tenants are still to choose: nothing else is refused
        assert (kind, page.fields["tenant"]) == (Kind.MULTI_MODEL, "")
        errors = read_form(body, FORM)
        assert "needs at least one tenant" in body
        assert "choose the tenant" not in body
        assert errors.fields["kind"] == Kind.MULTI_MODEL


def test_tenants_left_in_the_hidden_member_fields_do_not_join_a_tenants_own_deployment(
    operator_client: Any, world: SimpleNamespace, django_capture_on_commit_callbacks: Any
) -> None:
    gamma, _ = _bridge_tenants()
    make_package(world.tenant_a)
    # The page was first a shared endpoint for gamma, then switched to Alpha's own: gamma stays in the
    # (now hidden) member fields, and must not become a member of Alpha's endpoint.
    changes = {"first_member": gamma.pk}
    query = {"tenant": world.tenant_a.pk}
    deployment = _create_through_the_page(operator_client, query, changes, django_capture_on_commit_callbacks)
    assert deployment.tenant == world.tenant_a
    assert not deployment.members.exists()


def test_the_service_refuses_members_on_a_tenants_own_deployment(world: SimpleNamespace) -> None:
    from django.core.exceptions import ValidationError

    from deployments.services import Draft, deployment_apply

    package = make_package(world.tenant_a)
    draft = Draft(
        name="x", kind=Kind.REALTIME, isolation="silo", tenant=world.tenant_a, model_package=package,
        members=((world.tenant_b, None),),
    )  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        deployment_apply(actor=None, draft=draft)
    assert (
        "A Silo real-time endpoint is one tenant's own: it has no member tenants." in refused.value.messages
    )
