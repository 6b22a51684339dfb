"""The deployment pages as an operator uses them: plan before apply, rules refused with why, actions."""

from __future__ import annotations

import io
import re
import tarfile
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from deployments.models import Deployment, Kind, ModelPackage, Status
from deployments.rules import settings_normalise
from deployments.services import model_package_register


@pytest.fixture
def operator_client(client: Any, world: SimpleNamespace) -> Any:
    client.force_login(world.operator)
    return client


@pytest.fixture
def alpha_package(world: SimpleNamespace) -> ModelPackage:
    return model_package_register(
        actor=None,
        tenant=world.tenant_a,
        framework="xgboost",
        version="3.0-5",
        model_data_url="s3://saasadmin-tests/models/alpha/model.tar.gz",
    )


def _form(world: SimpleNamespace, package: ModelPackage, **changes: Any) -> dict[str, Any]:
    data = {
        "uid": "6f0d3b3e-8a41-4a6f-9a55-0b8c2f6e7d10",
        "name": "alpha-realtime",
        "kind": Kind.REALTIME,
        "isolation": "silo",
        "tenant": str(world.tenant_a.pk),
        "model_package": str(package.pk),
        "instance_type": "ml.m5.large",
        "instance_count": "1",
        "payload_mb": "1",
    }
    data.update(changes)
    return data


def test_the_plan_comes_first_and_names_the_resources(
    operator_client: Any, world: SimpleNamespace, alpha_package: ModelPackage
) -> None:
    response = operator_client.post(
        reverse("deployment_new"), {**_form(world, alpha_package), "action": "plan"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Plan for alpha-realtime" in body
    assert "ml.m5.large" in body
    assert "Endpoint" in body
    assert "$83.95" in body  # 730 h x $0.115, from the pricing catalogue
    assert not Deployment.objects.exists()  # nothing created before apply


def test_apply_saves_the_desired_state_with_the_planned_names(
    operator_client: Any,
    world: SimpleNamespace,
    alpha_package: ModelPackage,
    django_capture_on_commit_callbacks: Any,
) -> None:
    data = _form(world, alpha_package)
    plan = operator_client.post(reverse("deployment_new"), {**data, "action": "plan"}).content.decode()
    with django_capture_on_commit_callbacks(execute=False):
        response = operator_client.post(reverse("deployment_new"), {**data, "action": "apply"})
    deployment = Deployment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("deployment_detail", args=[deployment.pk])
    assert deployment.status == Status.PENDING
    assert deployment.aws_name in plan  # the plan showed the very names that will be created


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": Kind.SERVERLESS, "isolation": "bridge"}, "Silo"),
        ({"kind": Kind.MULTI_MODEL, "isolation": "silo"}, "Bridge or Pool"),
        ({"payload_mb": "50"}, "asynchronous endpoint"),
        ({"instance_type": "ml.z9.huge"}, "not offered"),
        ({"kind": Kind.SERVERLESS, "memory_mb": "1500", "max_concurrency": "5"}, "must be one of"),
        ({"kind": Kind.SERVERLESS, "memory_mb": "2048", "max_concurrency": "500"}, "between 1 and 200"),
        ({"kind": Kind.BATCH, "max_payload_mb": "50", "max_concurrent_transforms": "4"}, "100 MB limit"),
        ({"kind": Kind.BATCH, "invocations_timeout_seconds": "7200"}, "between 1 and 3600"),
        ({"kind": Kind.BATCH, "max_payload_mb": "0"}, "between 1 and 100"),
    ],
)
def test_the_form_refuses_invalid_combinations_and_says_why(
    operator_client: Any,
    world: SimpleNamespace,
    alpha_package: ModelPackage,
    changes: dict[str, str],
    message: str,
) -> None:
    response = operator_client.post(
        reverse("deployment_new"), {**_form(world, alpha_package, **changes), "action": "plan"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert message in body
    assert "alpha-realtime" in body  # what was typed is kept
    assert not Deployment.objects.exists()


def test_the_form_page_offers_only_the_instance_types_of_the_chosen_kind(operator_client: Any) -> None:
    body = operator_client.get(reverse("deployment_new"), {"kind": Kind.BATCH}).content.decode()
    assert re.search(
        r'<option value="ml.t2.medium"[^>]*data-kinds="realtime async multi_model multi_container"', body
    )
    assert re.search(r'<option value="ml.t2.medium"[^>]* disabled', body)  # not for batch transform
    assert re.search(r'<option value="ml.m5.large"(?![^>]* disabled)[^>]*>', body)
    body = operator_client.get(reverse("deployment_new"), {"kind": Kind.MULTI_MODEL}).content.decode()
    assert re.search(r'<option value="ml.g5.xlarge"[^>]* disabled', body)  # multi-model: CPU only


def test_a_tenant_page_offers_the_deployment_step(operator_client: Any, world: SimpleNamespace) -> None:
    body = operator_client.get(reverse("tenant_detail", args=[world.tenant_a.pk])).content.decode()
    assert f"{reverse('deployment_new')}?tenant={world.tenant_a.pk}" in body
    form = operator_client.get(reverse("deployment_new"), {"tenant": str(world.tenant_a.pk)}).content.decode()
    assert "alpha-model" in form


def _deployment(world: SimpleNamespace, status: str, **fields: Any) -> Deployment:
    defaults = {"kind": Kind.REALTIME, "settings": settings_normalise(Kind.REALTIME, {})}
    return Deployment.objects.create(
        tenant=world.tenant_a,
        name="alpha-rt",
        isolation="silo",
        aws_name="sa-alpha-rt",
        status=status,
        **{**defaults, **fields},
    )


def test_a_batch_saved_on_a_withdrawn_type_shows_no_price_and_asks_for_another(
    operator_client: Any, world: SimpleNamespace
) -> None:
    settings = settings_normalise(Kind.BATCH, {"instance_type": "ml.t2.medium"})
    deployment = _deployment(world, Status.IN_SERVICE, kind=Kind.BATCH, settings=settings)
    detail = operator_client.get(reverse("deployment_detail", args=[deployment.pk])).content.decode()
    assert "ml.t2.medium is not offered for batch transform" in detail
    edit = operator_client.get(reverse("deployment_edit", args=[deployment.pk])).content.decode()
    saved = re.search(r'<option value="ml.t2.medium"[^>]*>[^<]*<', edit)
    assert saved
    assert "selected" in saved.group()
    assert " disabled" not in saved.group()  # a disabled choice would not be posted: silently replaced
    assert "not offered for this kind" in saved.group()
    assert re.search(r'<option value="ml.m5.large"(?![^>]* disabled)[^>]*>', edit)
    assert re.search(r'<option value="ml.c5.large"[^>]* disabled', edit)


def test_a_failed_deployment_shows_why_and_can_be_retried(
    operator_client: Any, world: SimpleNamespace, django_capture_on_commit_callbacks: Any
) -> None:
    deployment = _deployment(
        world, Status.FAILED, last_error="Could not find model data at s3://x/model.tar.gz"
    )
    body = operator_client.get(reverse("deployment_detail", args=[deployment.pk])).content.decode()
    assert "Could not find model data" in body
    assert "retry" in body.lower()
    with django_capture_on_commit_callbacks(execute=False):
        operator_client.post(reverse("deployment_retry", args=[deployment.pk]))
    deployment.refresh_from_db()
    assert deployment.status == Status.PENDING


def test_only_failed_deployments_retry(operator_client: Any, world: SimpleNamespace) -> None:
    deployment = _deployment(world, Status.IN_SERVICE)
    response = operator_client.post(reverse("deployment_retry", args=[deployment.pk]), follow=True)
    assert "Only a failed deployment can be retried" in response.content.decode()
    deployment.refresh_from_db()
    assert deployment.status == Status.IN_SERVICE


def test_a_pending_deployment_can_be_cancelled(
    operator_client: Any, world: SimpleNamespace, django_capture_on_commit_callbacks: Any
) -> None:
    deployment = _deployment(world, Status.PENDING)
    with django_capture_on_commit_callbacks(execute=False):
        operator_client.post(reverse("deployment_cancel", args=[deployment.pk]))
    deployment.refresh_from_db()
    assert deployment.status == Status.DELETING


def test_the_live_part_polls_only_while_moving(operator_client: Any, world: SimpleNamespace) -> None:
    deployment = _deployment(world, Status.CREATING)
    body = operator_client.get(reverse("deployment_live", args=[deployment.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in body
    Deployment.objects.filter(pk=deployment.pk).update(status=Status.IN_SERVICE)
    body = operator_client.get(reverse("deployment_live", args=[deployment.pk])).content.decode()
    assert "hx-trigger" not in body


def test_the_fleet_filters_and_counts(operator_client: Any, world: SimpleNamespace) -> None:
    _deployment(world, Status.FAILED)
    body = operator_client.get(reverse("deployment_fleet"), {"status": "failed"}).content.decode()
    assert "alpha-rt" in body
    body = operator_client.get(reverse("deployment_fleet"), {"kind": Kind.BATCH}).content.decode()
    assert "alpha-rt" not in body
    assert operator_client.get(reverse("deployment_fleet"), {"kind": "bogus", "page": "x"}).status_code == 200


def test_the_fleet_query_count_does_not_grow(operator_client: Any, world: SimpleNamespace) -> None:
    for i in range(3):
        Deployment.objects.create(
            tenant=world.tenant_a, name=f"d{i}", kind=Kind.REALTIME, isolation="silo", aws_name=f"sa-d{i}"
        )
    with CaptureQueriesContext(connection) as few:
        operator_client.get(reverse("deployment_fleet"))
    for i in range(3, 40):
        Deployment.objects.create(
            tenant=world.tenant_b, name=f"d{i}", kind=Kind.ASYNC, isolation="silo", aws_name=f"sa-d{i}"
        )
    with CaptureQueriesContext(connection) as many:
        operator_client.get(reverse("deployment_fleet"))
    assert len(many) == len(few)


def test_the_advisor_ranks_valid_kinds_with_costs(operator_client: Any, world: SimpleNamespace) -> None:
    params = {"latency": "milliseconds", "payload_mb": "1", "requests_per_day": "5000", "peak_rps": "1",
              "traffic": "steady", "tenants": "500", "own_model": "on", "same_container": "on",
              "inference_ms": "50", "isolation": ""}  # fmt: skip
    body = operator_client.get(reverse("advisor"), params).content.decode()
    assert "Multi-model endpoint" in body
    assert "not valid" in body  # refused kinds are listed with the reason
    assert "$" in body


def test_the_advisor_shows_the_fleet_comparison_by_default(
    operator_client: Any, world: SimpleNamespace
) -> None:
    body = operator_client.get(reverse("advisor")).content.decode()
    assert "500 tenants" in body
    assert "Multi-model endpoint" in body
    assert "Real-time endpoint" in body


def _tarball(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"not a tarball at all", "tar"),
        (_tarball({"model.joblib": b"x"}), "xgboost-model"),
    ],
)
def test_uploads_are_checked_before_they_are_accepted(
    operator_client: Any, world: SimpleNamespace, payload: bytes, message: str
) -> None:
    upload = io.BytesIO(payload)
    upload.name = "model.tar.gz"
    data = {"tenant": str(world.tenant_a.pk), "framework": "xgboost", "version": "3.0-5", "archive": upload}
    response = operator_client.post(reverse("model_package_upload"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ModelPackage.objects.exists()


def test_tenant_members_see_how_their_model_is_served_and_nothing_else(
    client: Any, world: SimpleNamespace
) -> None:
    _deployment(world, Status.IN_SERVICE)
    Deployment.objects.create(
        tenant=world.tenant_b,
        name="beta-rt",
        kind=Kind.SERVERLESS,
        isolation="silo",
        aws_name="sa-beta-secret",
    )
    client.force_login(world.viewer_a)
    body = client.get(reverse("tenant_detail", args=[world.tenant_a.pk])).content.decode()
    assert "Your model" in body
    assert "Real-time endpoint" in body
    assert "sa-alpha-rt" not in body  # no AWS internals
    assert "Serverless" not in body  # nothing of another tenant


def test_an_upload_that_passes_the_checks_lands_in_the_tenants_s3_prefix(
    operator_client: Any, world: SimpleNamespace, aws: Any
) -> None:
    from tests.deployments.conftest import BUCKET

    body = aws.s3.get_object(Bucket=BUCKET, Key="models/alpha/model.tar.gz")["Body"].read()
    upload = io.BytesIO(body)
    upload.name = "model.tar.gz"
    data = {"tenant": str(world.tenant_a.pk), "framework": "xgboost", "version": "3.0-5", "archive": upload}
    response = operator_client.post(reverse("model_package_upload"), data)
    assert response.status_code == 302
    package = ModelPackage.objects.get(tenant=world.tenant_a)
    assert package.model_data_url.startswith(f"s3://{BUCKET}/models/alpha/")
    key = package.model_data_url.removeprefix(f"s3://{BUCKET}/")
    assert aws.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == body
    assert "sagemaker-xgboost:3.0-5" in package.image_uri


def test_a_tenant_joins_a_shared_endpoint_after_seeing_the_plan(
    operator_client: Any, world: SimpleNamespace, package: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from tests.factories import make_tenant

    first, joining = (
        make_tenant(slug="gamma", isolation="bridge"),
        make_tenant(slug="delta", isolation="bridge"),
    )
    shared = _shared_in_service(Kind.MULTI_MODEL, "bridge-mme", [(first, package(first), "gamma.tar.gz")])
    data = {"tenant": str(joining.pk), "model_package": str(package(joining).pk)}
    plan = operator_client.post(reverse("member_join", args=[shared.pk]), {**data, "action": "plan"})
    assert f"Add {joining.name} to bridge-mme" in plan.content.decode()
    assert not shared.members.filter(tenant=joining).exists()  # nothing before apply
    with django_capture_on_commit_callbacks(execute=False):
        response = operator_client.post(reverse("member_join", args=[shared.pk]), {**data, "action": "apply"})
    assert response.status_code == 302
    assert shared.members.get(tenant=joining).state == "joining"


def test_a_silo_tenant_cannot_join_a_bridge_endpoint(
    operator_client: Any, world: SimpleNamespace, package: Any
) -> None:
    shared = Deployment.objects.create(
        name="bridge-mme", kind=Kind.MULTI_MODEL, isolation="bridge", aws_name="sa-shared-mm-test2",
        status=Status.IN_SERVICE, settings=settings_normalise(Kind.MULTI_MODEL, {}),
    )  # fmt: skip
    data = {
        "tenant": str(world.tenant_a.pk),
        "model_package": str(package(world.tenant_a).pk),
        "action": "plan",
    }
    response = operator_client.post(reverse("member_join", args=[shared.pk]), data)
    assert response.status_code == 200
    assert not shared.members.exists()
    assert "Select a valid choice" in response.content.decode()  # only Bridge tenants are offered


def test_the_last_but_one_tenant_of_a_multi_container_endpoint_is_told_why_it_cannot_leave(
    operator_client: Any, world: SimpleNamespace, package: Any
) -> None:
    from tests.factories import make_tenant

    gamma, delta = (
        make_tenant(slug="gamma", isolation="bridge"),
        make_tenant(slug="delta", isolation="bridge"),
    )
    members = [(tenant, package(tenant), tenant.slug) for tenant in (gamma, delta)]
    shared = _shared_in_service(Kind.MULTI_CONTAINER, "bridge-mce", members)
    response = operator_client.post(reverse("member_leave", args=[shared.pk, delta.pk]), follow=True)
    assert "cannot leave bridge-mce yet" in response.content.decode()
    assert shared.members.get(tenant=delta).state == "active"


def _shared_in_service(kind: str, name: str, members: list[tuple[Any, ModelPackage, str]]) -> Deployment:
    """A shared deployment in service with active members (tenant, package, target), without AWS."""
    from deployments.models import DeploymentMember

    shared = Deployment.objects.create(
        name=name, kind=kind, isolation="bridge", aws_name=f"sa-{name}-test", status=Status.IN_SERVICE,
        settings=settings_normalise(kind, {}),
    )  # fmt: skip
    for tenant, package, target in members:
        DeploymentMember.objects.create(
            deployment=shared, tenant=tenant, model_package=package, target=target, state="active"
        )
    return shared


def _bridge_mme(package: Any, slug: str = "gamma") -> tuple[Deployment, Any]:
    from deployments.models import DeploymentMember
    from tests.factories import make_tenant

    tenant = make_tenant(slug=slug, isolation="bridge")
    shared = Deployment.objects.create(
        name="bridge-mme", kind=Kind.MULTI_MODEL, isolation="bridge", aws_name=f"sa-shared-mm-{slug}",
        status=Status.IN_SERVICE, settings=settings_normalise(Kind.MULTI_MODEL, {}),
    )  # fmt: skip
    DeploymentMember.objects.create(
        deployment=shared, tenant=tenant, model_package=package(tenant), target="gamma-v1-g1.tar.gz",
        state="active",
    )  # fmt: skip
    return shared, tenant


def test_a_member_changes_its_model_after_seeing_the_plan(
    operator_client: Any, package: Any, django_capture_on_commit_callbacks: Any
) -> None:
    shared, gamma = _bridge_mme(package)
    newer = package(gamma, key="delta")  # gamma's version 2
    url = reverse("member_change", args=[shared.pk, gamma.pk])
    assert f'value="{newer.pk}"' in operator_client.get(url).content.decode()
    plan = operator_client.post(url, {"model_package": newer.pk, "action": "plan"}).content.decode()
    prefix = "s3://saasadmin-tests/mme/sa-shared-mm-gamma/"
    assert f"{prefix}gamma-v2-g2.tar.gz" in plan  # copied to a new name
    assert f"{prefix}gamma-v1-g1.tar.gz" in plan  # and the old one removed after the switch
    assert "once gamma-v2-g2.tar.gz serves" in plan
    assert shared.members.get().pending_target == ""  # nothing before apply
    with django_capture_on_commit_callbacks(execute=False):
        response = operator_client.post(url, {"model_package": newer.pk, "action": "apply"})
    assert response.status_code == 302
    member = shared.members.get()
    assert (member.target, member.pending_target, member.model_package) == (
        "gamma-v1-g1.tar.gz",
        "gamma-v2-g2.tar.gz",
        newer,
    )
    detail = operator_client.get(reverse("deployment_detail", args=[shared.pk])).content.decode()
    assert "→ gamma-v2-g2.tar.gz" in detail
    tenant_page = operator_client.get(reverse("tenant_detail", args=[gamma.pk])).content.decode()
    assert "<code>gamma-v1-g1.tar.gz</code> → <code>gamma-v2-g2.tar.gz</code>" in tenant_page


def test_removing_the_last_tenant_of_a_multi_model_endpoint_says_it_is_deleted(
    operator_client: Any, package: Any
) -> None:
    shared, gamma = _bridge_mme(package)
    page = operator_client.get(reverse("member_leave", args=[shared.pk, gamma.pk])).content.decode()
    assert "It is the last tenant" in page
    assert "the endpoint, its configs and its model are deleted" in page
